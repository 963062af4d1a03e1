/**
 * Faults whose handling takes the action's timeouts: responses that never come (it gives up on a silent
 * part upload after `stall-timeout` and on a silent API call after `request-timeout`), and a registry that
 * stays down until the retry budget is spent. The timeouts are inputs (default 60 s) and the back-off has a
 * test hook (PERIDIO_ACTIONS_RETRY_MAX_DELAY_MS), so the same scenarios run in seconds on every run.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { errorAnnotations } from '../helpers/run-action.js';
import {
  MiB,
  PART_SIZE,
  bytesResent,
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
const TIMEOUT_S = 2;

describe('stalled forever, registry gone (short timeouts)', () => {
  let scene: Scene;
  beforeAll(async () => {
    scene = await startScene();
  });
  afterAll(async () => {
    await scene?.close();
  });

  it(
    'a part upload whose response never comes is dropped after stall-timeout and sent again',
    { timeout: 90_000 },
    async () => {
      const file = await makeFile(scene.dir, 'stall-forever-part.bin');
      scene.proxy.stats.requests.length = 0;
      const rule = scene.proxy.addRule({
        method: 'PUT',
        path: presignedPart(2),
        action: { kind: 'stall-response' },
      });
      const run = await publish(scene, file, {
        target: 'stall-forever-part',
        inputs: { 'stall-timeout': String(TIMEOUT_S) },
      });
      expect(run.code, `${run.stdout}\n${run.stderr}`).toBe(0);
      expect(rule.fired).toBe(1);
      await expectPublished(scene, 'stall-forever-part', file);
      expect(partBytes(scene.proxy)).toEqual({ 1: PART_SIZE, 2: 2 * PART_SIZE, 3: LAST_PART });
      expect(run.stdout).toContain(`no progress for ${TIMEOUT_S * 1000} ms; dropping the attempt`);
      expect(run.durationMs).toBeGreaterThanOrEqual(TIMEOUT_S * 1000);
      reportMeasurement(`part 2 upload response stalled forever (stall-timeout ${TIMEOUT_S} s)`, {
        ok: true,
        durationMs: run.durationMs,
        bytesResent: bytesResent(scene.proxy, file),
      });
    },
  );

  it(
    'the registry killed mid-upload and not back in time: the run fails saying so; a re-run resumes',
    { timeout: 90_000 },
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
        inputs: { concurrency: '1', 'request-timeout': String(TIMEOUT_S) },
        env: { PERIDIO_ACTIONS_RETRY_MAX_DELAY_MS: '200' },
      });
      expect(first.code).toBe(1);
      const message = errorAnnotations(first).join('\n');
      expect(message).toMatch(
        /^part 2 \(http:\/\/127\.0\.0\.1:\d+\/_presigned\/parts\/[0-9a-f-]+\/2\?expires=\*\*\*&sig=\*\*\*\): PUT failed: .*(ECONNRESET|ECONNREFUSED).*re-run the job to resume where it stopped\.$/m,
      );
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
        bytesResentOverBothRuns: (firstBytes[2] ?? 0) + (firstBytes[3] ?? 0),
      });
    },
  );

  it(
    'a signature POST whose response never comes times out after request-timeout; the retry finds the stored signature',
    { timeout: 90_000 },
    async () => {
      const file = await makeFile(scene.dir, 'stall-forever-api.bin');
      scene.proxy.stats.requests.length = 0;
      const rule = scene.proxy.addRule({
        method: 'POST',
        path: /^\/binary_signatures$/,
        action: { kind: 'stall-response' },
      });
      const run = await publish(scene, file, {
        target: 'stall-forever-api',
        inputs: { 'request-timeout': String(TIMEOUT_S) },
      });
      expect(run.code, `${run.stdout}\n${run.stderr}`).toBe(0);
      expect(rule.fired).toBe(1);
      const binary = await expectPublished(scene, 'stall-forever-api', file);
      expect(binary.signatures).toHaveLength(1);
      expect(run.durationMs).toBeGreaterThanOrEqual(TIMEOUT_S * 1000);
      reportMeasurement(`POST /binary_signatures response stalled forever (request-timeout ${TIMEOUT_S} s)`, {
        ok: true,
        durationMs: run.durationMs,
        bytesResent: bytesResent(scene.proxy, file),
        signatures: binary.signatures?.length,
      });
    },
  );
});
