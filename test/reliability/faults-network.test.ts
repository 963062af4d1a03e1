/**
 * The bundled publish-binary action against a real registry through the fault proxy: connections reset
 * mid-part, closed before the answer, answers stalled, and 5xx/429 answers once and in bursts. Each run
 * must end signed, with every part sent once except those a fault hit, and the registry serving the
 * file's bytes back.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { FaultAction, RuleHandle } from '../helpers/fault-proxy.js';
import {
  CREATE_PART,
  MiB,
  PART_SIZE,
  countRequests,
  expectPublished,
  makeFile,
  partBytes,
  presignedPart,
  publish,
  reportMeasurement,
  startScene,
  type PublishRun,
  type Scene,
  type TestFile,
} from './faults-harness.js';

const LAST_PART = 11 * MiB - 2 * PART_SIZE;

// Each test runs the action one to three times; generous under a loaded CI machine.
describe('publish-binary through network faults', { timeout: 120_000 }, () => {
  let scene: Scene;
  beforeAll(async () => {
    scene = await startScene();
  });
  afterAll(async () => {
    await scene?.close();
  });
  beforeEach(() => {
    scene.proxy.clearRules();
    scene.proxy.stats.requests.length = 0;
  });

  async function run(target: string, file: TestFile): Promise<PublishRun> {
    const result = await publish(scene, file, { target });
    expect(result.code, `publish-binary failed:\n${result.stdout}\n${result.stderr}`).toBe(0);
    expect(result.outputs).toMatchObject({ state: 'signed', hash: file.sha256, size: String(file.size) });
    await expectPublished(scene, target, file);
    return result;
  }

  function figures(result: PublishRun, file: TestFile, extra: Record<string, unknown> = {}) {
    const perPart = partBytes(scene.proxy);
    const sent = Object.values(perPart).reduce((a, b) => a + b, 0);
    return {
      ok: result.code === 0,
      durationMs: result.durationMs,
      bytesResent: sent - file.size,
      partBytes: perPart,
      ...extra,
    };
  }

  it('connection reset in the middle of a part body: that part is sent again, the others once', async () => {
    const file = await makeFile(scene.dir, 'reset.bin');
    const rule = scene.proxy.addRule({
      method: 'PUT',
      path: presignedPart(2),
      action: { kind: 'reset-mid-body', afterBytes: 1 * MiB },
    });
    const result = await run('reset-mid-body', file);
    expect(rule.fired).toBe(1);
    const bytes = partBytes(scene.proxy);
    expect(bytes[1]).toBe(PART_SIZE);
    expect(bytes[3]).toBe(LAST_PART);
    // The cut attempt carried ~1 MiB (plus at most one chunk in flight), then the whole part once more.
    expect(bytes[2]).toBeGreaterThanOrEqual(PART_SIZE + 1 * MiB);
    expect(bytes[2]).toBeLessThan(PART_SIZE + 2 * MiB);
    reportMeasurement(
      'reset mid part body (part 2, after 1 MiB)',
      figures(result, file, { retries: countRequests(scene.proxy, 'PUT', presignedPart(2)) - 1 }),
    );
  });

  it('connection reset mid-body three times in a row on the same part: still published', async () => {
    const file = await makeFile(scene.dir, 'reset-burst.bin');
    const rule = scene.proxy.addRule({
      method: 'PUT',
      path: presignedPart(1),
      times: 3,
      action: { kind: 'reset-mid-body', afterBytes: 2 * MiB },
    });
    const result = await run('reset-burst', file);
    expect(rule.fired).toBe(3);
    const bytes = partBytes(scene.proxy);
    expect(bytes[2]).toBe(PART_SIZE);
    expect(bytes[3]).toBe(LAST_PART);
    expect(countRequests(scene.proxy, 'PUT', presignedPart(1))).toBe(4);
    reportMeasurement(
      'reset mid part body x3 (part 1, after 2 MiB)',
      figures(result, file, { retries: countRequests(scene.proxy, 'PUT', presignedPart(1)) - 1 }),
    );
  });

  it('part upload closed before the response: the registry kept the part, the client sends it once more', async () => {
    const file = await makeFile(scene.dir, 'closed.bin');
    const rule = scene.proxy.addRule({
      method: 'PUT',
      path: presignedPart(2),
      action: { kind: 'close-before-response' },
    });
    const result = await run('close-before-response-part', file);
    expect(rule.fired).toBe(1);
    expect(partBytes(scene.proxy)).toEqual({ 1: PART_SIZE, 2: 2 * PART_SIZE, 3: LAST_PART });
    reportMeasurement('closed before response: part 2 upload', figures(result, file));
  });

  it.each([
    ['POST /binaries (the create committed, its answer lost)', 'POST', /^\/binaries$/],
    ['PATCH /binaries/{prn} (a state change committed, its answer lost)', 'PATCH', /^\/binaries\/[^/?]+$/],
    ['POST /binary_signatures (the signature stored, its answer lost)', 'POST', /^\/binary_signatures$/],
  ])('API call closed before the response: %s', async (label, method, path) => {
    const file = await makeFile(scene.dir, `closed-${label.replace(/\W+/g, '-')}.bin`);
    const rule = scene.proxy.addRule({ method, path, action: { kind: 'close-before-response' } });
    const result = await run(`closed-${label.replace(/\W+/g, '-').toLowerCase()}`.slice(0, 60), file);
    expect(rule.fired).toBe(1);
    expect(countRequests(scene.proxy, method, path)).toBeGreaterThanOrEqual(2);
    // Nothing uploaded twice because of an API answer that got lost.
    expect(partBytes(scene.proxy)).toEqual({ 1: PART_SIZE, 2: PART_SIZE, 3: LAST_PART });
    reportMeasurement(
      `closed before response: ${label}`,
      figures(result, file, { calls: countRequests(scene.proxy, method, path) }),
    );
  });

  it('responses stalled for 3 s (a part upload and the binary poll) are waited for, not duplicated', async () => {
    const file = await makeFile(scene.dir, 'stall.bin');
    const partRule = scene.proxy.addRule({
      method: 'PUT',
      path: presignedPart(3),
      action: { kind: 'stall-response', ms: 3_000 },
    });
    const apiRule = scene.proxy.addRule({
      method: 'PUT',
      path: CREATE_PART,
      action: { kind: 'stall-response', ms: 3_000 },
    });
    const result = await run('stall-response', file);
    expect(partRule.fired).toBe(1);
    expect(apiRule.fired).toBe(1);
    expect(result.durationMs).toBeGreaterThanOrEqual(3_000);
    expect(partBytes(scene.proxy)).toEqual({ 1: PART_SIZE, 2: PART_SIZE, 3: LAST_PART });
    reportMeasurement('responses stalled 3 s (part 3 upload, part 1 create)', figures(result, file));
  });

  const retryAfter = { 'retry-after': '1' };
  it.each<[string, string, RegExp, number, FaultAction]>([
    ['500 once on POST /binaries', 'POST', /^\/binaries$/, 1, { kind: 'status', status: 500 }],
    ['500 x3 on a part upload', 'PUT', presignedPart(1), 3, { kind: 'status', status: 500 }],
    ['502 once on part create', 'PUT', CREATE_PART, 1, { kind: 'status', status: 502 }],
    ['502 x3 on the binary search', 'GET', /^\/binaries\?/, 3, { kind: 'status', status: 502 }],
    [
      '503 once on PATCH /binaries/{prn}',
      'PATCH',
      /^\/binaries\/[^/?]+$/,
      1,
      { kind: 'status', status: 503 },
    ],
    ['503 x3 on a part upload', 'PUT', presignedPart(3), 3, { kind: 'status', status: 503 }],
    [
      '429 + Retry-After: 1 once on POST /binary_signatures',
      'POST',
      /^\/binary_signatures$/,
      1,
      { kind: 'status', status: 429, headers: retryAfter },
    ],
    [
      '429 + Retry-After: 1 x3 on part 1 create',
      'PUT',
      /^\/binaries\/[^/]+\/parts\/1$/,
      3,
      { kind: 'status', status: 429, headers: retryAfter },
    ],
    [
      '503 + Retry-After: 1 x2 on part 2 upload (S3 SlowDown)',
      'PUT',
      presignedPart(2),
      2,
      {
        kind: 'status',
        status: 503,
        headers: { ...retryAfter, 'content-type': 'application/xml' },
        body: '<Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>',
      },
    ],
  ])('%s: retried, published', async (label, method, path, times, action) => {
    const file = await makeFile(scene.dir, `status-${label.replace(/\W+/g, '-')}.bin`);
    const rule: RuleHandle = scene.proxy.addRule({ method, path, times, action });
    const result = await run(`status-${label.replace(/\W+/g, '-').toLowerCase()}`, file);
    expect(rule.fired).toBe(times);
    const matching = scene.proxy.stats.requests.filter((r) => r.method === method && path.test(r.path));
    expect(matching.length).toBeGreaterThan(times);
    if (action.kind === 'status' && action.headers?.['retry-after']) {
      // Retry-After is a floor: no retry of a refused call came back sooner.
      const gaps = matching.slice(1, times + 1).map((r, i) => r.startedAt - matching[i]!.startedAt);
      for (const gap of gaps) expect(gap).toBeGreaterThanOrEqual(950);
    }
    // Refused part uploads are sent again; every other part exactly once.
    const bytes = partBytes(scene.proxy);
    const expected: Record<number, number> = { 1: PART_SIZE, 2: PART_SIZE, 3: LAST_PART };
    const refusedPart = [1, 2, 3].find((i) => method === 'PUT' && path.test(`/_presigned/parts/x/${i}?sig=`));
    if (refusedPart) expected[refusedPart]! *= times + 1;
    expect(bytes).toEqual(expected);
    reportMeasurement(label, figures(result, file, { refused: rule.fired, attempts: matching.length }));
  });
});
