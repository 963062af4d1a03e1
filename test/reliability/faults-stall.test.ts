/**
 * Faults whose handling takes the action's full timeouts: responses that never come (it gives up on a
 * silent part upload after its stall timeout and on a silent API call after its request timeout, both
 * 60 s and not settable from the action), and a registry that stays down until the retry budget is spent.
 * They run only with PERIDIO_RELIABILITY_SLOW=1. Finite stalls and quick restarts are in
 * faults-network.test.ts and faults-crash.test.ts and run every time.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { errorAnnotations } from '../helpers/run-action.js';
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

describe.runIf(process.env.PERIDIO_RELIABILITY_SLOW === '1')(
  'slow faults: stalled forever, registry gone',
  () => {
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
      'the registry killed mid-upload and not back in time: the run fails saying so; a re-run resumes',
      { timeout: 150_000 },
      async () => {
        const file = await makeFile(scene.dir, 'registry-gone.bin');
        scene.proxy.stats.requests.length = 0;
        scene.proxy.addRule({
          method: 'PUT',
          path: presignedPart(2),
          action: {
            kind: 'hold-mid-body',
            afterBytes: 1 * MiB,
            onHold: () => scene.registry.kill('SIGKILL'),
          },
        });
        const first = await publish(scene, file, {
          target: 'registry-gone',
          inputs: { concurrency: '1' },
          timeoutMs: 140_000,
        });
        expect(first.code).not.toBe(0);
        const message = errorAnnotations(first).join('\n');
        expect(message).toMatch(/part 2/);
        expect(message).toMatch(/ECONNRESET|ECONNREFUSED|socket|reset|connect/i);
        const firstBytes = partBytes(scene.proxy);
        expect(firstBytes[1]).toBe(PART_SIZE);

        await scene.restartRegistry();
        scene.proxy.clearRules();
        scene.proxy.stats.requests.length = 0;
        const rerun = await publish(scene, file, { target: 'registry-gone', inputs: { concurrency: '1' } });
        expect(rerun.code, `${rerun.stdout}\n${rerun.stderr}`).toBe(0);
        expect(rerun.outputs).toMatchObject({ 'parts-skipped': '1', 'parts-uploaded': '2' });
        expect(partBytes(scene.proxy)).toEqual({ 2: PART_SIZE, 3: LAST_PART });
        await expectPublished(scene, 'registry-gone', file);
        reportMeasurement('registry SIGKILL mid part 2 body, not restarted until the run gave up; re-run', {
          ok: true,
          firstRunMs: first.durationMs,
          firstRunError: message.slice(0, 240),
          rerunMs: rerun.durationMs,
          bytesResent: firstBytes[2],
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
  },
);
