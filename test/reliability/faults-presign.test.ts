/**
 * Presigned part URLs that expire before the upload reaches the storage (registry `--presign-ttl 2`,
 * the proxy delaying each part's first PUT past it), and one that expires while its body is in flight.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  CREATE_PART,
  MiB,
  PART_SIZE,
  countRequests,
  expectPublished,
  makeFile,
  bytesResent,
  partBytes,
  presignedPart,
  publish,
  reportMeasurement,
  startScene,
  type Scene,
} from './faults-harness.js';

const LAST_PART = 11 * MiB - 2 * PART_SIZE;
const TTL_SECONDS = 2;
const createPart = (index: number) => new RegExp(`^/binaries/[^/]+/parts/${index}$`);

// Each test runs the action one to three times; generous under a loaded CI machine.
describe(
  `presigned URLs expiring during the upload (--presign-ttl ${TTL_SECONDS})`,
  { timeout: 120_000 },
  () => {
    let scene: Scene;
    beforeAll(async () => {
      scene = await startScene({ args: ['--presign-ttl', String(TTL_SECONDS)] });
    });
    afterAll(async () => {
      await scene?.close();
    });
    beforeEach(() => {
      scene.proxy.clearRules();
      scene.proxy.stats.requests.length = 0;
    });

    it('every part URL expired on arrival: each part gets a fresh URL once and is sent again', async () => {
      const file = await makeFile(scene.dir, 'expired.bin');
      const rules = [1, 2, 3].map((index) =>
        scene.proxy.addRule({
          method: 'PUT',
          path: presignedPart(index),
          action: { kind: 'delay', ms: TTL_SECONDS * 1000 + 500 },
        }),
      );
      const run = await publish(scene, file, { target: 'expired-on-arrival' });
      expect(run.code, `${run.stdout}\n${run.stderr}`).toBe(0);
      await expectPublished(scene, 'expired-on-arrival', file);
      for (const rule of rules) expect(rule.fired).toBe(1);
      const refused = scene.proxy.stats.requests.filter((r) => r.fault === 'delay');
      expect(refused.map((r) => r.status)).toEqual([403, 403, 403]);
      // A new URL per part from the API (2 creates each), and no more.
      for (const index of [1, 2, 3]) expect(countRequests(scene.proxy, 'PUT', createPart(index))).toBe(2);
      const bytes = partBytes(scene.proxy);
      const sizes = [PART_SIZE, PART_SIZE, LAST_PART];
      sizes.forEach((size, i) => {
        expect(bytes[i + 1]).toBeGreaterThanOrEqual(size);
        expect(bytes[i + 1]).toBeLessThanOrEqual(2 * size);
      });
      reportMeasurement('presigned URLs expired on arrival (ttl 2 s, first PUT of each part delayed 2.5 s)', {
        ok: true,
        durationMs: run.durationMs,
        refused403: refused.length,
        partCreates: countRequests(scene.proxy, 'PUT', CREATE_PART),
        bytesResent: Object.values(bytes).reduce((a, b) => a + b, 0) - file.size,
        partBytes: bytes,
      });
    });

    it('a URL that expires while its body is in flight is honoured, as S3 checks expiry at the start', async () => {
      const file = await makeFile(scene.dir, 'expires-in-flight.bin');
      const rule = scene.proxy.addRule({
        method: 'PUT',
        path: presignedPart(1),
        action: { kind: 'hold-mid-body', afterBytes: 1 * MiB, ms: TTL_SECONDS * 1000 + 500 },
      });
      const run = await publish(scene, file, { target: 'expires-in-flight' });
      expect(run.code, `${run.stdout}\n${run.stderr}`).toBe(0);
      expect(rule.fired).toBe(1);
      await expectPublished(scene, 'expires-in-flight', file);
      expect(countRequests(scene.proxy, 'PUT', createPart(1))).toBe(1);
      expect(partBytes(scene.proxy)).toEqual({ 1: PART_SIZE, 2: PART_SIZE, 3: LAST_PART });
      reportMeasurement('presigned URL expires mid-body (ttl 2 s, part 1 held 2.5 s after 1 MiB)', {
        ok: true,
        durationMs: run.durationMs,
        bytesResent: bytesResent(scene.proxy, file),
      });
    });
  },
);
