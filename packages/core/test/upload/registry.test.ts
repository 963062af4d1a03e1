/**
 * The engine against the real thing on the other side: the bundled registry process and the real Admin
 * API client, so the presigned URLs, their expiry and the storage's error bodies are the registry's own.
 */
import { randomUUID } from 'node:crypto';
import { mkdtemp, open, rm, utimes } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRegistry, type RegistryProcess } from '../../../../test/helpers/registry-process.js';
import { PeridioClient } from '../../src/client/admin-client.js';
import { ConflictError } from '../../src/errors.js';
import { hashFile, type FileDigest } from '../../src/hash.js';
import { memoryLogger } from '../../src/logger.js';
import { MIN_PART_SIZE, planParts } from '../../src/parts.js';
import { uploadParts, type PartsApi } from '../../src/upload/engine.js';
import { makeFile } from './fake-storage.js';

const SIZE = 2 * MIN_PART_SIZE + 4321;
const FAST_RETRY = { baseDelayMs: 5, maxDelayMs: 50, maxAttempts: 4, deadlineMs: 30_000 };

let registry: RegistryProcess;
let client: PeridioClient;
let dir: string;
let versionPrn: string;

beforeAll(async () => {
  // Short-lived URLs, so a URL used late really expires. Expiry is in whole seconds: a 2 s TTL leaves at
  // least 1 s for a URL used at once, even on a busy machine.
  registry = await startRegistry({ args: ['--presign-ttl', '2'] });
  client = new PeridioClient({ baseUrl: registry.baseUrl, apiKey: registry.apiKey, retry: FAST_RETRY });
  dir = await mkdtemp(join(tmpdir(), 'upload-registry-'));
  const artifact = await client.createArtifact({ name: `fw-${randomUUID()}` });
  versionPrn = (await client.createArtifactVersion({ artifact_prn: artifact.prn, version: '1.0.0' })).prn;
});

afterAll(async () => {
  await client?.close();
  await registry?.stop();
  await rm(dir, { recursive: true, force: true });
});

async function newBinary(target: string): Promise<{ path: string; digest: FileDigest; prn: string }> {
  const path = join(dir, `${target}.bin`);
  await makeFile(path, SIZE);
  // Whole seconds, so a test can change the bytes and put the mtime back exactly.
  const mtime = Math.floor(Date.now() / 1000) - 60;
  await utimes(path, mtime, mtime);
  const digest = await hashFile(path, planParts(SIZE, { partSize: MIN_PART_SIZE }));
  const binary = await client.createBinary({
    artifact_version_prn: versionPrn,
    target,
    hash: digest.sha256Hex,
    size: SIZE,
  });
  return { path, digest, prn: binary.prn };
}

describe('uploadParts against the registry', () => {
  it('uploads every part so the binary can become hashable, and a re-run sends nothing', async () => {
    const { path, digest, prn } = await newBinary('aarch64-linux-gnu');
    const first = await uploadParts({
      api: client,
      binaryPrn: prn,
      binarySize: SIZE,
      filePath: path,
      digest,
      retry: FAST_RETRY,
    });
    expect(first).toMatchObject({ partsUploaded: 3, partsSkipped: 0, bytesUploaded: SIZE });

    const again = await uploadParts({
      api: client,
      binaryPrn: prn,
      binarySize: SIZE,
      filePath: path,
      digest,
    });
    expect(again).toMatchObject({ partsUploaded: 0, partsSkipped: 3, bytesSkipped: SIZE });

    expect((await client.updateBinary(prn, { state: 'hashable' })).state).toBe('hashable');
  });

  it('gets a fresh URL when the registry says the presigned URL has expired', async () => {
    const { path, digest, prn } = await newBinary('x86_64-linux-gnu');
    const issued: number[] = [];
    const api: PartsApi = {
      listBinaryParts: (binaryPrn) => client.listBinaryParts(binaryPrn),
      async createBinaryPart(binaryPrn, body) {
        const part = await client.createBinaryPart(binaryPrn, body);
        issued.push(body.index);
        // The first URL of part 2 is used only after it expired (TTL 2 s).
        if (body.index === 2 && issued.filter((i) => i === 2).length === 1)
          await new Promise((r) => setTimeout(r, 3_100));
        return part;
      },
    };
    const logger = memoryLogger();
    await uploadParts({
      api,
      binaryPrn: prn,
      binarySize: SIZE,
      filePath: path,
      digest,
      retry: FAST_RETRY,
      logger,
    });

    expect(issued.filter((i) => i === 2).length).toBeGreaterThanOrEqual(2);
    expect(logger.lines.map((l) => l.message)).toContainEqual(
      expect.stringMatching(/part 2: .*HTTP 403: Presigned URL expired/),
    );
    expect((await client.updateBinary(prn, { state: 'hashable' })).state).toBe('hashable');
  });

  it('stops with a ConflictError when the registry rejects bytes that changed in place', async () => {
    const { path, digest, prn } = await newBinary('armv7-linux-gnueabihf');
    const handle = await open(path, 'r+');
    await handle.write(Buffer.from('tampered'), 0, 8, 10);
    await handle.close();
    const mtime = digest.mtimeMs / 1000;
    await utimes(path, mtime, mtime);
    const error = await uploadParts({
      api: client,
      binaryPrn: prn,
      binarySize: SIZE,
      filePath: path,
      digest,
      concurrency: 1,
      retry: FAST_RETRY,
    }).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(ConflictError);
    expect((error as Error).message).toMatch(/part 1 .*invalid_hash/);
    const parts = await client.listBinaryParts(prn);
    expect(parts.find((p) => p.index === 1)?.state).toBe('invalid_hash');
    // Part 2's URL may have been asked for ahead of time (its record exists); no bytes of it were sent.
    expect(parts.filter((p) => p.index !== 1).map((p) => p.state)).not.toContain('valid');
  });
});
