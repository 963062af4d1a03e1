import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { memoryLogger } from '@peridio-actions/core';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import './quiet-sqlite.js';
import type { BlobStore } from '../src/blobs/blob-store.js';
import { LocalBlobStore } from '../src/blobs/local/local-blob-store.js';
import { Janitor } from '../src/janitor.js';
import { KeyedLock } from '../src/lock.js';
import { SqliteStore } from '../src/store/sqlite/sqlite-store.js';
import { nowTimestamp } from '../src/time.js';

describe('Janitor', () => {
  let dir: string;
  let store: SqliteStore;
  let blobs: LocalBlobStore;
  const org = randomUUID();
  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'janitor-'));
    store = new SqliteStore(join(dir, 'registry.db'));
    blobs = await LocalBlobStore.open(dir);
  });
  afterEach(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** A binary with one valid part whose file is stored. */
  async function binaryWithPart(): Promise<{ id: string; file: string }> {
    const now = nowTimestamp();
    const a = await store.artifacts.insert({
      id: randomUUID(),
      org,
      name: randomUUID(),
      description: null,
      custom_metadata: null,
      inserted_at: now,
      updated_at: now,
    });
    const v = await store.artifactVersions.insert({
      id: randomUUID(),
      org,
      artifact_id: a.id,
      version: '1',
      description: null,
      custom_metadata: null,
      inserted_at: now,
      updated_at: now,
    });
    const bytes = randomBytes(100);
    const b = await store.binaries.insert({
      id: randomUUID(),
      org,
      artifact_version_id: v.id,
      target: 't',
      hash: 'a'.repeat(64),
      size: 100,
      description: null,
      custom_metadata: null,
      inserted_at: now,
      updated_at: now,
    });
    const staged = await blobs.stagePart(Readable.from([bytes]), 100);
    const { row } = await store.parts.register({
      binaryId: b.id,
      idx: 1,
      id: randomUUID(),
      org,
      hash: staged.sha256.toString('hex'),
      size: 100,
      at: now,
    });
    const file = await staged.commit(b.id, 1);
    await store.parts.markValid(b.id, 1, { hash: row.hash, size: 100 }, file, now);
    return { id: b.id, file };
  }

  it('leaves parts alone that a part record uses again (an old deletion retried at a later start)', async () => {
    const b = await binaryWithPart();
    await store.contentGarbage.add({ kind: 'parts', binaryId: b.id }, nowTimestamp());
    await store.contentGarbage.add({ kind: 'part', binaryId: b.id, file: b.file }, nowTimestamp());
    await new Janitor(store, blobs, new KeyedLock(), memoryLogger()).sweep();
    expect(await blobs.partVersion(b.id, b.file)).toBeTypeOf('string');
    expect(await store.contentGarbage.pending()).toEqual([]);
  });

  it('deletes parts no record uses', async () => {
    const b = await binaryWithPart();
    await store.parts.deleteAll(b.id);
    await store.contentGarbage.add({ kind: 'parts', binaryId: b.id }, nowTimestamp());
    await new Janitor(store, blobs, new KeyedLock(), memoryLogger()).sweep();
    expect(await blobs.partVersion(b.id, b.file)).toBeUndefined();
  });

  it('retries a failed deletion only at the next start', async () => {
    const b = await binaryWithPart();
    await store.parts.deleteAll(b.id);
    await store.contentGarbage.add({ kind: 'parts', binaryId: b.id }, nowTimestamp());
    let calls = 0;
    const failing: BlobStore = Object.assign(Object.create(blobs) as BlobStore, {
      removeParts: async () => {
        calls++;
        throw new Error('disk says no');
      },
    });
    const logger = memoryLogger();
    const janitor = new Janitor(store, failing, new KeyedLock(), logger);
    await janitor.sweep();
    await janitor.sweep();
    expect(calls).toBe(1);
    expect(logger.lines.some((l) => l.message.includes('disk says no'))).toBe(true);
    expect(await store.contentGarbage.pending()).toHaveLength(1);
    // The next start: a new janitor over the same records.
    await new Janitor(store, blobs, new KeyedLock(), memoryLogger()).sweep();
    expect(await blobs.partVersion(b.id, b.file)).toBeUndefined();
    expect(await store.contentGarbage.pending()).toEqual([]);
  });
});
