/**
 * The registry checks the content itself (`hashing`) and, when the bytes it holds do not hash to the
 * record's SHA-256, puts the binary back to `uploadable` without its parts. The action uploads once more;
 * a second rejection fails the job instead of looping. The stored parts are corrupted on disk at the
 * moment the action asks for hashing, as a failing disk or storage backend would.
 */
import { openSync, readdirSync, writeSync, closeSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, expect, it } from 'vitest';
import { startFaultProxy, type FaultProxy } from '../helpers/fault-proxy.js';
import { runAction } from '../helpers/run-action.js';
import { downloadSha256, publishInputs, startScene, writeTestFile, type Scene } from './scene.js';

let scene: Scene;
let proxy: FaultProxy;

beforeAll(async () => {
  scene = await startScene();
  proxy = await startFaultProxy({ target: scene.registry.baseUrl });
});
beforeEach(() => proxy.clearRules());
afterAll(async () => {
  await proxy?.close();
  await scene?.stop();
});

/** Flips the first byte of every stored part of the binary the PATCH is for. */
function corruptStoredParts(path: string): void {
  const binaryId = /:binary:([0-9a-f-]{36})/.exec(decodeURIComponent(path))![1]!;
  const dir = join(scene.registry.dataDir, 'parts', binaryId);
  const files = readdirSync(dir);
  expect(files.length).toBeGreaterThan(0);
  for (const file of files) {
    const fd = openSync(join(dir, file), 'r+');
    writeSync(fd, Buffer.from([0xff]), 0, 1, 0);
    closeSync(fd);
  }
}

it('a failed server-side hash check is answered by uploading once more, and the job succeeds', async () => {
  const file = await writeTestFile(scene.dir, 'flaky-storage.img', 300_000);
  const rule = proxy.addRule({
    method: 'PATCH',
    path: /^\/binaries\//,
    nth: 2,
    action: { kind: 'delay', ms: 0 },
    onFire: (request) => corruptStoredParts(request.path),
  });
  const run = await runAction(
    'publish-binary',
    publishInputs(scene, file, { 'base-url': proxy.url, target: 'flaky-storage', version: '1.0.0' }),
  );
  expect(rule.fired).toBe(1);
  expect(run.code, run.stdout + run.stderr).toBe(0);
  expect(run.stdout).toMatch(/^::warning::The registry's hash check failed.*uploading again$/m);
  expect(run.outputs).toMatchObject({ state: 'signed', 'parts-uploaded': '2', hash: file.sha256 });
  expect(await downloadSha256(scene, run.outputs['binary-prn']!)).toBe(file.sha256);
});

it('a second rejection fails the job with a clear message instead of uploading forever', async () => {
  const file = await writeTestFile(scene.dir, 'broken-storage.img', 300_000);
  // PATCHes: hashable, hashing (corrupted), hashable, hashing (corrupted).
  let patches = 0;
  proxy.addRule({
    method: 'PATCH',
    path: /^\/binaries\//,
    times: Infinity,
    action: { kind: 'delay', ms: 0 },
    onFire: (request) => {
      patches += 1;
      if (patches % 2 === 0) corruptStoredParts(request.path);
    },
  });
  const run = await runAction(
    'publish-binary',
    publishInputs(scene, file, { 'base-url': proxy.url, target: 'broken-storage', version: '1.0.0' }),
  );
  expect(run.code, run.stdout + run.stderr).toBe(1);
  expect(patches).toBe(4);
  expect(run.stdout).toMatch(/^::error::the registry rejected the uploaded content of .* again/m);
});
