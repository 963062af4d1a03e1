import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import '../quiet-sqlite.js';
import { s3Client } from '../../src/blobs/s3/client.js';
import { parseS3Url, s3Settings } from '../../src/blobs/s3/config.js';
import { S3BlobStore } from '../../src/blobs/s3/s3-blob-store.js';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { describeWithServices, freshBlobStoreUrl } from '../../../../test/services/services.js';

const MiB = 1024 * 1024;
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

async function put(url: string, body: Buffer, sha256: string, headers: Record<string, string> = {}) {
  return fetch(url, {
    method: 'PUT',
    body,
    headers: {
      'content-length': String(body.length),
      'x-amz-checksum-sha256': Buffer.from(sha256, 'hex').toString('base64'),
      ...headers,
    },
  });
}

async function collect(chunks: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const all: Buffer[] = [];
  for await (const c of chunks) all.push(Buffer.from(c));
  return Buffer.concat(all);
}

/** Against the services' real S3 server (Ceph RGW locally and in CI; any S3 with the same variables). */
describeWithServices('S3 BlobStore (direct uploads) against a real S3 server', (env) => {
  let dir: string;
  let records: SqliteStore;
  let blobs: S3BlobStore;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 's3-blobs-'));
    records = new SqliteStore(join(dir, 'registry.db'));
    const settings = s3Settings(env, env.PERIDIO_REGISTRY_S3_FORCE_PATH_STYLE === '1');
    blobs = new S3BlobStore(
      s3Client(settings),
      parseS3Url(freshBlobStoreUrl(env))!,
      records.multipartUploads,
      settings.endpoint,
    );
    await blobs.ensureBucket();
  });
  afterAll(async () => {
    await records.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('parts go to presigned UploadPart URLs; ListParts shows them; complete, read, download, remove', async () => {
    const upload = { binaryId: randomUUID(), generation: 0 };
    const p1 = randomBytes(5 * MiB);
    const p2 = randomBytes(1234);
    expect((await blobs.listParts(upload)).size).toBe(0);
    const u1 = await blobs.presignPart(upload, 1, { hash: sha(p1), size: p1.length }, 60);
    const u2 = await blobs.presignPart(upload, 2, { hash: sha(p2), size: p2.length }, 60);
    expect(new URL(u1).searchParams.get('partNumber')).toBe('1');
    // The same upload for both parts, recorded once.
    expect(new URL(u1).searchParams.get('uploadId')).toBe(new URL(u2).searchParams.get('uploadId'));
    expect((await put(u1, p1, sha(p1))).status).toBe(200);
    expect((await put(u2, p2, sha(p2))).status).toBe(200);
    const listed = await blobs.listParts(upload);
    expect([...listed.entries()].map(([i, p]) => [i, p.size])).toEqual([
      [1, p1.length],
      [2, p2.length],
    ]);
    await blobs.complete(upload, [1, 2]);
    await blobs.complete(upload, [1, 2]); // again (a retry, another instance): fine
    const all = Buffer.concat([p1, p2]);
    expect(await blobs.stat(upload)).toEqual({ size: all.length });
    expect((await collect(blobs.read(upload))).equals(all)).toBe(true);
    const download = await fetch(await blobs.presignDownload(upload, 60), {
      headers: { range: 'bytes=10-19' },
    });
    expect(download.status).toBe(206);
    expect(Buffer.from(await download.arrayBuffer()).equals(all.subarray(10, 20))).toBe(true);
    await blobs.remove(upload.binaryId, upload.generation);
    expect(await blobs.stat(upload)).toBeUndefined();
    expect(await records.multipartUploads.get(upload.binaryId, 0)).toBeUndefined();
  });

  it('a presigned part URL refuses another length, another checksum header, a changed part number', async () => {
    const upload = { binaryId: randomUUID(), generation: 3 };
    const body = randomBytes(1000);
    const url = await blobs.presignPart(upload, 1, { hash: sha(body), size: body.length }, 60);
    expect((await put(url, randomBytes(999), sha(body))).status).toBe(403);
    expect((await put(url, body, sha(randomBytes(10)))).status).toBe(403);
    const moved = new URL(url);
    moved.searchParams.set('partNumber', '2');
    expect((await put(moved.toString(), body, sha(body))).status).toBe(403);
    expect((await blobs.listParts(upload)).size).toBe(0);
    await blobs.remove(upload.binaryId);
  });

  it('two instances starting the same upload at once end up on one multipart upload', async () => {
    const upload = { binaryId: randomUUID(), generation: 0 };
    const urls = await Promise.all(
      [1, 2, 3, 4].map((i) => blobs.presignPart(upload, i, { hash: 'a'.repeat(64), size: 5 * MiB }, 60)),
    );
    expect(new Set(urls.map((u) => new URL(u).searchParams.get('uploadId'))).size).toBe(1);
    await blobs.remove(upload.binaryId, 0);
  });

  it('a reset generation is removed without touching the next one; the sweeper aborts old uploads', async () => {
    const binaryId = randomUUID();
    const body = randomBytes(100);
    for (const generation of [1, 10]) {
      const url = await blobs.presignPart({ binaryId, generation }, 1, { hash: sha(body), size: 100 }, 60);
      expect((await put(url, body, sha(body))).status).toBe(200);
    }
    await blobs.remove(binaryId, 1);
    expect((await blobs.listParts({ binaryId, generation: 10 })).size).toBe(1);
    expect(await blobs.sweepAbandoned(60_000)).toBe(0); // young: kept
    await new Promise((r) => setTimeout(r, 1100));
    expect(await blobs.sweepAbandoned(1000)).toBeGreaterThanOrEqual(1);
    expect((await blobs.listParts({ binaryId, generation: 10 })).size).toBe(0);
  });
});
