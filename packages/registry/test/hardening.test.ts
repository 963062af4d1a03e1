import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BlobStore } from '../src/blobs/blob-store.js';
import { LocalBlobStore } from '../src/blobs/local/local-blob-store.js';
import {
  createBinary,
  newKeyPair,
  sha256,
  signableBinary,
  startTestRegistry,
  uploadParts,
  waitForState,
  type TestRegistry,
} from './support.js';

const b64 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('base64');
const blobDir = (dataDir: string, hash: string) => join(dataDir, 'blobs', hash.slice(0, 2), hash);

async function download(
  t: TestRegistry,
  prn: string,
): Promise<{ status: number; bytes: Buffer; length: string | null }> {
  const url = (await t.api('GET', `/binaries/${prn}/download_url`)).body.download_url as string;
  const res = await fetch(url);
  return {
    status: res.status,
    length: res.headers.get('content-length'),
    bytes: Buffer.from(await res.arrayBuffer()),
  };
}

async function signedBinary(t: TestRegistry, bytes: Buffer, target: string) {
  const binary = await signableBinary(t, bytes, target);
  const pair = newKeyPair();
  const key = await t.api('POST', '/signing_keys', { name: target, value: pair.value });
  const sig = await t.api('POST', '/binary_signatures', {
    binary_prn: binary.prn,
    signing_key_prn: key.body.signing_key.prn,
    signature: pair.sign(binary.hash),
  });
  expect(sig.status).toBe(201);
  return binary as { prn: string; hash: string };
}

/** PUT with a declared Content-Length, over node:http (fetch computes it itself). */
function rawPut(url: string, body: Buffer, contentLength: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      { method: 'PUT', headers: { 'content-length': String(contentLength) } },
      (res) => {
        res.resume();
        resolve(res.statusCode!);
      },
    );
    req.on('error', (err) =>
      (err as NodeJS.ErrnoException).code === 'ECONNRESET' ? resolve(-1) : reject(err),
    );
    req.end(body);
  });
}

describe('a refused destroy keeps the content (issue 18 item 1)', () => {
  let t: TestRegistry;
  beforeAll(async () => {
    t = await startTestRegistry();
  });
  afterAll(() => t.close());

  for (const extra of [{ hash: 'ab'.repeat(32) }, { size: 12345 }]) {
    it(`PATCH {state: destroyed, ${Object.keys(extra)[0]}} on a signed binary is 422 and the download still serves the bytes`, async () => {
      const bytes = randomBytes(1000);
      const binary = await signedBinary(t, bytes, `destroy-${Object.keys(extra)[0]}`);
      const res = await t.api('PATCH', `/binaries/${binary.prn}`, { state: 'destroyed', ...extra });
      expect(res.status).toBe(422);
      expect((await t.api('GET', `/binaries/${binary.prn}`)).body.binary.state).toBe('signed');
      const got = await download(t, binary.prn);
      expect(got.status).toBe(200);
      expect(got.bytes.equals(bytes)).toBe(true);
    });
  }
});

describe('content deletion survives a crash (issue 18 item 1)', () => {
  it('a destroy whose deletion did not happen leaves a record that the next start completes', async () => {
    const dataDir = (await import('node:fs')).mkdtempSync(
      join((await import('node:os')).tmpdir(), 'registry-crash-'),
    );
    const real = await LocalBlobStore.open(dataDir);
    // Stands in for a kill -9 between the commit and the deletion: the blob stays on disk.
    const failing: BlobStore = Object.assign(Object.create(real) as BlobStore, {
      removeBlob: async () => {
        throw new Error('simulated crash');
      },
    });
    let t = await startTestRegistry({ dataDir, blobs: failing });
    const bytes = randomBytes(2000);
    const binary = await signedBinary(t, bytes, 'crash-destroy');
    expect((await t.api('PATCH', `/binaries/${binary.prn}`, { state: 'destroyed' })).status).toBe(200);
    expect(existsSync(blobDir(dataDir, binary.hash))).toBe(true);
    await t.close({ keepData: true });

    t = await startTestRegistry({ dataDir });
    try {
      expect(existsSync(blobDir(dataDir, binary.hash))).toBe(false);
      expect((await t.api('GET', `/binaries/${binary.prn}`)).body.binary.state).toBe('destroyed');
    } finally {
      await t.close();
    }
  });
});

describe('a refused part PUT never undoes a good one (issue 18 item 4)', () => {
  let t: TestRegistry;
  /** The hash check waits, so it reads the parts after a late bad PUT would have marked one invalid. */
  let slow: TestRegistry;
  beforeAll(async () => {
    t = await startTestRegistry();
    slow = await startTestRegistry({ hashingDelayMs: 300 });
  });
  afterAll(async () => {
    await t.close();
    await slow.close();
  });

  const stateOf = async (prn: string, on = t) =>
    (await on.api('GET', `/binaries/${prn}/parts`)).body.binary_parts[0].state;

  async function goodUpload(target: string, on = t) {
    const bytes = randomBytes(4096);
    const binary = await createBinary(on, bytes, target);
    const [first] = await uploadParts(on, binary.prn, bytes);
    expect(first!.status).toBe(200);
    return { bytes, binary, url: first!.part.presigned_upload_url as string };
  }

  const cases: [string, (bytes: Buffer, url: string) => Promise<number>][] = [
    [
      'the same bytes with a bogus checksum',
      async (bytes, url) =>
        (
          await fetch(url, {
            method: 'PUT',
            body: bytes,
            headers: { 'x-amz-checksum-sha256': b64(Buffer.from('x')) },
          })
        ).status,
    ],
    [
      'other bytes',
      async (bytes, url) => (await fetch(url, { method: 'PUT', body: randomBytes(bytes.length) })).status,
    ],
    [
      'an oversized Content-Length',
      (bytes, url) => rawPut(url, Buffer.concat([bytes, Buffer.from('!')]), bytes.length + 1),
    ],
    [
      'a short body',
      async (bytes, url) => (await fetch(url, { method: 'PUT', body: bytes.subarray(1) })).status,
    ],
  ];
  for (const [name, send] of cases) {
    it(`after a good PUT, ${name} is 400 and the part stays valid`, async () => {
      const { bytes, binary, url } = await goodUpload(`after-good-${name.replaceAll(' ', '-')}`);
      const status = await send(bytes, url);
      expect([400, -1]).toContain(status);
      expect(await stateOf(binary.prn)).toBe('valid');
      expect((await t.api('PATCH', `/binaries/${binary.prn}`, { state: 'hashable' })).status).toBe(200);
    });
  }

  it('a bad PUT that finishes after the binary moved to hashing changes nothing', async () => {
    const { bytes, binary, url } = await goodUpload('bad-in-flight', slow);
    const wrong = randomBytes(bytes.length);
    const finished = new Promise<number>((resolve, reject) => {
      const req = request(
        url,
        { method: 'PUT', headers: { 'content-length': String(wrong.length) } },
        (res) => {
          res.resume();
          resolve(res.statusCode!);
        },
      );
      req.on('error', reject);
      req.write(wrong.subarray(0, 10));
      // The body completes only once the binary has left uploadable; the upload is past its checks once
      // its staging file exists.
      void (async () => {
        while (readdirSync(join(slow.dataDir, 'tmp')).length === 0)
          await new Promise((r) => setTimeout(r, 5));
        expect((await slow.api('PATCH', `/binaries/${binary.prn}`, { state: 'hashable' })).status).toBe(200);
        expect((await slow.api('PATCH', `/binaries/${binary.prn}`, { state: 'hashing' })).status).toBe(200);
        req.end(wrong.subarray(10));
      })().catch(reject);
    });
    expect(await finished).toBe(400);
    const done = await waitForState(slow, binary.prn, ['signable', 'uploadable']);
    expect(done.state).toBe('signable');
    expect(await stateOf(binary.prn, slow)).toBe('valid');
    const got = await download(slow, binary.prn);
    expect(got.bytes.equals(bytes)).toBe(true);
  });

  it('5 good and 5 bad concurrent PUTs of one part leave it valid', async () => {
    const bytes = randomBytes(8192);
    const binary = await createBinary(t, bytes, 'concurrent-puts');
    const part = await t.api('PUT', `/binaries/${binary.prn}/parts/1`, {
      hash: sha256(bytes),
      size: bytes.length,
    });
    const url = part.body.binary_part.presigned_upload_url as string;
    const good = () =>
      fetch(url, { method: 'PUT', body: bytes, headers: { 'x-amz-checksum-sha256': b64(bytes) } });
    const bad = () => fetch(url, { method: 'PUT', body: randomBytes(bytes.length) });
    const results = await Promise.all(
      [good, bad, good, bad, good, bad, good, bad, good, bad].map((f) => f()),
    );
    expect(results.map((r) => r.status).sort()).toEqual([200, 200, 200, 200, 200, 400, 400, 400, 400, 400]);
    expect(await stateOf(binary.prn)).toBe('valid');
    expect((await t.api('PATCH', `/binaries/${binary.prn}`, { state: 'hashable' })).status).toBe(200);
  });
});

describe('a broken blob left by a crash is not re-used (deletion risk)', () => {
  let t: TestRegistry;
  beforeAll(async () => {
    t = await startTestRegistry();
  });
  afterAll(() => t.close());

  it('an empty content directory of the same hash is replaced, so the download sends the bytes', async () => {
    const bytes = randomBytes(3000);
    mkdirSync(blobDir(t.dataDir, sha256(bytes)), { recursive: true });
    const binary = await signableBinary(t, bytes, 'empty-blob-dir');
    const got = await download(t, binary.prn);
    expect(got.length).toBe(String(bytes.length));
    expect(got.bytes.equals(bytes)).toBe(true);
  });

  it('a content directory holding fewer bytes than the content is replaced too', async () => {
    const bytes = randomBytes(3000);
    mkdirSync(blobDir(t.dataDir, sha256(bytes)), { recursive: true });
    writeFileSync(join(blobDir(t.dataDir, sha256(bytes)), '1'), bytes.subarray(0, 100));
    const binary = await signableBinary(t, bytes, 'short-blob-dir');
    const got = await download(t, binary.prn);
    expect(got.bytes.equals(bytes)).toBe(true);
  });
});

describe('a download never announces bytes it cannot send', () => {
  let t: TestRegistry;
  beforeAll(async () => {
    t = await startTestRegistry();
  });
  afterAll(() => t.close());

  it('answers 500 and logs when the content on disk is not the binary’s size', async () => {
    const bytes = randomBytes(3000);
    const binary = await signableBinary(t, bytes, 'lost-content');
    const dir = blobDir(t.dataDir, sha256(bytes));
    writeFileSync(join(dir, readdirSync(dir)[0]!), bytes.subarray(0, 10));
    const got = await download(t, binary.prn);
    expect(got.status).toBe(500);
    expect(t.logger.lines.some((l) => l.message.includes(`is 10 bytes, not ${bytes.length}`))).toBe(true);
  });
});
