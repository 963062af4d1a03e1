import type { RegistryContext } from './context.js';
import { changeBinary, findBinary } from './lifecycle.js';
import type { BinaryRow, PartRow } from './store/rows.js';
import { nowTimestamp } from './time.js';

/**
 * Where content goes and comes from, whichever store holds it: the registry's own HMAC URLs for content it
 * proxies (local directory), the content store's presigned URLs for direct stores (S3).
 */
export async function partUploadUrl(
  ctx: RegistryContext,
  baseUrl: string,
  binary: BinaryRow,
  part: PartRow,
): Promise<string> {
  const direct = ctx.blobs.direct;
  if (!direct) return ctx.presigner.partUrl(baseUrl, binary.id, part.idx, part.hash);
  return direct.presignPart(
    { binaryId: binary.id, generation: binary.upload_generation },
    part.idx,
    { hash: part.hash, size: part.size },
    ctx.presigner.ttlSeconds,
  );
}

export async function downloadUrl(
  ctx: RegistryContext,
  baseUrl: string,
  binary: Pick<BinaryRow, 'id' | 'blob_hash' | 'upload_generation'>,
): Promise<string> {
  const direct = ctx.blobs.direct;
  if (!direct) return ctx.presigner.downloadUrl(baseUrl, binary.id, binary.blob_hash!);
  return direct.presignDownload(
    { binaryId: binary.id, generation: binary.upload_generation },
    ctx.presigner.ttlSeconds,
  );
}

type Verdict = 'valid' | 'uploadable' | 'invalid_size' | 'invalid_hash';

/**
 * A direct store receives parts without the registry: bring the part records of an uploadable binary in line
 * with what the store holds. A part is valid when the store has it with the registered size and, where the
 * store keeps SHA-256 checksums (AWS), the registered hash; where it keeps none (Ceph RGW 16), the hash is
 * proven by the check of the whole content at `hashing`.
 */
export async function syncDirectParts(ctx: RegistryContext, binary: BinaryRow): Promise<void> {
  const direct = ctx.blobs.direct;
  if (!direct || binary.state !== 'uploadable') return;
  const generation = binary.upload_generation;
  const stored = await direct.listParts({ binaryId: binary.id, generation });
  const verdict = (part: PartRow): Verdict => {
    const s = stored.get(part.idx);
    if (!s) return 'uploadable';
    if (s.size !== part.size) return 'invalid_size';
    if (s.sha256 !== undefined && s.sha256 !== part.hash) return 'invalid_hash';
    return 'valid';
  };
  const stale = (parts: PartRow[]) => parts.filter((p) => verdict(p) !== p.state);
  if (stale(await ctx.store.parts.list(binary.id)).length === 0) return;
  await changeBinary(ctx, binary.id, async (tx) => {
    const current = await findBinary(ctx, binary.id, tx);
    if (current?.state !== 'uploadable' || current.upload_generation !== generation) return;
    const at = nowTimestamp();
    for (const part of stale(await tx.parts.list(binary.id))) {
      const expect = { hash: part.hash, size: part.size };
      const v = verdict(part);
      if (v === 'valid') await tx.parts.markValid(binary.id, part.idx, expect, `s3-part-${part.idx}`, at);
      else if (part.state === 'valid' || v === 'uploadable') {
        // Gone from the store (an aborted upload): waits for its bytes again.
        await tx.parts.register({
          binaryId: binary.id,
          idx: part.idx,
          id: part.id,
          org: part.org,
          ...expect,
          at,
        });
      } else await tx.parts.markRejected(binary.id, part.idx, expect, v, at);
    }
  });
}

/**
 * At `hashable` the direct store's upload becomes one object. Best effort: the record is hashable already,
 * and the hash check completes the upload itself when this did not (the store was unreachable).
 */
export async function completeDirectUpload(ctx: RegistryContext, binary: BinaryRow): Promise<void> {
  const direct = ctx.blobs.direct;
  if (!direct) return;
  const parts = await ctx.store.parts.list(binary.id);
  try {
    await direct.complete(
      { binaryId: binary.id, generation: binary.upload_generation },
      parts.map((p) => p.idx),
    );
  } catch (err) {
    ctx.logger.warning(
      `binary ${binary.id}: completing its upload failed, the hash check retries: ${(err as Error).message}`,
    );
  }
}
