import { createHash } from 'node:crypto';
import { readFile, open, mkdtemp, rm, stat, utimes } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConflictError, InputError } from '../../src/errors.js';
import { hashFile, type FileDigest } from '../../src/hash.js';
import { MIN_PART_SIZE, planParts } from '../../src/parts.js';
import { memoryLogger } from '../../src/logger.js';
import {
  ExtraPartsError,
  IncompleteUploadError,
  uploadParts,
  type UploadProgress,
} from '../../src/upload/engine.js';
import { FakeStorage, PRN, digestOf, makeFile, sha256 } from './fake-storage.js';

const PART = 64 * 1024;
const FAST_RETRY = { baseDelayMs: 5, maxDelayMs: 20, maxAttempts: 4, deadlineMs: 20_000 };

let dir: string;
let storage: FakeStorage;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'upload-test-'));
  storage = await new FakeStorage().start();
});

afterEach(async () => {
  await storage.close();
  await rm(dir, { recursive: true, force: true });
});

/** 4 parts: three full and a shorter last one, as real files are. */
async function fixture(size = 3 * PART + 1000): Promise<{ path: string; digest: FileDigest }> {
  const path = join(dir, 'firmware.bin');
  await makeFile(path, size);
  return { path, digest: await digestOf(path, PART) };
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

async function fileSha256(path: string): Promise<string> {
  return createHash('sha256')
    .update(await readFile(path))
    .digest('hex');
}

describe('uploadParts', () => {
  it('sends every part with the presigned-PUT headers, and the server reassembles the file', async () => {
    const { path, digest } = await fixture();
    const progress: UploadProgress[] = [];
    const result = await upload(path, digest, { onProgress: (p) => progress.push(p) });

    expect(sha256(storage.assembled())).toBe(await fileSha256(path));
    expect(result).toMatchObject({
      partsUploaded: 4,
      partsSkipped: 0,
      bytesUploaded: digest.size,
      bytesSkipped: 0,
    });
    expect(storage.puts).toHaveLength(4);
    for (const put of storage.puts) {
      const part = digest.parts[put.index - 1]!;
      expect(put.headers['content-type']).toBe('application/octet-stream');
      expect(put.headers['content-length']).toBe(String(part.size));
      expect(put.headers['x-amz-checksum-sha256']).toBe(part.sha256Base64);
      expect(put.headers.authorization).toBeUndefined();
    }
    expect(storage.creates.map((c) => c.body)).toContainEqual({
      index: 4,
      expected_binary_size: digest.size,
      hash: digest.parts[3]!.sha256Hex,
      size: 1000,
    });
    const last = progress.at(-1)!;
    expect(last).toMatchObject({
      bytesSent: digest.size,
      bytesToSend: digest.size,
      partsDone: 4,
      partsToSend: 4,
    });
    // Bytes are reported as they move, not only when a part completes.
    expect(progress.length).toBeGreaterThan(8);
  });

  it('retries a part whose connection is reset mid-body, and progress never counts its bytes twice', async () => {
    const { path, digest } = await fixture();
    storage.fault(2, { kind: 'reset', afterBytes: PART / 2 });
    const progress: UploadProgress[] = [];
    const logger = memoryLogger();
    const result = await upload(path, digest, { logger, onProgress: (p) => progress.push(p) });

    expect(storage.putsOf(2)).toHaveLength(2);
    expect(logger.lines).toContainEqual({
      level: 'info',
      message: expect.stringMatching(/^part 2: sent after 2 attempts \(last failure: part 2 .*PUT failed/),
    });
    expect(storage.putsOf(2)[0]!.status).toBeUndefined();
    expect(sha256(storage.assembled())).toBe(digest.sha256Hex);
    expect(result.partsUploaded).toBe(4);
    expect(Math.max(...progress.map((p) => p.bytesSent))).toBeLessThanOrEqual(digest.size);
  });

  it('a retry after a dropped connection asks for a fresh URL when the old one has run out', async () => {
    const { path, digest } = await fixture();
    // Some front ends drop the connection of an expired URL instead of answering 403.
    storage.fault(2, { kind: 'reset', afterBytes: PART / 2 });
    const api = {
      ...storage.api,
      createBinaryPart: async (...args: Parameters<typeof storage.api.createBinaryPart>) => {
        const created = await storage.api.createBinaryPart(...args);
        const expires = Math.floor(Date.now() / 1000) + 2;
        return { ...created, presigned_upload_url: `${created.presigned_upload_url}&Expires=${expires}` };
      },
    };
    await upload(path, digest, { api });
    expect(storage.creates.filter((c) => c.index === 2)).toHaveLength(2);
    expect(storage.creates.filter((c) => c.index === 1)).toHaveLength(1);
    expect(sha256(storage.assembled())).toBe(digest.sha256Hex);
  });

  it('waits for Retry-After on a 503 and then succeeds', async () => {
    const { path, digest } = await fixture();
    storage.fault(3, { kind: 'status', status: 503, headers: { 'retry-after': '1' }, body: 'SlowDown' });
    const started = Date.now();
    await upload(path, digest);

    expect(Date.now() - started).toBeGreaterThanOrEqual(950);
    expect(storage.putsOf(3).map((p) => p.status)).toEqual([503, 200]);
    expect(sha256(storage.assembled())).toBe(digest.sha256Hex);
  });

  it('drops an attempt that stalls and retries it', async () => {
    const { path, digest } = await fixture();
    storage.fault(1, { kind: 'stall' });
    const started = Date.now();
    await upload(path, digest, { stallTimeoutMs: 300 });

    expect(Date.now() - started).toBeGreaterThanOrEqual(290);
    expect(storage.putsOf(1)).toHaveLength(2);
    expect(storage.putsOf(1)[1]!.status).toBe(200);
    expect(sha256(storage.assembled())).toBe(digest.sha256Hex);
  });

  it('asks the API for a fresh URL when the presigned URL has expired', async () => {
    const { path, digest } = await fixture();
    storage.fault(2, { kind: 'expire' });
    await upload(path, digest);

    const creates = storage.creates.filter((c) => c.index === 2);
    expect(creates).toHaveLength(2);
    expect(storage.putsOf(2).map((p) => [p.token, p.status])).toEqual([
      [creates[0]!.token, 403],
      [creates[1]!.token, 200],
    ]);
    expect(sha256(storage.assembled())).toBe(digest.sha256Hex);
  });

  it('also takes a fresh URL after a 400 SignatureDoesNotMatch', async () => {
    const { path, digest } = await fixture();
    storage.fault(1, {
      kind: 'status',
      status: 400,
      body: '<Error><Code>SignatureDoesNotMatch</Code><Message>The request signature we calculated does not match</Message></Error>',
    });
    await upload(path, digest);

    expect(storage.creates.filter((c) => c.index === 1)).toHaveLength(2);
    expect(sha256(storage.assembled())).toBe(digest.sha256Hex);
  });

  it('stops asking for fresh URLs when they keep being refused', async () => {
    const { path, digest } = await fixture();
    const expire = { kind: 'expire' } as const;
    storage.fault(1, expire, expire, expire, expire);
    const error = await upload(path, digest, { concurrency: 1 }).catch((e: unknown) => e);

    expect((error as Error).message).toMatch(/part 1 .*HTTP 403: .*Request has expired/);
    expect(storage.putsOf(1)).toHaveLength(3);
    // Part 2's URL may have been asked for ahead; part 1 asked three times.
    expect(storage.creates.filter((c) => c.index === 1)).toHaveLength(3);
  });

  it('resumes: skips parts valid with the same size and hash, re-sends a valid part with another hash', async () => {
    const { path, digest } = await fixture();
    const [p1, p2, p3] = digest.parts;
    storage.seed(1, { hash: p1!.sha256Hex, size: p1!.size });
    storage.seed(2, { hash: '0'.repeat(64), size: p2!.size });
    storage.seed(3, { hash: p3!.sha256Hex.toUpperCase(), size: p3!.size });
    const result = await upload(path, digest);

    expect(storage.puts.map((p) => p.index).sort()).toEqual([2, 4]);
    expect(storage.creates.map((c) => c.index).sort()).toEqual([2, 4]);
    expect(result).toMatchObject({
      partsUploaded: 2,
      partsSkipped: 2,
      bytesSkipped: p1!.size + p3!.size,
      bytesUploaded: p2!.size + 1000,
    });
  });

  it('re-sends a part listed valid whose size differs from the plan', async () => {
    const { path, digest } = await fixture();
    for (const part of digest.parts) storage.seed(part.index, { hash: part.sha256Hex, size: part.size });
    storage.seed(4, { hash: digest.parts[3]!.sha256Hex, size: 999 });
    const result = await upload(path, digest);

    expect(storage.puts.map((p) => p.index)).toEqual([4]);
    expect(result.partsSkipped).toBe(3);
  });

  it('refuses to upload when the server holds parts beyond the plan, and sends nothing', async () => {
    const { path, digest } = await fixture();
    // An earlier run with half the part size: 7 parts of 32 KiB and a tail.
    for (let index = 1; index <= 6; index++) storage.seed(index, { hash: 'a'.repeat(64), size: PART / 2 });
    storage.seed(7, { hash: 'b'.repeat(64), size: 1000 });
    const error = await upload(path, digest).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(ExtraPartsError);
    expect((error as ExtraPartsError).indexes).toEqual([5, 6, 7]);
    expect((error as ExtraPartsError).serverPartSize).toBe(PART / 2);
    expect((error as Error).message).toMatch(/parts 5-7 beyond the 4 .*: 32768 bytes\)/);
    expect(storage.puts).toHaveLength(0);
  });

  it('fails with a ConflictError and sends nothing when the file changed after hashing', async () => {
    const { path, digest } = await fixture();
    const handle = await open(path, 'a');
    await handle.write(Buffer.from('more'));
    await handle.close();
    const error = await upload(path, digest).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(ConflictError);
    expect((error as Error).message).toMatch(/file changed since it was hashed/);
    expect(storage.puts).toHaveLength(0);
  });

  it('does not retry a part the storage rejects as not matching its hash (content changed in place)', async () => {
    const { path } = await fixture();
    // Whole seconds, so the mtime can be put back exactly after the change.
    const mtime = Math.floor(Date.now() / 1000) - 60;
    await utimes(path, mtime, mtime);
    const digest = await digestOf(path, PART);
    // Same size and mtime, other bytes: only the storage's checksum can tell.
    const handle = await open(path, 'r+');
    await handle.write(Buffer.from('changed'), 0, 7, PART + 10);
    await handle.close();
    await utimes(path, mtime, mtime);
    expect((await stat(path)).mtimeMs).toBe(digest.mtimeMs);
    const error = await upload(path, digest, { concurrency: 1 }).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(ConflictError);
    expect((error as Error).message).toMatch(/part 2 .*do not match the hash\/size computed earlier/);
    expect(storage.putsOf(2)).toHaveLength(1);
    expect(storage.putsOf(3)).toHaveLength(0);
  });

  it('never has more parts in flight than the concurrency limit', async () => {
    const path = join(dir, 'many.bin');
    await makeFile(path, 10 * 16 * 1024);
    const digest = await digestOf(path, 16 * 1024);
    storage.answerDelayMs = 40;
    await upload(path, digest, { concurrency: 3 });

    expect(storage.puts).toHaveLength(10);
    expect(storage.maxInFlight).toBe(3);
    expect(sha256(storage.assembled())).toBe(digest.sha256Hex);
  });

  it.each([0, 17, 2.5, Number.NaN])('refuses concurrency %s', async (concurrency) => {
    const { path, digest } = await fixture();
    await expect(upload(path, digest, { concurrency })).rejects.toBeInstanceOf(InputError);
    await expect(upload(path, digest, { concurrency })).rejects.toThrow(/'concurrency'/);
    expect(storage.lists).toBe(0);
  });

  it('re-sends a part the server does not list as valid after the upload', async () => {
    const { path, digest } = await fixture();
    storage.fault(3, { kind: 'lose' });
    const logger = memoryLogger();
    const result = await upload(path, digest, { logger });

    expect(storage.putsOf(3)).toHaveLength(2);
    expect(result.partsUploaded).toBe(5);
    expect(logger.lines.some((l) => l.level === 'warning' && /3 \(invalid_hash\)/.test(l.message))).toBe(
      true,
    );
  });

  it('fails naming the parts the server still does not hold after sending them again', async () => {
    const { path, digest } = await fixture();
    storage.fault(2, { kind: 'lose' }, { kind: 'lose' });
    storage.fault(4, { kind: 'lose' }, { kind: 'lose' });
    const error = await upload(path, digest).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(IncompleteUploadError);
    expect((error as IncompleteUploadError).indexes).toEqual([2, 4]);
    expect((error as Error).message).toMatch(/2 \(invalid_hash\), 4 \(invalid_hash\)/);
    expect(storage.putsOf(2)).toHaveLength(2);
  });

  it('gives up after the retry policy, naming the part, and stops the other parts', async () => {
    const { path, digest } = await fixture();
    const always503 = { kind: 'status', status: 503, body: 'down' } as const;
    storage.fault(1, always503, always503, always503, always503, always503);
    const error = await upload(path, digest, {
      concurrency: 1,
      retry: { ...FAST_RETRY, maxAttempts: 3 },
    }).catch((e: unknown) => e);

    expect((error as Error).message).toMatch(/part 1 .*HTTP 503: down/);
    expect(storage.putsOf(1)).toHaveLength(3);
    expect(storage.puts).toHaveLength(3);
  });

  it('retries an S3 400 RequestTimeout (the body stopped arriving)', async () => {
    const { path, digest } = await fixture();
    storage.fault(2, {
      kind: 'status',
      status: 400,
      body: '<Error><Code>RequestTimeout</Code><Message>Your socket connection to the server was not read from or written to within the timeout period.</Message></Error>',
    });
    await upload(path, digest);

    expect(storage.putsOf(2).map((p) => p.status)).toEqual([400, 200]);
    expect(storage.creates.filter((c) => c.index === 2)).toHaveLength(1);
  });

  it('does not retry a 404 from the storage', async () => {
    const { path, digest } = await fixture();
    storage.fault(1, { kind: 'status', status: 404, body: 'NoSuchUpload' });
    const error = await upload(path, digest, { concurrency: 1 }).catch((e: unknown) => e);

    expect((error as Error).message).toMatch(/HTTP 404: NoSuchUpload/);
    expect(storage.putsOf(1)).toHaveLength(1);
  });

  it('keeps presigned URL signatures out of logs and errors', async () => {
    const { path, digest } = await fixture();
    storage.fault(1, { kind: 'reset', afterBytes: 100 });
    storage.fault(2, { kind: 'status', status: 404, body: 'NoSuchKey' });
    const logger = memoryLogger();
    const error = await upload(path, digest, { logger, concurrency: 1 }).catch((e: unknown) => e);

    const tokens = storage.creates.map((c) => c.token);
    expect(tokens.length).toBeGreaterThan(1);
    const text = [...logger.lines.map((l) => l.message), (error as Error).message].join('\n');
    expect(text).toMatch(/part 1/);
    for (const token of tokens) expect(text).not.toContain(token);
  });

  it('stops when the caller aborts', async () => {
    const { path, digest } = await fixture();
    storage.fault(1, { kind: 'stall' });
    const controller = new AbortController();
    setTimeout(() => controller.abort(new Error('cancelled by test')), 100);
    const error = await upload(path, digest, { signal: controller.signal, concurrency: 1 }).catch(
      (e: unknown) => e,
    );

    expect((error as Error).message).toBe('cancelled by test');
    expect(storage.puts).toHaveLength(1);
  });

  it('uploads parts planned and hashed by the real planner and hasher (5 MiB parts), through a reset', async () => {
    const path = join(dir, 'planned.bin');
    await makeFile(path, 2 * MIN_PART_SIZE + 123_457);
    const digest = await hashFile(path, planParts(2 * MIN_PART_SIZE + 123_457, { partSize: MIN_PART_SIZE }));
    storage.fault(2, { kind: 'reset', afterBytes: 1024 * 1024 });
    const result = await upload(path, digest, { concurrency: 2 });

    expect(digest.parts.map((p) => p.size)).toEqual([MIN_PART_SIZE, MIN_PART_SIZE, 123_457]);
    expect(storage.putsOf(2)).toHaveLength(2);
    expect(sha256(storage.assembled())).toBe(await fileSha256(path));
    expect(result.bytesUploaded).toBe(digest.size);
  });

  it('uploads an empty file as one empty part', async () => {
    const path = join(dir, 'empty.bin');
    await makeFile(path, 0);
    const digest = await digestOf(path, PART);
    const result = await upload(path, digest);

    expect(digest.parts).toHaveLength(1);
    expect(storage.puts).toHaveLength(1);
    expect(storage.puts[0]!.headers['content-length']).toBe('0');
    expect(result.partsUploaded).toBe(1);
  });
});
