/**
 * A job that dies half-way (the runner is cancelled, the machine is lost: SIGKILL, no clean-up) and is
 * re-run resumes where it stopped, at each point where dying leaves a different state behind.
 */
import { afterAll, beforeAll, beforeEach, expect, it } from 'vitest';
import { bytesSent, startFaultProxy, type FaultProxy } from '../helpers/fault-proxy.js';
import { runAction, type ActionRun } from '../helpers/run-action.js';
import {
  downloadSha256,
  getBinary,
  publishInputs,
  signatureVerifies,
  startScene,
  writeTestFile,
  type Scene,
} from './scene.js';

const PART_SIZE = 5_242_880;
const PRESIGNED_PUT = /^\/_presigned\/parts\//;

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
beforeEach(() => proxy.clearRules());

/** Runs publish-binary and kills it with SIGKILL the moment a request matching `at` arrives at the proxy. */
async function publishKilledAt(
  inputs: Record<string, string>,
  at: { method: string; path: RegExp; nth?: number },
): Promise<ActionRun> {
  const controller = new AbortController();
  let running: Promise<ActionRun> | undefined;
  const rule = proxy.addRule({
    ...at,
    // Never answered: the process is gone before the request is forwarded.
    action: { kind: 'status', status: 503 },
    onFire: async () => {
      controller.abort();
      await running;
    },
  });
  running = runAction('publish-binary', inputs, { signal: controller.signal });
  const run = await running;
  rule.remove();
  expect(rule.fired).toBe(1);
  expect(run.signal).toBe('SIGKILL');
  return run;
}

function inputsFor(target: string, file: { path: string; sha256: string; size: number }) {
  return publishInputs(
    scene,
    { ...file },
    {
      'base-url': proxy.url,
      target,
      version: '1.0.0',
      'part-size': String(PART_SIZE),
      concurrency: '1',
    },
  );
}

it('a job killed mid-upload resumes: the re-run sends only the parts that were missing', async () => {
  // Four parts: 5 MiB, 5 MiB, 5 MiB, 1 byte.
  const file = await writeTestFile(scene.dir, 'mid-upload.img', 3 * PART_SIZE + 1);
  const inputs = inputsFor('mid-upload', file);
  await publishKilledAt(inputs, { method: 'PUT', path: PRESIGNED_PUT, nth: 3 });

  const start = proxy.stats.requests.length;
  const rerun = await runAction('publish-binary', inputs);
  expect(rerun.code, rerun.stdout + rerun.stderr).toBe(0);
  expect(rerun.outputs).toMatchObject({ 'parts-skipped': '2', 'parts-uploaded': '2', state: 'signed' });
  const sentAgain = proxy.stats.requests.slice(start);
  const partBytes = sentAgain
    .filter((r) => r.method === 'PUT' && PRESIGNED_PUT.test(r.path))
    .reduce((sum, r) => sum + r.bytesIn, 0);
  expect(partBytes).toBe(PART_SIZE + 1);
  expect(await downloadSha256(scene, rerun.outputs['binary-prn']!)).toBe(file.sha256);
  expect(signatureVerifies(file.sha256, rerun.outputs.signature!, scene.key.publicPem)).toBe(true);
});

it('a job killed after the upload, before asking the registry to hash, continues without uploading', async () => {
  const file = await writeTestFile(scene.dir, 'before-hashing.img', PART_SIZE + 10);
  const inputs = inputsFor('before-hashing', file);
  // The first PATCH of the binary is `hashable`; dying at the second leaves it there.
  await publishKilledAt(inputs, { method: 'PATCH', path: /^\/binaries\//, nth: 2 });
  const stuck = (
    await scene.api<{ binaries: { prn: string; state: string }[] }>(
      'GET',
      `/binaries?search=${encodeURIComponent("target:'before-hashing'")}`,
    )
  ).body.binaries[0]!;
  expect(stuck.state).toBe('hashable');

  const putsBefore = bytesSent(proxy, 'PUT', PRESIGNED_PUT);
  const rerun = await runAction('publish-binary', inputs);
  expect(rerun.code, rerun.stdout + rerun.stderr).toBe(0);
  expect(bytesSent(proxy, 'PUT', PRESIGNED_PUT)).toBe(putsBefore);
  expect(rerun.outputs).toMatchObject({ 'binary-prn': stuck.prn, 'parts-uploaded': '0', state: 'signed' });
  expect((await getBinary(scene, stuck.prn)).state).toBe('signed');
});

it('a job killed right after sending the signature finishes on re-run without signing again', async () => {
  const file = await writeTestFile(scene.dir, 'after-signature.img', 1000);
  const inputs = inputsFor('after-signature', file);
  // PATCHes: hashable, hashing, then `signed` after the signature was posted.
  await publishKilledAt(inputs, { method: 'PATCH', path: /^\/binaries\//, nth: 3 });

  const start = proxy.stats.requests.length;
  const rerun = await runAction('publish-binary', inputs);
  expect(rerun.code, rerun.stdout + rerun.stderr).toBe(0);
  const posts = proxy.stats.requests.slice(start).filter((r) => r.method === 'POST');
  expect(posts.map((r) => r.path)).toEqual([]);
  expect(rerun.outputs.state).toBe('signed');
  expect(rerun.outputs['binary-signature-prn']).toMatch(/^prn:1:.*:binary_signature:/);
  expect(signatureVerifies(file.sha256, rerun.outputs.signature!, scene.key.publicPem)).toBe(true);
});
