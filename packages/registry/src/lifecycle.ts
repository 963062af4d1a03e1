import type { RegistryContext } from './context.js';
import { fieldError } from './http.js';
import type { BinaryRow, BinaryStateName, PartRow } from './rows.js';
import { nowTimestamp } from './time.js';

/**
 * The binary state machine of protocol.md §7:
 *
 *   uploadable → hashable → hashing → signable → signed → destroyed
 *                    ↘          ↘          ↘  (reset to uploadable, parts deleted)
 *   signable → destroyed
 *
 * `hashing → signable` is the server's own (hasher.ts); `signable → signed` also happens when a valid
 * signature is attached. A same-state PATCH is a no-op; every other change is a 422 naming both states.
 * Each function here runs inside the caller's transaction and touches the filesystem only synchronously,
 * so no other request can interleave between the record change and the content change.
 */
export const BINARY_STATES: readonly BinaryStateName[] = [
  'uploadable',
  'hashable',
  'hashing',
  'signable',
  'signed',
  'destroyed',
];

export const MIN_PART_SIZE = 5_242_880;
export const MAX_PART_SIZE = 5_368_709_120;
export const MAX_PARTS = 10_000;

export function findBinary(ctx: RegistryContext, id: string): BinaryRow | undefined {
  return ctx.db.get<BinaryRow>('SELECT * FROM binaries WHERE id = ? AND org = ?', id, ctx.org);
}

export function partsOf(ctx: RegistryContext, binaryId: string): PartRow[] {
  return ctx.db.all<PartRow>('SELECT * FROM binary_parts WHERE binary_id = ? ORDER BY idx', binaryId);
}

/** Why the parts do not make up the binary's content, or undefined when they do. */
export function incompleteReason(binary: BinaryRow, parts: PartRow[]): string | undefined {
  if (parts.length === 0) return 'no binary parts have been uploaded';
  let total = 0;
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i]!;
    if (part.idx !== i + 1) return `part ${i + 1} is missing`;
    if (part.state !== 'valid') return `part ${part.idx} is ${part.state}`;
    if (i < parts.length - 1 && part.size < MIN_PART_SIZE) {
      return `part ${part.idx} is ${part.size} bytes; every part but the last needs at least ${MIN_PART_SIZE}`;
    }
    total += part.size;
  }
  if (total !== binary.size) return `the parts add up to ${total} bytes, the binary's size is ${binary.size}`;
  return undefined;
}

/** Deletes a blob once no signable or signed binary refers to it (blobs are shared between binaries). */
export function releaseBlob(ctx: RegistryContext, blobHash: string | null): void {
  if (!blobHash) return;
  if (ctx.db.get('SELECT 1 FROM binaries WHERE blob_hash = ?', blobHash)) return;
  ctx.storage.removeBlobSync(blobHash);
}

function dropParts(ctx: RegistryContext, binary: BinaryRow): void {
  ctx.db.run('DELETE FROM binary_parts WHERE binary_id = ?', binary.id);
  ctx.storage.removePartsSync(binary.id);
}

/** Back to `uploadable`: parts and any published content go; a new upload may start. */
export function resetToUploadable(
  ctx: RegistryContext,
  binary: BinaryRow,
  hashError: string | null = null,
): void {
  dropParts(ctx, binary);
  ctx.db.run(
    `UPDATE binaries SET state = 'uploadable', blob_hash = NULL, hash_error = ?,
     upload_generation = upload_generation + 1, updated_at = ? WHERE id = ?`,
    hashError,
    nowTimestamp(),
    binary.id,
  );
  releaseBlob(ctx, binary.blob_hash);
}

/** Content deleted for good; the record stays as `destroyed` and frees its target. */
export function destroy(ctx: RegistryContext, binary: BinaryRow): void {
  dropParts(ctx, binary);
  ctx.db.run(
    "UPDATE binaries SET state = 'destroyed', blob_hash = NULL, updated_at = ? WHERE id = ?",
    nowTimestamp(),
    binary.id,
  );
  releaseBlob(ctx, binary.blob_hash);
  ctx.binaryDestroyed?.(binary.id);
}

export function signatureCount(ctx: RegistryContext, binaryId: string): number {
  return Number(
    ctx.db.get<{ n: number }>('SELECT count(*) AS n FROM binary_signatures WHERE binary_id = ?', binaryId)!.n,
  );
}

function refuse(from: BinaryStateName, to: BinaryStateName, why?: string): never {
  throw fieldError('state', `invalid transition from ${from} to ${to}${why ? `: ${why}` : ''}`);
}

/** Applies a client-requested state change. Returns true when the binary entered `hashing`. */
export function transition(ctx: RegistryContext, binary: BinaryRow, to: BinaryStateName): boolean {
  const from = binary.state;
  if (from === to) return false;
  const set = (state: BinaryStateName, extra = '') =>
    ctx.db.run(
      `UPDATE binaries SET state = ?, updated_at = ?${extra} WHERE id = ?`,
      state,
      nowTimestamp(),
      binary.id,
    );
  switch (`${from}->${to}`) {
    case 'uploadable->hashable': {
      const reason = incompleteReason(binary, partsOf(ctx, binary.id));
      if (reason) refuse(from, to, reason);
      set('hashable', ', hash_error = NULL');
      return false;
    }
    case 'hashable->hashing':
      set('hashing');
      return true;
    case 'hashable->uploadable':
    case 'hashing->uploadable':
    case 'signable->uploadable':
      resetToUploadable(ctx, binary);
      return false;
    case 'signable->signed':
      if (signatureCount(ctx, binary.id) === 0) {
        refuse(from, to, 'the binary has no signature yet; create a binary signature first');
      }
      set('signed');
      return false;
    case 'signable->destroyed':
    case 'signed->destroyed':
      destroy(ctx, binary);
      return false;
    default:
      return refuse(from, to);
  }
}
