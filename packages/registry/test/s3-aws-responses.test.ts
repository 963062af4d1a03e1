import { S3Client } from '@aws-sdk/client-s3';
import { createHash, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import './quiet-sqlite.js';
import { S3BlobStore } from '../src/blobs/s3/s3-blob-store.js';
import { syncDirectParts } from '../src/content.js';
import type { RegistryContext } from '../src/context.js';
import { Janitor } from '../src/janitor.js';
import { KeyedLock } from '../src/lock.js';
import { Presigner } from '../src/presign.js';
import { SqliteStore } from '../src/store/sqlite/sqlite-store.js';
import { silentLogger } from '@peridio-actions/core';
import * as aws from './fixtures/aws-s3-responses.js';

const sha = (s: string) => createHash('sha256').update(s).digest();

interface Seen {
  method: string;
  path: string;
  query: Record<string, string | string[] | null>;
  body: string;
}

/** An S3Client whose HTTP layer answers with recorded AWS responses: the SDK parses them as it would AWS's. */
function recordedS3(
  answer: (req: Seen) => { status: number; body?: string; headers?: Record<string, string> },
) {
  const seen: Seen[] = [];
  const client = new S3Client({
    region: 'eu-central-1',
    credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' },
    requestChecksumCalculation: 'WHEN_REQUIRED',
    maxAttempts: 1,
    requestHandler: {
      async handle(request: {
        method: string;
        path: string;
        query?: Record<string, string | string[] | null>;
        body?: unknown;
      }) {
        const body =
          typeof request.body === 'string'
            ? request.body
            : Buffer.isBuffer(request.body)
              ? request.body.toString('utf8')
              : '';
        const req = { method: request.method, path: request.path, query: request.query ?? {}, body };
        seen.push(req);
        const out = answer(req);
        return {
          response: {
            statusCode: out.status,
            headers: { 'content-type': 'application/xml', ...(out.headers ?? {}) },
            body: Readable.from([Buffer.from(out.body ?? '')]),
          },
        };
      },
    } as never,
  });
  return { client, seen };
}

describe('S3 BlobStore against recorded AWS responses (flexible checksums, NoSuchUpload)', () => {
  let dir: string;
  let store: SqliteStore;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 's3-aws-'));
    store = new SqliteStore(join(dir, 'registry.db'));
  });
  afterEach(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const binaryId = randomUUID();
  const key = `fleet/binaries/${binaryId}/0`;
  const p1 = sha('part one');
  const p2 = sha('part two');

  it('reads each part SHA-256 from ListParts and sends it back in CompleteMultipartUpload', async () => {
    const { client, seen } = recordedS3((req) => {
      if (req.method === 'POST' && 'uploads' in req.query)
        return { status: 200, body: aws.createMultipartUpload(key, 'UP1') };
      if (req.method === 'GET' && req.query.uploadId === 'UP1')
        return {
          status: 200,
          body: aws.listPartsWithChecksums(key, 'UP1', [
            { number: 1, size: 5242880, etag: 'e1', sha256Base64: p1.toString('base64') },
            { number: 2, size: 10, etag: 'e2', sha256Base64: p2.toString('base64') },
          ]),
        };
      if (req.method === 'POST' && req.query.uploadId === 'UP1')
        return { status: 200, body: aws.completeMultipartUpload(key, 2, 'Y29tcG9zaXRl') };
      return { status: 500, body: '' };
    });
    const blobs = new S3BlobStore(
      client,
      { bucket: 'test-bucket', prefix: 'fleet/' },
      store.multipartUploads,
      undefined,
    );
    const url = await blobs.presignPart(
      { binaryId, generation: 0 },
      1,
      { hash: p1.toString('hex'), size: 5242880 },
      60,
    );
    // The SHA-256 is a signed header, not a query parameter anyone could drop.
    expect(new URL(url).searchParams.get('X-Amz-SignedHeaders')).toContain('x-amz-checksum-sha256');
    expect(seen[0]!.query).toHaveProperty('uploads');
    const parts = await blobs.listParts({ binaryId, generation: 0 });
    expect(parts.get(1)).toEqual({ size: 5242880, sha256: p1.toString('hex') });
    expect(parts.get(2)).toEqual({ size: 10, sha256: p2.toString('hex') });
    await blobs.complete({ binaryId, generation: 0 }, [1, 2]);
    const complete = seen.find((r) => r.method === 'POST' && r.query.uploadId === 'UP1')!;
    expect(complete.body).toContain(`<ChecksumSHA256>${p1.toString('base64')}</ChecksumSHA256>`);
    expect(complete.body).toContain(`<ChecksumSHA256>${p2.toString('base64')}</ChecksumSHA256>`);
    expect(complete.body).toContain('<ETag>&quot;e2&quot;</ETag>');
  });

  it('an upload AWS no longer knows (NoSuchUpload) that was completed counts as complete', async () => {
    const { client } = recordedS3((req) => {
      if (req.method === 'GET' && req.query.uploadId) return { status: 404, body: aws.noSuchUpload('UP2') };
      if (req.method === 'HEAD') return { status: 200, headers: { 'content-length': '42', etag: '"x-2"' } };
      return { status: 500, body: '' };
    });
    await store.multipartUploads.setIfAbsent(binaryId, 0, 'UP2', 'now');
    const blobs = new S3BlobStore(
      client,
      { bucket: 'test-bucket', prefix: 'fleet/' },
      store.multipartUploads,
      undefined,
    );
    expect((await blobs.listParts({ binaryId, generation: 0 })).size).toBe(0);
    await expect(blobs.complete({ binaryId, generation: 0 }, [1, 2])).resolves.toBeUndefined();
  });

  it('a part whose AWS checksum is not the registered hash is invalid_hash; a matching one valid', async () => {
    const org = randomUUID();
    const now = '2026-01-01T00:00:00.000000Z';
    const art = await store.artifacts.insert({
      id: randomUUID(),
      org,
      name: 'a',
      description: null,
      custom_metadata: null,
      inserted_at: now,
      updated_at: now,
    });
    const ver = await store.artifactVersions.insert({
      id: randomUUID(),
      org,
      artifact_id: art.id,
      version: '1',
      description: null,
      custom_metadata: null,
      inserted_at: now,
      updated_at: now,
    });
    const bin = await store.binaries.insert({
      id: binaryId,
      org,
      artifact_version_id: ver.id,
      target: 't',
      hash: 'c'.repeat(64),
      size: 5242890,
      description: null,
      custom_metadata: null,
      inserted_at: now,
      updated_at: now,
    });
    for (const [idx, hash, size] of [
      [1, p1, 5242880],
      [2, p2, 10],
    ] as const)
      await store.parts.register({
        binaryId,
        idx,
        id: randomUUID(),
        org,
        hash: hash.toString('hex'),
        size,
        at: now,
      });
    const { client } = recordedS3(() => ({
      status: 200,
      body: aws.listPartsWithChecksums(key, 'UP3', [
        { number: 1, size: 5242880, etag: 'e1', sha256Base64: p1.toString('base64') },
        // Stored with another body's checksum: AWS keeps what was sent under its own checksum.
        { number: 2, size: 10, etag: 'e2', sha256Base64: sha('other').toString('base64') },
      ]),
    }));
    await store.multipartUploads.setIfAbsent(binaryId, 0, 'UP3', now);
    const blobs = new S3BlobStore(
      client,
      { bucket: 'test-bucket', prefix: 'fleet/' },
      store.multipartUploads,
      undefined,
    );
    const locks = new KeyedLock();
    const ctx = {
      store,
      blobs,
      locks,
      janitor: new Janitor(store, blobs, locks, silentLogger),
      presigner: new Presigner(Buffer.alloc(32), 60),
      logger: silentLogger,
      org,
      instanceId: 'test',
      publicUrl: undefined,
      enqueueHashing: () => undefined,
      partValid: () => undefined,
    } satisfies RegistryContext;
    await syncDirectParts(ctx, bin);
    expect((await store.parts.list(binaryId)).map((p) => p.state)).toEqual(['valid', 'invalid_hash']);
  });
});
