import { randomBytes } from 'node:crypto';
import { readdirSync, utimesSync, writeFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import './quiet-sqlite.js';
import {
  createBinary,
  sha256,
  startTestRegistry,
  uploadParts,
  waitForState,
  type TestRegistry,
} from './support.js';

let t: TestRegistry;
beforeAll(async () => {
  t = await startTestRegistry();
});
afterAll(async () => t?.close());

const PART = 5_242_880;
const idOf = (prn: string) => prn.split(':').pop()!;
const partFiles = (prn: string) =>
  readdirSync(join(t.dataDir, 'parts', idOf(prn))).sort((a, b) => parseInt(a) - parseInt(b));

describe('content hashed while the parts arrive', () => {
  it('hashes the parts in order as they become valid; the check at hashing uses it', async () => {
    const bytes = randomBytes(2 * PART + 1234);
    const binary = await createBinary(t, bytes, 'prefix-used');
    await uploadParts(t, binary.prn, bytes, PART);
    await t.api('PATCH', `/binaries/${binary.prn}`, { state: 'hashable' });
    await t.api('PATCH', `/binaries/${binary.prn}`, { state: 'hashing' });
    const done = await waitForState(t, binary.prn, ['signable', 'uploadable']);
    expect(done.state).toBe('signable');
    expect(done.hash).toBe(sha256(bytes));
    const used = t.logger.lines.some(
      (l) => l.message === `binary ${idOf(binary.prn)}: content hashed while its parts arrived`,
    );
    expect(used).toBe(true);
  });

  it('digestOf gives the SHA-256 of exactly the listed part files, and nothing for other files', async () => {
    const bytes = randomBytes(2 * PART + 10);
    const binary = await createBinary(t, bytes, 'prefix-direct');
    await uploadParts(t, binary.prn, bytes, PART);
    const prefixes = t.registry.hasher.prefixes;
    const files = partFiles(binary.prn);
    expect(files).toHaveLength(3);
    expect(await prefixes.digestOf(idOf(binary.prn), files.slice(0, 2))).toBeUndefined();
    // digestOf consumes what was kept; a re-upload of the same parts builds it again.
    await uploadParts(t, binary.prn, bytes, PART);
    expect(await prefixes.digestOf(idOf(binary.prn), files)).toEqual({
      digest: sha256(bytes),
      bytes: bytes.length,
    });
  });

  it('a part written to on disk after it arrived is not trusted: the check reads it again and fails', async () => {
    const bytes = randomBytes(PART + 100);
    const binary = await createBinary(t, bytes, 'prefix-tampered');
    await uploadParts(t, binary.prn, bytes, PART);
    await new Promise((r) => setTimeout(r, 200));
    // Same size, same mtime restored: only the inode's ctime tells that the bytes changed.
    const path = join(t.dataDir, 'parts', idOf(binary.prn), partFiles(binary.prn)[0]!);
    const content = readFileSync(path);
    content[0] = content[0]! ^ 0xff;
    writeFileSync(path, content);
    const past = new Date(Date.now() - 60_000);
    utimesSync(path, past, past);
    await t.api('PATCH', `/binaries/${binary.prn}`, { state: 'hashable' });
    await t.api('PATCH', `/binaries/${binary.prn}`, { state: 'hashing' });
    const done = await waitForState(t, binary.prn, ['signable', 'uploadable']);
    expect(done.state).toBe('uploadable');
    expect(done.hash_error).toMatch(/server-side hash check failed: the content's SHA-256/);
  });
});
