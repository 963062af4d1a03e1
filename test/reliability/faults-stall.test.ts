/**
 * Responses that never come. The action gives up on a silent part upload after its stall timeout and on
 * a silent API call after its request timeout (both 60 s, not configurable from the action), so these
 * take over a minute and run only with PERIDIO_RELIABILITY_SLOW=1. Finite stalls are in
 * faults-network.test.ts and run every time.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  MiB,
  PART_SIZE,
  expectPublished,
  makeFile,
  partBytes,
  presignedPart,
  publish,
  reportMeasurement,
  startScene,
  type Scene,
} from './faults-harness.js';

const LAST_PART = 11 * MiB - 2 * PART_SIZE;

describe.runIf(process.env.PERIDIO_RELIABILITY_SLOW === '1')('responses stalled forever (slow)', () => {
  let scene: Scene;
  beforeAll(async () => {
    scene = await startScene();
  });
  afterAll(async () => {
    await scene?.close();
  });

  it(
    'a part upload whose response never comes is dropped after the stall timeout and sent again',
    { timeout: 150_000 },
    async () => {
      const file = await makeFile(scene.dir, 'stall-forever-part.bin');
      const rule = scene.proxy.addRule({
        method: 'PUT',
        path: presignedPart(2),
        action: { kind: 'stall-response' },
      });
      const run = await publish(scene, file, { target: 'stall-forever-part', timeoutMs: 140_000 });
      expect(run.code, `${run.stdout}\n${run.stderr}`).toBe(0);
      expect(rule.fired).toBe(1);
      await expectPublished(scene, 'stall-forever-part', file);
      expect(partBytes(scene.proxy)).toEqual({ 1: PART_SIZE, 2: 2 * PART_SIZE, 3: LAST_PART });
      expect(run.durationMs).toBeGreaterThanOrEqual(60_000);
      reportMeasurement('part 2 upload response stalled forever', {
        ok: true,
        durationMs: run.durationMs,
        bytesResent: PART_SIZE,
      });
    },
  );

  it(
    'a signature POST whose response never comes times out; the retry finds the stored signature',
    { timeout: 150_000 },
    async () => {
      const file = await makeFile(scene.dir, 'stall-forever-api.bin');
      scene.proxy.stats.requests.length = 0;
      const rule = scene.proxy.addRule({
        method: 'POST',
        path: /^\/binary_signatures$/,
        action: { kind: 'stall-response' },
      });
      const run = await publish(scene, file, { target: 'stall-forever-api', timeoutMs: 140_000 });
      expect(run.code, `${run.stdout}\n${run.stderr}`).toBe(0);
      expect(rule.fired).toBe(1);
      const binary = await expectPublished(scene, 'stall-forever-api', file);
      expect(binary.signatures).toHaveLength(1);
      reportMeasurement('POST /binary_signatures response stalled forever', {
        ok: true,
        durationMs: run.durationMs,
        bytesResent: 0,
        signatures: binary.signatures?.length,
      });
    },
  );
});
