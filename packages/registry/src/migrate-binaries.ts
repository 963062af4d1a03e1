import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import type { BlobStore, DirectUploads, UploadRef } from './blobs/blob-store.js';
import { insertRecord } from './store/copy-records.js';
import type { PgStore } from './store/pg/pg-store.js';
import type { BinaryRow, PartRow } from './store/rows.js';
import type { Store } from './store/store.js';

/**
 * `migrate`'s content path (migrate.ts): each binary's record, state and content from the data dir into
 * PostgreSQL + S3, every byte's SHA-256 checked against the record before the content counts as stored.
 */

/** Verified content is sent to S3 in parts of this size (the last may be shorter). */
const CHUNK = 16 * 1024 * 1024;
/** How `hash_error` tells a binary migrate found corrupt (a re-run reports it again rather than copy it). */
const MIGRATION_ERROR = 'migration: ';

async function sha256Of(chunks: AsyncIterable<Uint8Array>): Promise<{ hex: string; bytes: number }> {
  const hash = createHash('sha256');
  let bytes = 0;
  for await (const c of chunks) {
    hash.update(c);
    bytes += c.length;
  }
  return { hex: hash.digest('hex'), bytes };
}

async function putPart(
  direct: DirectUploads,
  upload: UploadRef,
  index: number,
  hash: string,
  size: number,
  body: () => AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
) {
  const url = await direct.presignPart(upload, index, { hash, size }, 3600);
  // Node's own fetch: the registry bundle carries no HTTP client library.
  const res = await fetch(url, {
    method: 'PUT',
    headers: {
      'content-length': String(size),
      'x-amz-checksum-sha256': Buffer.from(hash, 'hex').toString('base64'),
    },
    body: size === 0 ? new Uint8Array(0) : (Readable.toWeb(Readable.from(body())) as ReadableStream),
    duplex: 'half',
  });
  const text = await res.text();
  if (res.status !== 200) throw new Error(`S3 refused part ${index}: ${res.status} ${text.slice(0, 200)}`);
}

/** The states a binary goes through, in order; destroyed is apart. */
const CHAIN = ['uploadable', 'hashable', 'hashing', 'signable', 'signed'] as const;
const rank = (state: BinaryRow['state']) =>
  state === 'destroyed' ? Number.POSITIVE_INFINITY : CHAIN.indexOf(state);

/**
 * One binary: the record, its state, and its content (verified). Returns the bytes copied. A binary an
 * earlier run copied (whole or in part) is taken from where that run left it; one the target moved past
 * (a registry already serving it) is left alone.
 */
export async function copyBinary(
  b: BinaryRow,
  source: Store,
  blobs: BlobStore,
  target: PgStore,
  direct: DirectUploads,
  problems: string[],
): Promise<number> {
  const fresh = await insertRecord(target, 'binaries', {
    seq: b.seq,
    id: b.id,
    org: b.org,
    artifact_version_id: b.artifact_version_id,
    target: b.target,
    hash: b.hash,
    size: b.size,
    state: 'uploadable',
    description: b.description,
    custom_metadata: b.custom_metadata,
    revision: b.revision,
    upload_generation: 0,
    blob_hash: null,
    // A server check that failed before the migration still explains why the binary is uploadable.
    hash_error: b.state === 'uploadable' ? b.hash_error : null,
    inserted_at: b.inserted_at,
    updated_at: b.updated_at,
  });
  const copied = await target.binaries.find(b.org, b.id);
  if (!copied) {
    problems.push(
      `binary ${b.id}: not copied, the target holds another live binary of its version and target`,
    );
    return 0;
  }
  const at = b.updated_at;
  let state = copied.state;
  const step = async (to: 'hashable' | 'hashing' | 'signed' | 'destroyed') => {
    await target.binaries.transition(b.id, { to }, at);
    state = to;
  };
  if (b.state === 'destroyed') {
    if (state !== 'destroyed') await step('destroyed');
    return 0;
  }
  if (copied.hash_error?.startsWith(MIGRATION_ERROR)) {
    problems.push(
      `binary ${b.id}: ${copied.hash_error.slice(MIGRATION_ERROR.length)} (found by an earlier run); not copied, it is uploadable`,
    );
    return 0;
  }
  // Where migrate leaves it is generation 0: another generation is a client's upload since. A binary in
  // `hashable` or `hashing` is finished below again (completing its upload twice is fine).
  const done = state === b.state && (state === 'signable' || state === 'signed');
  if (copied.upload_generation !== 0 || rank(state) > rank(b.state) || done) return 0;
  const upload = { binaryId: b.id, generation: 0 };
  if ((b.state === 'signable' || b.state === 'signed') && b.blob_hash) {
    let bytes = 0;
    if (state === 'uploadable') {
      // An earlier run may have started (or even completed) the upload: start again from nothing.
      if (!fresh) await direct.remove(b.id, 0);
      const result = await copyBlob(b, blobs, direct, upload);
      if (typeof result === 'string') {
        problems.push(`binary ${b.id}: ${result}; not copied, it arrives uploadable`);
        await target.binaries.transition(
          b.id,
          { to: 'uploadable', hashError: `${MIGRATION_ERROR}${result}` },
          at,
        );
        return 0;
      }
      bytes = result;
      await step('hashable');
    }
    if (state === 'hashable') await step('hashing');
    if (state === 'hashing') {
      await target.binaries.transition(b.id, { to: 'signable', generation: 0, blobHash: b.blob_hash }, at);
      state = 'signable';
    }
    if (b.state === 'signed') await step('signed');
    return bytes;
  }
  // An upload under way: its valid parts go to the S3 upload under the same numbers, so the client resumes.
  let bytes = 0;
  let complete = true;
  if (state === 'uploadable') {
    const have = new Map((await target.parts.list(b.id)).map((p) => [p.idx, p]));
    for (const part of await source.parts.list(b.id)) {
      const got = have.get(part.idx);
      if (got?.state === 'valid' && got.hash === part.hash && got.size === part.size) continue;
      await target.parts.register({
        binaryId: b.id,
        idx: part.idx,
        id: part.id,
        org: part.org,
        hash: part.hash,
        size: part.size,
        at: part.updated_at,
      });
      if (part.state !== 'valid' || !part.file) {
        complete = false;
        continue;
      }
      const why = await copyPart(b, part, blobs, direct, upload);
      if (why) {
        problems.push(`binary ${b.id} part ${part.idx}: ${why}; not copied, it must be uploaded again`);
        complete = false;
        continue;
      }
      await target.parts.markValid(
        b.id,
        part.idx,
        { hash: part.hash, size: part.size },
        `s3-part-${part.idx}`,
        part.updated_at,
      );
      bytes += part.size;
    }
  }
  if ((b.state === 'hashable' || b.state === 'hashing') && complete) {
    if (state === 'uploadable') await step('hashable');
    await direct.complete(
      upload,
      (await target.parts.list(b.id)).map((p) => p.idx),
    );
    // The target's hash check takes it from here (hashing is re-queued when the registry starts).
    if (b.state === 'hashing' && state === 'hashable') await step('hashing');
  }
  return bytes;
}

/** Reads the part once to verify it, once more to send it (constant memory, whatever the part's size). */
async function copyPart(
  b: BinaryRow,
  part: PartRow,
  blobs: BlobStore,
  direct: DirectUploads,
  upload: UploadRef,
): Promise<string | undefined> {
  let got;
  try {
    got = await sha256Of(blobs.readPart(b.id, part.file!));
  } catch (err) {
    return `its content cannot be read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`;
  }
  if (got.bytes !== part.size) return `its content is ${got.bytes} bytes, the record says ${part.size}`;
  if (got.hex !== part.hash) return `its content's SHA-256 is ${got.hex}, the record says ${part.hash}`;
  await putPart(direct, upload, part.idx, part.hash, part.size, () => blobs.readPart(b.id, part.file!));
  return undefined;
}

/**
 * A verified blob into one object, in 16 MiB parts read once each (hashed, then sent from memory). The whole
 * content's SHA-256 is checked before the upload is completed, so a corrupted blob never becomes an object.
 */
async function copyBlob(
  b: BinaryRow,
  blobs: BlobStore,
  direct: DirectUploads,
  upload: UploadRef,
): Promise<number | string> {
  const stored = await blobs.statBlob(b.blob_hash!);
  if (stored?.size !== b.size)
    return `its content is ${stored ? `${stored.size} bytes, not ${b.size}` : 'missing'}`;
  const whole = createHash('sha256');
  const indexes: number[] = [];
  for (let offset = 0, index = 1; offset < b.size || index === 1; offset += CHUNK, index++) {
    const end = Math.min(offset + CHUNK, b.size) - 1;
    const chunks: Buffer[] = [];
    if (end >= offset) for await (const c of blobs.readBlob(b.blob_hash!, offset, end)) chunks.push(c);
    const chunk = Buffer.concat(chunks);
    whole.update(chunk);
    const partHash = createHash('sha256').update(chunk).digest('hex');
    await putPart(direct, upload, index, partHash, chunk.length, function* () {
      yield chunk;
    });
    indexes.push(index);
    if (b.size === 0) break;
  }
  const digest = whole.digest('hex');
  if (digest !== b.hash || digest !== b.blob_hash) {
    await direct.remove(upload.binaryId, upload.generation);
    return `its content's SHA-256 is ${digest}, the record says ${b.hash}`;
  }
  await direct.complete(upload, indexes);
  return b.size;
}
