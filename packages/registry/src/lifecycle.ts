import { MIN_PART_SIZE } from '@peridio-actions/core/base';
import type { RegistryContext } from './context.js';
import { fieldError } from './http.js';
import { binaryLock } from './janitor.js';
import type { BinaryRow, BinaryStateName, PartRow } from './store/rows.js';
import type { Repositories } from './store/store.js';
import { nowTimestamp } from './time.js';

/**
 * The binary state machine of Peridio's Admin API:
 *
 *   uploadable → hashable → hashing → signable → signed → destroyed
 *                    ↘          ↘          ↘  (reset to uploadable, parts deleted)
 *   signable → destroyed
 *
 * `hashing → signable` is the server's own (hasher.ts); `signable → signed` also happens when a valid
 * signature is attached. A same-state PATCH is a no-op; every other change is a 422 naming both states.
 * Each function here runs inside the caller's transaction and only records content as garbage: the
 * janitor deletes it after the commit, so a refused or rolled-back request never loses content.
 */

/**
 * Runs fn in a transaction while holding the binary's lock (in this process, and its record's row lock in the
 * database for other instances), then deletes what it made garbage. Every
 * change of a binary's state or parts goes through here, so a part upload never commits between a reset's
 * record change and its content deletion.
 */
export async function changeBinary<T>(
  ctx: RegistryContext,
  binaryId: string,
  fn: (tx: Repositories) => Promise<T>,
): Promise<T> {
  return ctx.locks.run(binaryLock(binaryId), async () => {
    // The in-process lock orders this instance's requests; the row lock orders them with other instances'.
    const result = await ctx.store.transaction(async (tx) => {
      await tx.binaries.lock(binaryId);
      return fn(tx);
    });
    await ctx.janitor.sweep();
    return result;
  });
}

export function findBinary(ctx: RegistryContext, id: string, repos: Repositories = ctx.store) {
  return repos.binaries.find(ctx.org, id);
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

/** Drops the parts and the content reference; both become garbage. */
async function dropContent(tx: Repositories, binary: BinaryRow, at: string): Promise<void> {
  await tx.parts.deleteAll(binary.id);
  await tx.contentGarbage.add(
    { kind: 'parts', binaryId: binary.id, generation: binary.upload_generation },
    at,
  );
  if (binary.blob_hash) await tx.contentGarbage.add({ kind: 'blob', blobHash: binary.blob_hash }, at);
}

/** Back to `uploadable`: parts and any published content go; a new upload may start. */
export async function resetToUploadable(
  tx: Repositories,
  binary: BinaryRow,
  hashError: string | null = null,
) {
  const at = nowTimestamp();
  await dropContent(tx, binary, at);
  await tx.binaries.transition(binary.id, { to: 'uploadable', hashError }, at);
}

/** Content deleted for good; the record stays as `destroyed` and frees its target. */
export async function destroy(tx: Repositories, binary: BinaryRow) {
  const at = nowTimestamp();
  await dropContent(tx, binary, at);
  await tx.binaries.transition(binary.id, { to: 'destroyed' }, at);
}

/** Never verified, never signed: the record goes, and any parts with it. */
export async function deleteUnfinished(tx: Repositories, binary: BinaryRow) {
  await tx.binaries.delete(binary.id);
  await tx.contentGarbage.add({ kind: 'parts', binaryId: binary.id }, nowTimestamp());
}

function refuse(from: BinaryStateName, to: BinaryStateName, why?: string): never {
  throw fieldError('state', `invalid transition from ${from} to ${to}${why ? `: ${why}` : ''}`);
}

/** Applies a client-requested state change. Returns true when the binary entered `hashing`. */
export async function transition(tx: Repositories, binary: BinaryRow, to: BinaryStateName): Promise<boolean> {
  const from = binary.state;
  if (from === to) return false;
  switch (`${from}->${to}`) {
    case 'uploadable->hashable': {
      const reason = incompleteReason(binary, await tx.parts.list(binary.id));
      if (reason) refuse(from, to, reason);
      await tx.binaries.transition(binary.id, { to: 'hashable' }, nowTimestamp());
      return false;
    }
    case 'hashable->hashing':
      await tx.binaries.transition(binary.id, { to: 'hashing' }, nowTimestamp());
      return true;
    case 'hashable->uploadable':
    case 'hashing->uploadable':
    case 'signable->uploadable':
      await resetToUploadable(tx, binary);
      return false;
    case 'signable->signed':
      if ((await tx.signatures.count(binary.id)) === 0) {
        refuse(from, to, 'the binary has no signature yet; create a binary signature first');
      }
      await tx.binaries.transition(binary.id, { to: 'signed' }, nowTimestamp());
      return false;
    case 'signable->destroyed':
    case 'signed->destroyed':
      await destroy(tx, binary);
      return false;
    default:
      return refuse(from, to);
  }
}
