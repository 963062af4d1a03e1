/**
 * verify-update downloads as a device agent does: a manifest download cut mid-body is resumed with a
 * Range request from the byte it reached, not started over, and the binary still verifies. The cut is made
 * by the fault proxy between the action and the registry process (manifest URLs come back through it).
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startFaultProxy, type FaultProxy } from '../helpers/fault-proxy.js';
import { apiInputs, expectSuccess, publishMatrix, startScene, step, type Scene } from './release-helpers.js';

let scene: Scene;
let proxy: FaultProxy;
const SIZE = 3 * 1024 * 1024;

beforeAll(async () => {
  scene = await startScene();
  await publishMatrix(scene, { targets: ['aarch64-linux-gnu'], size: SIZE });
  proxy = await startFaultProxy({ target: scene.registry.baseUrl });
}, 120_000);
afterAll(async () => {
  await proxy?.close();
  await scene?.stop();
});

it('a download cut after 1 MiB is resumed with Range and the binary verifies', async () => {
  const bundle = await step('create-bundle', { ...apiInputs(scene), artifact: 'firmware' });
  expectSuccess(bundle);
  const release = await step('create-release', {
    ...apiInputs(scene),
    'bundle-prn': bundle.outputs['bundle-prn']!,
    cohort: 'c',
    product: 'p',
  });
  expectSuccess(release);
  const cut = proxy.addRule({
    method: 'GET',
    path: /^\/_presigned\/download\//,
    action: { kind: 'cut-response', afterBytes: 1024 * 1024 },
  });
  const run = await step('verify-update', {
    'api-key': scene.registry.apiKey,
    'base-url': proxy.url,
    device: 'resume-device',
    'create-device': 'true',
    cohort: release.outputs['cohort-prn']!,
    'release-version': '0.9.0',
    'trusted-signing-keys': scene.key.publicPem,
  });
  expectSuccess(run);
  expect(run.outputs).toMatchObject({ status: 'update', verified: '1' });
  expect(cut.fired).toBe(1);
  expect(cut.matched).toBe(2);
  expect(run.stdout).toMatch(/was cut after \d+ bytes .*; resuming/);
  // The second request asked for the rest only: the registry answered it 206 Partial Content.
  const downloads = proxy.stats.requests.filter((r) => r.path.startsWith('/_presigned/download/'));
  expect(downloads.map((r) => r.status)).toEqual([200, 206]);
  expect(run.stdout).not.toMatch(/sig=[0-9a-f]{16}/);
});
