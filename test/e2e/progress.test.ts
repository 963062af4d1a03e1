/**
 * A slow upload reports progress in the log: a line at most every 5 s, with percent, bytes and MiB/s. The
 * proxy holds the first part for 6 s, as a slow link would.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startFaultProxy, type FaultProxy } from '../helpers/fault-proxy.js';
import { runAction } from '../helpers/run-action.js';
import { publishInputs, startScene, writeTestFile, type Scene } from './scene.js';

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

it('a slow upload logs progress lines with percent and MiB/s, a few seconds apart', async () => {
  const file = await writeTestFile(scene.dir, 'slow.img', 5_242_880 + 1000);
  proxy.addRule({ method: 'PUT', path: /^\/_presigned\/parts\//, action: { kind: 'delay', ms: 6_000 } });
  const started = Date.now();
  const run = await runAction(
    'publish-binary',
    publishInputs(scene, file, {
      'base-url': proxy.url,
      'part-size': '5MiB',
      concurrency: '1',
      version: '1.0.0',
    }),
  );
  const seconds = (Date.now() - started) / 1000;
  expect(run.code, run.stdout + run.stderr).toBe(0);
  const lines = run.stdout.split('\n').filter((line) => line.startsWith('Uploading: '));
  expect(lines.length).toBeGreaterThanOrEqual(1);
  expect(lines.length).toBeLessThanOrEqual(Math.ceil(seconds / 5));
  for (const line of lines) {
    expect(line).toMatch(
      /^Uploading: \d{1,2}% \([\d.]+ (?:[KMG]i)?B of 5\.00 MiB\) at \d+\.\d MiB\/s, [01]\/2 parts$/,
    );
  }
}, 60_000);
