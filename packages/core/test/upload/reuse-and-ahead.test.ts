/**
 * The two things the engine does to go faster and stay small: read buffers reused from part to part, and
 * each part's URL asked for while earlier parts are still sending. Both must stay correct when attempts
 * fail: a reset or stall must not leave a buffer in use or a timer running, and an early URL that expired
 * or failed must not cost the part anything but a fresh ask.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { FileDigest } from '../../src/hash.js';
import { memoryLogger } from '../../src/logger.js';
import { uploadParts, type PartsApi } from '../../src/upload/engine.js';
import { PART_READ_CHUNK } from '../../src/upload/part-body.js';
import { FakeStorage, PRN, digestOf, makeFile, sha256 } from './fake-storage.js';

const FAST_RETRY = { baseDelayMs: 5, maxDelayMs: 20, maxAttempts: 4, deadlineMs: 20_000 };
const PART = 64 * 1024;

let dir: string;
let storage: FakeStorage;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'upload-reuse-'));
  storage = await new FakeStorage().start();
});

afterEach(async () => {
  vi.restoreAllMocks();
  await storage.close();
  await rm(dir, { recursive: true, force: true });
});

async function fixture(size: number, partSize = PART): Promise<{ path: string; digest: FileDigest }> {
  const path = join(dir, 'firmware.bin');
  await makeFile(path, size);
  return { path, digest: await digestOf(path, partSize) };
}

function upload(path: string, digest: FileDigest, extra: Partial<Parameters<typeof uploadParts>[0]> = {}) {
  return uploadParts({
    api: storage.api,
    binaryPrn: PRN,
    binarySize: digest.size,
    filePath: path,
    digest,
    retry: FAST_RETRY,
    ...extra,
  });
}

/** Counts the read buffers the engine allocates (it allocates them with allocUnsafeSlow, at this size). */
function countReadBuffers(): () => number {
  const spy = vi.spyOn(Buffer, 'allocUnsafeSlow');
  return () => spy.mock.calls.filter(([size]) => size === PART_READ_CHUNK).length;
}

/** Timers keeping the process alive: a leaked stall timer would hold a finished action for a minute. */
function liveTimers(): number {
  return process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
}

describe('read buffers', () => {
  it('serves part after part from the same few buffers, bytes intact, while the storage reads slowly', async () => {
    // Parts larger than what loopback's socket buffers absorb (up to 4 MiB sent, more received), read
    // slowly: the client's writes back up in its socket, which is when refilling a buffer too early
    // corrupts the bytes on the wire (with chunks under the socket's high-water mark, this test fails).
    const partSize = 12 * 1024 * 1024 + 1000;
    const { path, digest } = await fixture(3 * partSize + 12_345, partSize);
    storage.readPauseMs = 1;
    const allocated = countReadBuffers();
    await upload(path, digest, { concurrency: 2 });

    for (const put of storage.puts) expect(put.status).toBe(200);
    expect(sha256(storage.assembled())).toBe(digest.sha256Hex);
    // Two per part in flight, however many parts went through them.
    expect(allocated()).toBe(4);
  });

  it('after a reset mid-body, retries into fresh buffers and leaves no timer of the dead attempt', async () => {
    const partSize = 3 * PART_READ_CHUNK;
    const { path, digest } = await fixture(4 * partSize, partSize);
    storage.fault(2, { kind: 'reset', afterBytes: PART_READ_CHUNK });
    const timersBefore = liveTimers();
    const allocated = countReadBuffers();
    await upload(path, digest, { concurrency: 2, stallTimeoutMs: 60_000 });

    expect(storage.putsOf(2).map((p) => p.status)).toEqual([undefined, 200]);
    expect(sha256(storage.assembled())).toBe(digest.sha256Hex);
    // The dead attempt's buffers were dropped, not reused: two more than a clean run.
    expect(allocated()).toBe(6);
    await new Promise((resolve) => setImmediate(resolve));
    expect(liveTimers()).toBeLessThanOrEqual(timersBefore);
  });

  it('after a stalled attempt, leaves no timer running once the upload is done', async () => {
    const partSize = 2 * PART_READ_CHUNK;
    const { path, digest } = await fixture(3 * partSize, partSize);
    storage.fault(1, { kind: 'stall' });
    const timersBefore = liveTimers();
    await upload(path, digest, { concurrency: 1, stallTimeoutMs: 300 });

    expect(storage.putsOf(1)).toHaveLength(2);
    expect(sha256(storage.assembled())).toBe(digest.sha256Hex);
    await new Promise((resolve) => setImmediate(resolve));
    expect(liveTimers()).toBeLessThanOrEqual(timersBefore);
  });
});

describe('URLs asked for ahead', () => {
  it("asks for a part's URL while the part before it is sending, so PUTs need no API call between them", async () => {
    const { path, digest } = await fixture(3 * PART + 1000);
    const answeredAtCreate = new Map<number, number>();
    const api: PartsApi = {
      ...storage.api,
      createBinaryPart: async (prn, body, options) => {
        answeredAtCreate.set(body.index, storage.puts.filter((put) => put.status !== undefined).length);
        return storage.api.createBinaryPart(prn, body, options);
      },
    };
    storage.answerDelayMs = 50;
    await upload(path, digest, { api, concurrency: 1 });

    expect(sha256(storage.assembled())).toBe(digest.sha256Hex);
    // One part in flight: without asking ahead, part n's URL would wait for part n - 1's answer.
    expect([...answeredAtCreate.entries()].sort((x, y) => x[0] - y[0])).toEqual([
      [1, 0],
      [2, 0],
      [3, 1],
      [4, 2],
    ]);
    expect(storage.creates).toHaveLength(4);
  });

  it('asks again, instead of sending to it, when the URL asked ahead has expired by the time its part starts', async () => {
    const { path, digest } = await fixture(2 * PART);
    let firstOfPart2 = true;
    const api: PartsApi = {
      ...storage.api,
      createBinaryPart: async (prn, body, options) => {
        const created = await storage.api.createBinaryPart(prn, body, options);
        if (body.index !== 2 || !firstOfPart2) return created;
        firstOfPart2 = false;
        // Valid when asked for; within the 5 s margin once part 1 (held 1.2 s) is done.
        const expires = Math.floor(Date.now() / 1000) + 6;
        return { ...created, presigned_upload_url: `${created.presigned_upload_url}&Expires=${expires}` };
      },
    };
    storage.answerDelayMs = 1_200;
    await upload(path, digest, { api, concurrency: 1 });

    const creates = storage.creates.filter((c) => c.index === 2);
    expect(creates).toHaveLength(2);
    // The expired URL was never used: part 2's only PUT went to the second one.
    expect(storage.putsOf(2).map((p) => [p.token, p.status])).toEqual([[creates[1]!.token, 200]]);
    expect(sha256(storage.assembled())).toBe(digest.sha256Hex);
  });

  it('a failed early ask costs the part only an ask of its own', async () => {
    const { path, digest } = await fixture(3 * PART);
    let failed = false;
    const api: PartsApi = {
      ...storage.api,
      createBinaryPart: async (prn, body, options) => {
        if (body.index === 3 && !failed) {
          failed = true;
          throw new Error('registry briefly unreachable');
        }
        return storage.api.createBinaryPart(prn, body, options);
      },
    };
    const logger = memoryLogger();
    const result = await upload(path, digest, { api, concurrency: 1, logger });

    expect(result.partsUploaded).toBe(3);
    expect(storage.creates.filter((c) => c.index === 3)).toHaveLength(1);
    expect(logger.lines).toContainEqual({
      level: 'debug',
      message: expect.stringMatching(
        /^part 3: asking for its URL ahead failed \(registry briefly unreachable\)/,
      ),
    });
    expect(sha256(storage.assembled())).toBe(digest.sha256Hex);
  });

  it('cancels the asks nobody took when the upload fails, and waits for them before it returns', async () => {
    const { path, digest } = await fixture(3 * PART);
    storage.fault(1, { kind: 'status', status: 404, body: 'NoSuchUpload' });
    const pending: { index: number; settled: boolean }[] = [];
    const api: PartsApi = {
      ...storage.api,
      createBinaryPart: async (prn, body, options) => {
        if (body.index === 1) return storage.api.createBinaryPart(prn, body, options);
        // An API call that answers only when cancelled, as a hung registry would.
        const call = { index: body.index, settled: false };
        pending.push(call);
        await new Promise<void>((_, reject) => {
          options?.signal?.addEventListener('abort', () => reject(options.signal!.reason as Error));
        }).finally(() => (call.settled = true));
        throw new Error('unreachable');
      },
    };
    const error = await upload(path, digest, { api, concurrency: 1 }).catch((e: unknown) => e);

    expect((error as Error).message).toMatch(/part 1 .*HTTP 404: NoSuchUpload/);
    expect(pending).toEqual([{ index: 2, settled: true }]);
    expect(storage.puts).toHaveLength(1);
  });
});
