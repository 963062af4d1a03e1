import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync, mkdirSync, openSync, writeSync, closeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConflictError, InputError } from '../src/errors.js';
import { hashFile } from '../src/hash.js';
import { MIN_PART_SIZE, planParts } from '../src/parts.js';

const dir = mkdtempSync(join(tmpdir(), 'core-hash-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const sha256 = (bytes: Uint8Array): Buffer => createHash('sha256').update(bytes).digest();

/** Writes `size` random bytes (in 1 MiB blocks) and returns them for independent hashing. */
function randomFile(name: string, size: number): { path: string; content: Buffer } {
  const path = join(dir, name);
  const content = Buffer.allocUnsafe(size);
  for (let offset = 0; offset < size; offset += 1024 * 1024) {
    randomBytes(Math.min(1024 * 1024, size - offset)).copy(content, offset);
  }
  writeFileSync(path, content);
  return { path, content };
}

describe('hashFile', () => {
  it.each([0, 1, 14, 4 * 1024 * 1024, 4 * 1024 * 1024 + 1])(
    'matches node:crypto for a %i-byte file',
    async (size) => {
      const { path, content } = randomFile(`f-${size}`, size);
      const digest = await hashFile(path, planParts(size));
      expect(digest.size).toBe(size);
      expect(digest.sha256Hex).toBe(sha256(content).toString('hex'));
      expect(digest.parts).toHaveLength(1);
      expect(digest.parts[0]).toMatchObject({ index: 1, offset: 0, size });
      expect(digest.parts[0]?.sha256Hex).toBe(digest.sha256Hex);
      expect(digest.parts[0]?.sha256Base64).toBe(sha256(content).toString('base64'));
      expect(digest.mtimeMs).toBeGreaterThan(0);
    },
  );

  it('hashes a multi-part file (11 MiB + 3 bytes at 5 MiB parts) whole and per part', async () => {
    const size = 11 * 1024 * 1024 + 3;
    const { path, content } = randomFile('multi', size);
    const plan = planParts(size, { partSize: MIN_PART_SIZE });
    const progress: number[] = [];
    const digest = await hashFile(path, plan, { onProgress: (n) => progress.push(n) });
    expect(digest.sha256Hex).toBe(sha256(content).toString('hex'));
    expect(digest.partSize).toBe(MIN_PART_SIZE);
    expect(digest.parts.map((p) => p.size)).toEqual([MIN_PART_SIZE, MIN_PART_SIZE, size - 2 * MIN_PART_SIZE]);
    for (const part of digest.parts) {
      const slice = content.subarray(part.offset, part.offset + part.size);
      expect(part.sha256Hex).toBe(sha256(slice).toString('hex'));
      expect(part.sha256Base64).toBe(sha256(slice).toString('base64'));
    }
    expect(new Set(digest.parts.map((p) => p.sha256Hex)).size).toBe(3);
    expect(progress.at(-1)).toBe(size);
    expect(progress).toEqual([...progress].sort((a, b) => a - b));
  });

  it('hashes a 34 MiB file (big enough for the part-hashing worker) whole and per part', async () => {
    const size = 34 * 1024 * 1024 + 5;
    const { path, content } = randomFile('worker', size);
    const digest = await hashFile(path, planParts(size, { partSize: MIN_PART_SIZE }));
    expect(digest.sha256Hex).toBe(sha256(content).toString('hex'));
    expect(digest.parts).toHaveLength(7);
    for (const part of digest.parts) {
      expect(part.sha256Hex).toBe(
        sha256(content.subarray(part.offset, part.offset + part.size)).toString('hex'),
      );
    }
  });

  it('hashes a file of exactly two parts', async () => {
    const size = 2 * MIN_PART_SIZE;
    const { path, content } = randomFile('two', size);
    const digest = await hashFile(path, planParts(size, { partSize: MIN_PART_SIZE }));
    expect(digest.parts.map((p) => p.sha256Hex)).toEqual([
      sha256(content.subarray(0, MIN_PART_SIZE)).toString('hex'),
      sha256(content.subarray(MIN_PART_SIZE)).toString('hex'),
    ]);
  });

  it('refuses a missing file as input "file"', async () => {
    const err = await hashFile(join(dir, 'nope'), planParts(1)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InputError);
    expect((err as InputError).input).toBe('file');
    expect((err as Error).message).toContain('ENOENT');
  });

  it('refuses a directory as input "file"', async () => {
    const sub = join(dir, 'a-directory');
    mkdirSync(sub);
    const err = await hashFile(sub, planParts(0)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InputError);
    expect((err as InputError).input).toBe('file');
    expect((err as Error).message).toContain('directory');
  });

  it('throws ConflictError when the size differs from the plan', async () => {
    const { path } = randomFile('grown', 100);
    await expect(hashFile(path, planParts(99))).rejects.toBeInstanceOf(ConflictError);
  });

  it('throws ConflictError when the file changes while hashing', async () => {
    const size = 2 * MIN_PART_SIZE;
    const { path } = randomFile('changing', size);
    let touched = false;
    const promise = hashFile(path, planParts(size, { partSize: MIN_PART_SIZE }), {
      onProgress: () => {
        if (touched) return;
        touched = true;
        const fd = openSync(path, 'a');
        writeSync(fd, 'more');
        closeSync(fd);
      },
    });
    await expect(promise).rejects.toBeInstanceOf(ConflictError);
  });

  it('stops when aborted', async () => {
    const size = 2 * MIN_PART_SIZE;
    const { path } = randomFile('aborted', size);
    const controller = new AbortController();
    const promise = hashFile(path, planParts(size, { partSize: MIN_PART_SIZE }), {
      signal: controller.signal,
      onProgress: () => controller.abort(new Error('stop now')),
    });
    await expect(promise).rejects.toThrow('stop now');
    const single = hashFile(path, planParts(size), { signal: AbortSignal.abort(new Error('early')) });
    await expect(single).rejects.toThrow('early');
  });
});
