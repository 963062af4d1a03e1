/**
 * The fan-in release job against the real registry process, with the bundled actions run as the runner
 * runs them: bundle the matrix's binaries, release the bundle to a cohort (created by name), then verify
 * as a device would. Every step re-run changes nothing.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { ActionRun } from '../helpers/run-action.js';
import {
  apiInputs,
  expectSuccess,
  publishMatrix,
  startScene,
  step,
  TARGETS,
  type Scene,
} from './release-helpers.js';

let scene: Scene;
let bundle: ActionRun;
let release: ActionRun;
let verify: ActionRun;
let published: Awaited<ReturnType<typeof publishMatrix>>;

const bundleInputs = () => ({
  ...apiInputs(scene),
  artifact: 'firmware',
  'expect-targets': TARGETS.join('\n'),
});
const releaseInputs = () => ({
  ...apiInputs(scene),
  'bundle-prn': bundle.outputs['bundle-prn']!,
  cohort: 'production',
  product: 'gateway',
});
const verifyInputs = () => ({
  ...apiInputs(scene),
  device: 'ci-test-device',
  'create-device': 'true',
  cohort: release.outputs['cohort-prn']!,
  'release-version': '0.9.0',
  'expect-bundle-prn': bundle.outputs['bundle-prn']!,
  'expect-targets': TARGETS.join('\n'),
  'trusted-signing-keys': scene.key.publicPem,
  write: 'true',
});

beforeAll(async () => {
  scene = await startScene();
  published = await publishMatrix(scene);
}, 120_000);
afterAll(async () => {
  await scene?.stop();
});

it('create-bundle bundles every target of the tag, in target order, and says it created the bundle', async () => {
  bundle = await step('create-bundle', bundleInputs());
  expectSuccess(bundle);
  expect(bundle.outputs.created).toBe('true');
  const binaries = JSON.parse(bundle.outputs.binaries!) as {
    target: string;
    binary_prn: string;
    hash: string;
    size: number;
  }[];
  expect(binaries.map((b) => b.target)).toEqual([...TARGETS].sort());
  for (const b of binaries) {
    const p = published.get(b.target)!;
    expect(b).toEqual({
      target: b.target,
      binary_prn: p.run.outputs['binary-prn'],
      hash: p.file.sha256,
      size: p.file.size,
    });
  }
  const stored = await scene.api<{ bundle: { name: string; hash: string; binaries: { prn: string }[] } }>(
    'GET',
    `/bundles/${bundle.outputs['bundle-prn']}`,
  );
  expect(stored.body.bundle.name).toBe('firmware@1.0.0');
  expect(stored.body.bundle.hash).toBe(bundle.outputs['bundle-hash']);
  expect(stored.body.bundle.binaries.map((b) => b.prn)).toEqual(binaries.map((b) => b.binary_prn));
});

it('create-release creates product and cohort by name and releases the bundle with the tag as name and version', async () => {
  release = await step('create-release', releaseInputs());
  expectSuccess(release);
  expect(release.outputs).toMatchObject({ created: 'true', 'phase-value': '1' });
  const r = (
    await scene.api<{ release: Record<string, unknown> }>(
      'GET',
      `/releases/${release.outputs['release-prn']}`,
    )
  ).body.release;
  expect(r).toMatchObject({
    name: 'v1.0.0',
    version: '1.0.0',
    version_requirement: '< 1.0.0',
    bundle_prn: bundle.outputs['bundle-prn'],
    cohort_prn: release.outputs['cohort-prn'],
    required: false,
    disabled: false,
  });
  const cohort = (
    await scene.api<{ cohort: { name: string; product_prn: string } }>(
      'GET',
      `/cohorts/${release.outputs['cohort-prn']}`,
    )
  ).body.cohort;
  expect(cohort).toEqual(
    expect.objectContaining({ name: 'production', product_prn: release.outputs['product-prn'] }),
  );
});

it('verify-update creates the test device, downloads and verifies every binary, reports it, and the next check has nothing', async () => {
  verify = await step('verify-update', verifyInputs());
  expectSuccess(verify);
  expect(verify.outputs).toEqual({
    status: 'update',
    'source-type': 'release',
    'bundle-prn': bundle.outputs['bundle-prn'],
    verified: '3',
  });
  for (const t of TARGETS) expect(verify.summary).toContain(published.get(t)!.file.sha256);
  expect(verify.summary).toContain('no_update');
  const devices = (
    await scene.api<{ devices: Record<string, unknown>[] }>(
      'GET',
      `/devices?search=${encodeURIComponent("identifier:'ci-test-device'")}`,
    )
  ).body.devices;
  expect(devices).toHaveLength(1);
  expect(devices[0]).toMatchObject({
    reported_release_prn: release.outputs['release-prn'],
    reported_bundle_prn: bundle.outputs['bundle-prn'],
    reported_release_version: '1.0.0',
  });
});

it('re-running every step changes nothing: same outputs, created false, no new records', async () => {
  const count = async (path: string) =>
    Object.values((await scene.api<Record<string, unknown[]>>('GET', `${path}?limit=100`)).body).find(
      Array.isArray,
    )!.length;
  const before = await Promise.all(['/bundles', '/releases', '/cohorts', '/products', '/devices'].map(count));
  const bundle2 = await step('create-bundle', bundleInputs());
  expectSuccess(bundle2);
  expect(bundle2.outputs).toEqual({ ...bundle.outputs, created: 'false' });
  const release2 = await step('create-release', releaseInputs());
  expectSuccess(release2);
  expect(release2.outputs).toEqual({ ...release.outputs, created: 'false' });
  const verify2 = await step('verify-update', verifyInputs());
  expectSuccess(verify2);
  expect(verify2.outputs).toEqual(verify.outputs);
  expect(
    await Promise.all(['/bundles', '/releases', '/cohorts', '/products', '/devices'].map(count)),
  ).toEqual(before);
});
