import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import type { Logger } from '@peridio-actions/core/base';
import type { BlobStore, DirectUploads, UploadRef } from './blobs/blob-store.js';
import { LocalBlobStore } from './blobs/local/local-blob-store.js';
import { openBackends, type BackendChoice } from './backends.js';
import type { BinaryRow, PartRow } from './store/rows.js';
import { SqliteStore } from './store/sqlite/sqlite-store.js';
import type { Listable, Store } from './store/store.js';

/** Verified content is sent to S3 in parts of this size (the last may be shorter). */
const CHUNK = 16 * 1024 * 1024;

export interface MigrateReport {
  ok: boolean;
  summary: string;
  problems: string[];
}

async function* rows<T extends { seq: number }>(repo: Listable<T>, org: string): AsyncIterable<T> {
  for (let after = 0; ;) {
    const page = await repo.list({ org, limit: 500, order: 'asc', after, filters: [] });
    for (const row of page.rows) yield row;
    if (!page.more || page.rows.length === 0) return;
    after = page.rows.at(-1)!.seq;
  }
}

const strip = <T extends { seq: number }>({ seq: _seq, ...rest }: T) => rest;

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

/**
 * Copies an embedded registry (SQLite + content in a data dir) into PostgreSQL + S3. Every byte is hashed on
 * the way: content whose SHA-256 is not the one its record names is reported and not copied, and its binary
 * arrives `uploadable` (with the reason in `hash_error`), so a client uploads it again instead of anyone
 * trusting it. The target must be empty.
 */
export async function migrate(
  fromDir: string,
  choice: BackendChoice,
  env: NodeJS.ProcessEnv,
  logger: Logger,
): Promise<MigrateReport> {
  const dbPath = join(fromDir, 'registry.db');
  if (!existsSync(dbPath)) throw new Error(`${dbPath} does not exist: --from must be a registry data dir`);
  const source = new SqliteStore(dbPath);
  const sourceBlobs = await LocalBlobStore.open(fromDir);
  const target = await openBackends(choice, fromDir, env);
  const problems: string[] = [];
  const counts = {
    artifacts: 0,
    versions: 0,
    keys: 0,
    binaries: 0,
    signatures: 0,
    bytes: 0,
    apiKeys: 0,
    webhooks: 0,
    events: 0,
  };
  try {
    const direct = target.blobs.direct;
    if (!direct) throw new Error('migrate copies content into an S3 bucket: give --to s3://…');
    const org = await source.meta.get('organization');
    if (!org) throw new Error(`${dbPath} has no organization: not a registry database`);
    if (await target.store.meta.get('organization'))
      throw new Error('the target database holds a registry already; migrate into an empty one');
    // The fleet keeps the embedded registry's API key and presigned-URL key.
    for (const [file, key] of [
      ['api-key', 'api-key'],
      ['presign-secret', 'presign-secret'],
    ] as const) {
      const path = join(fromDir, file);
      if (existsSync(path)) await target.store.meta.setIfAbsent(key, readFileSync(path, 'utf8').trim());
    }

    for await (const a of rows(source.artifacts, org)) {
      await target.store.artifacts.insert(strip(a));
      counts.artifacts++;
    }
    for await (const v of rows(source.artifactVersions, org)) {
      await target.store.artifactVersions.insert(strip(v));
      counts.versions++;
    }
    for await (const k of rows(source.signingKeys, org)) {
      await target.store.signingKeys.insert(strip(k));
      counts.keys++;
    }
    for await (const b of rows(source.binaries, org)) {
      const bytes = await copyBinary(b, source, sourceBlobs, target.store, direct, problems);
      counts.bytes += bytes;
      counts.binaries++;
      logger.info(`binary ${b.id} (${b.state}): ${bytes} bytes copied`);
    }
    for await (const s of rows(source.signatures, org)) {
      await target.store.signatures.insert(strip(s));
      counts.signatures++;
    }
    await copyAccess(source, target.store, org, counts);
    // Last, so a registry started on a half-migrated database finds no organization and refuses nothing silently.
    await target.store.meta.setIfAbsent('organization', org);
  } finally {
    await source.close();
    await target.store.close();
  }
  for (const p of problems) logger.error(p);
  const summary =
    `migrated ${counts.artifacts} artifacts, ${counts.versions} versions, ${counts.keys} signing keys, ` +
    `${counts.binaries} binaries (${counts.bytes} bytes verified and copied), ${counts.signatures} signatures, ` +
    `${counts.apiKeys} API keys, ${counts.webhooks} webhooks, ${counts.events} events` +
    (problems.length
      ? `; ${problems.length} problem(s):\n${problems.map((p) => `  ${p}`).join('\n')}`
      : '; every SHA-256 verified');
  return { ok: problems.length === 0, summary, problems };
}

/**
 * Scoped API keys (their hashes: the keys keep working), webhooks (with their secrets) and the event log,
 * in order. Deliveries still queued are not carried: the fleet's webhooks start from the events after it.
 */
async function copyAccess(
  source: Store,
  target: Store,
  org: string,
  counts: { apiKeys: number; webhooks: number; events: number },
): Promise<void> {
  const from = source.accessStore(org);
  const to = target.accessStore(org);
  // Events first: the first webhook then starts the fleet's fan-out after them, so nothing is sent twice.
  const events = source.releaseStore(org);
  const query = new URLSearchParams({ limit: '100', order: 'asc' });
  for (;;) {
    const page = await events.listEvents(query);
    await to.copyEvents(page.items);
    counts.events += page.items.length;
    if (!page.next_page) break;
    query.set('page', page.next_page);
  }
  for await (const k of rows({ list: (q) => from.pageApiKeys(q) }, org)) {
    await to.insertApiKey(strip(k));
    counts.apiKeys++;
  }
  for (const w of await from.listWebhooks()) {
    await to.insertWebhook(w);
    counts.webhooks++;
  }
}

/** One binary: the record, its state, and its content (verified). Returns the bytes copied. */
async function copyBinary(
  b: BinaryRow,
  source: Store,
  blobs: BlobStore,
  target: Store,
  direct: DirectUploads,
  problems: string[],
): Promise<number> {
  await target.binaries.insert({
    id: b.id,
    org: b.org,
    artifact_version_id: b.artifact_version_id,
    target: b.target,
    hash: b.hash,
    size: b.size,
    description: b.description,
    custom_metadata: b.custom_metadata,
    inserted_at: b.inserted_at,
    updated_at: b.updated_at,
  });
  const upload = { binaryId: b.id, generation: 0 };
  const at = b.updated_at;
  const step = (to: 'hashable' | 'hashing' | 'signed' | 'destroyed') =>
    target.binaries.transition(b.id, { to }, at);
  if (b.state === 'destroyed') {
    await step('destroyed');
    return 0;
  }
  if ((b.state === 'signable' || b.state === 'signed') && b.blob_hash) {
    const copied = await copyBlob(b, blobs, direct, upload);
    if (typeof copied === 'string') {
      problems.push(`binary ${b.id}: ${copied}; not copied, it arrives uploadable`);
      await target.binaries.transition(b.id, { to: 'uploadable', hashError: `migration: ${copied}` }, at);
      return 0;
    }
    await step('hashable');
    await step('hashing');
    await target.binaries.transition(b.id, { to: 'signable', generation: 0, blobHash: b.blob_hash }, at);
    if (b.state === 'signed') await step('signed');
    return copied;
  }
  // An upload under way: its valid parts go to the S3 upload under the same numbers, so the client resumes.
  let bytes = 0;
  let complete = true;
  for (const part of await source.parts.list(b.id)) {
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
  if ((b.state === 'hashable' || b.state === 'hashing') && complete) {
    await step('hashable');
    await direct.complete(
      upload,
      (await target.parts.list(b.id)).map((p) => p.idx),
    );
    // The target's hash check takes it from here (hashing is re-queued when the registry starts).
    if (b.state === 'hashing') await step('hashing');
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
