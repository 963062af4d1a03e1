import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { InputError } from '../../src/errors.js';
import { uploadPartFile } from '../../src/flows/binary-part.js';
import type { Binary } from '../../src/types.js';
import { FakeStorage, PRN, makeFile, sha256 } from './fake-storage.js';

let dir: string;
let storage: FakeStorage;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'part-file-'));
  storage = await new FakeStorage().start();
});
afterEach(async () => {
  await storage.close();
  await rm(dir, { recursive: true, force: true });
});

function api(binary: Partial<Binary>) {
  return {
    ...storage.api,
    getBinary: async () => ({ prn: PRN, state: 'uploadable', size: 20_000_000, ...binary }) as Binary,
  };
}

it('sends the file as part N, with the size the binary record declares as expected_binary_size', async () => {
  const path = join(dir, 'part.02');
  await makeFile(path, 100_000);
  const progress: number[] = [];
  const result = await uploadPartFile({
    api: api({}),
    binaryPrn: PRN,
    index: 3,
    filePath: path,
    onProgress: (p) => progress.push(p.bytesSent),
  });
  const bytes = await readFile(path);
  expect(result).toMatchObject({ sha256Hex: sha256(bytes), size: 100_000 });
  expect(result.part).toMatchObject({ index: 3, hash: sha256(bytes), size: 100_000, state: 'valid' });
  expect(storage.creates.map((c) => c.body)).toEqual([
    { index: 3, expected_binary_size: 20_000_000, hash: sha256(bytes), size: 100_000 },
  ]);
  expect(storage.putsOf(3)).toHaveLength(1);
  expect(storage.assembled().equals(bytes)).toBe(true);
  expect(progress.at(-1)).toBe(100_000);
});

it('takes an explicit expected size, and refuses a bad index or a binary past uploadable, naming the input', async () => {
  const path = join(dir, 'part');
  await makeFile(path, 10);
  await uploadPartFile({
    api: api({ size: null }),
    binaryPrn: PRN,
    index: 1,
    filePath: path,
    expectedBinarySize: 5000,
  });
  expect(storage.creates[0]!.body).toMatchObject({ expected_binary_size: 5000 });

  const fail = (options: Partial<Parameters<typeof uploadPartFile>[0]>, binary: Partial<Binary> = {}) =>
    uploadPartFile({ api: api(binary), binaryPrn: PRN, index: 1, filePath: path, ...options }).catch(
      (e: unknown) => e,
    );
  expect(await fail({ index: 0 })).toMatchObject({ input: 'index' });
  expect(await fail({}, { state: 'signable' })).toMatchObject({ input: 'binary-prn' });
  expect(await fail({}, { size: null })).toMatchObject({ input: 'expected-binary-size' });
  const missing = await fail({ filePath: join(dir, 'nope') });
  expect(missing).toBeInstanceOf(InputError);
  expect(missing).toMatchObject({ input: 'file' });
  expect(storage.creates).toHaveLength(1);
});
