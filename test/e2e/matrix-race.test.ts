/**
 * A release matrix: every job creates the same artifact version at the same moment. The registry lets
 * one create win; all jobs must still succeed, on one version.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startFaultProxy, type FaultProxy } from '../helpers/fault-proxy.js';
import { runAction } from '../helpers/run-action.js';
import { publishInputs, startScene, writeTestFile, type Scene } from './scene.js';

const TARGETS = [
  'aarch64-linux-gnu',
  'armv7-linux-gnueabihf',
  'x86_64-linux-gnu',
  'riscv64-linux-gnu',
  'mips-linux-gnu',
  'powerpc64le-linux-gnu',
  'aarch64-linux-musl',
  'x86_64-linux-musl',
  'universal',
];

let scene: Scene;
let proxy: FaultProxy;

beforeAll(async () => {
  scene = await startScene();
  proxy = await startFaultProxy({ target: scene.registry.baseUrl });
});
afterAll(async () => {
  await proxy?.close();
  await scene?.stop();
});

it(`${TARGETS.length} matrix jobs publishing the same new version at once all succeed, on one version`, async () => {
  const files = await Promise.all(TARGETS.map((t) => writeTestFile(scene.dir, `${t}.img`, 64 * 1024)));
  // Hold the answers of the first lookups (after the registry has read) so that every job sees "no such
  // artifact / version" and tries to create it: the race is certain, not left to process start-up timing.
  for (const path of [/^\/artifacts\?.*search=/, /^\/artifact_versions\?.*search=/]) {
    proxy.addRule({
      method: 'GET',
      path,
      times: TARGETS.length,
      action: { kind: 'stall-response', ms: 1500 },
    });
  }
  const runs = await Promise.all(
    TARGETS.map((target, i) =>
      runAction(
        'publish-binary',
        publishInputs(scene, files[i]!, { artifact: 'matrix-fw', target, 'base-url': proxy.url }),
        {
          env: { GITHUB_REF: 'refs/tags/v3.0.0' },
          timeoutMs: 120_000,
        },
      ),
    ),
  );
  for (const run of runs) expect(run.code, run.stdout + run.stderr).toBe(0);
  const lostVersionRace = runs.filter((r) => /POST \/artifact_versions -> (409|422)/.test(r.stdout));
  expect(lostVersionRace.length).toBeGreaterThanOrEqual(TARGETS.length - 1);

  const versionPrns = new Set(runs.map((r) => r.outputs['artifact-version-prn']));
  expect(versionPrns.size).toBe(1);
  expect(new Set(runs.map((r) => r.outputs['artifact-prn'])).size).toBe(1);
  // Exactly one job created it; the others found it (or lost the race and read the winner's).
  expect(runs.filter((r) => r.outputs.created === 'true')).toHaveLength(1);

  const artifacts = await scene.api<{ artifacts: { name: string; prn: string }[] }>(
    'GET',
    '/artifacts?limit=100',
  );
  expect(artifacts.body.artifacts.filter((a) => a.name === 'matrix-fw')).toHaveLength(1);
  const versions = await scene.api<{ artifact_versions: { version: string; prn: string }[] }>(
    'GET',
    '/artifact_versions?limit=100',
  );
  expect(versions.body.artifact_versions.filter((v) => v.version === '3.0.0').map((v) => v.prn)).toEqual([
    ...versionPrns,
  ]);

  const binaries = await scene.api<{ binaries: { target: string; state: string; hash: string }[] }>(
    'GET',
    `/binaries?limit=100&search=${encodeURIComponent(`artifact_version_prn:'${[...versionPrns][0]}'`)}`,
  );
  expect(binaries.body.binaries.map((b) => b.target).sort()).toEqual([...TARGETS].sort());
  expect(binaries.body.binaries.every((b) => b.state === 'signed')).toBe(true);
});
