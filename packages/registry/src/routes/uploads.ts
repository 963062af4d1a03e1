import { UUID_PATTERN } from '@peridio-actions/core/base';
import type { IncomingMessage } from 'node:http';
import { TooLarge, type StagedPart } from '../blobs/blob-store.js';
import type { RegistryContext } from '../context.js';
import { detailError, HttpError } from '../http.js';
import { binaryLock } from '../janitor.js';
import { findBinary } from '../lifecycle.js';
import type { Route } from '../router.js';
import type { PartRow } from '../store/rows.js';
import { nowTimestamp } from '../time.js';
import { parseIndex } from './parts.js';

type Rejection = 'invalid_size' | 'invalid_hash';

/**
 * The presigned part upload, S3 UploadPart style: no API key, the URL is the capability. The body streams to
 * temporary storage while its size and SHA-256 are computed; only bytes that match the part's registered
 * hash are committed and then marked `valid`, so a crash at any point leaves the part not valid. A refused
 * body marks the part invalid only if it is not valid already and its binary is still uploadable: a bad
 * request never undoes a good upload, nor reaches a binary that has moved on.
 */
export function uploadRoutes(ctx: RegistryContext): Route[] {
  return [
    {
      method: 'PUT',
      pattern: '/_presigned/parts/:binary/:index',
      auth: false,
      async handler({ req, params, query }) {
        const part = await authorize(ctx, params, query);
        const declared = req.headers['content-length'];
        if (declared !== undefined && Number(declared) > part.size) {
          await reject(
            ctx,
            part,
            'invalid_size',
            `the body is ${declared} bytes, the part's size is ${part.size}`,
            true,
          );
        }
        const staged = await receive(ctx, part, req);
        const failure = mismatch(part, staged, req.headers['x-amz-checksum-sha256']);
        if (failure) {
          await staged.discard();
          await reject(ctx, part, ...failure);
        }
        await commit(ctx, part, staged);
        return { status: 200, headers: { etag: `"${staged.sha256.toString('hex')}"` } };
      },
    },
  ];
}

/** The URL's signature and expiry, and that the binary still takes parts. */
async function authorize(
  ctx: RegistryContext,
  params: Record<string, string>,
  query: URLSearchParams,
): Promise<PartRow> {
  const binaryId = params.binary!;
  const index = parseIndex(params.index!);
  if (!UUID_PATTERN.test(binaryId) || index === undefined) throw detailError(404, 'Not Found');
  const part = await ctx.store.parts.find(binaryId, index);
  const check = part ? ctx.presigner.checkPart(binaryId, index, part.hash, query) : 'signature';
  if (check === 'expired')
    throw detailError(403, 'Presigned URL expired; create the binary part again for a new URL');
  if (check !== 'ok' || !part) throw detailError(403, 'Presigned URL signature does not match');
  const binary = await findBinary(ctx, binaryId);
  if (binary?.state !== 'uploadable') {
    throw detailError(
      409,
      `the binary is ${binary?.state ?? 'gone'}; parts can only be uploaded while it is uploadable`,
    );
  }
  return part;
}

/** Streams the body into staging; a body longer than the part is refused as soon as it is. */
async function receive(ctx: RegistryContext, part: PartRow, req: IncomingMessage): Promise<StagedPart> {
  try {
    // Nothing else reads the body: its chunks can be freed as soon as they are on disk.
    return await ctx.blobs.stagePart(req, part.size, { releaseChunks: true });
  } catch (err) {
    if (err instanceof TooLarge) {
      await reject(
        ctx,
        part,
        'invalid_size',
        `the body is larger than the part's size (${part.size} bytes)`,
        true,
      );
    }
    throw err; // the client went away mid-body: the part stays as it was
  }
}

function mismatch(
  part: PartRow,
  staged: StagedPart,
  checksum: string | string[] | undefined,
): [Rejection, string] | undefined {
  const hex = staged.sha256.toString('hex');
  if (staged.bytes !== part.size)
    return ['invalid_size', `the body is ${staged.bytes} bytes, the part's size is ${part.size}`];
  if (hex !== part.hash)
    return ['invalid_hash', `the body's SHA-256 is ${hex}, the part's hash is ${part.hash}`];
  if (typeof checksum === 'string' && checksum !== staged.sha256.toString('base64'))
    return ['invalid_hash', 'the body does not match its x-amz-checksum-sha256 header'];
  return undefined;
}

async function reject(
  ctx: RegistryContext,
  part: PartRow,
  state: Rejection,
  message: string,
  close = false,
): Promise<never> {
  const expect = { hash: part.hash, size: part.size };
  await ctx.store.parts.markRejected(part.binary_id, part.idx, expect, state, nowTimestamp());
  throw new HttpError(
    400,
    { errors: { detail: `${state}: ${message}` } },
    close ? { connection: 'close' } : {},
  );
}

/** Under the binary's lock, so no reset or re-registration lands between placing the bytes and `valid`. */
async function commit(ctx: RegistryContext, part: PartRow, staged: StagedPart): Promise<void> {
  const stale = () =>
    detailError(
      409,
      'the part was re-created or the binary left uploadable while this upload ran; upload again',
    );
  await ctx.locks.run(binaryLock(part.binary_id), async () => {
    const now = await ctx.store.parts.find(part.binary_id, part.idx);
    const binary = await findBinary(ctx, part.binary_id);
    if (now?.hash !== part.hash || now.size !== part.size || binary?.state !== 'uploadable') {
      await staged.discard();
      throw stale();
    }
    const file = await staged.commit(part.binary_id, part.idx);
    const expect = { hash: part.hash, size: part.size };
    if (!(await ctx.store.parts.markValid(part.binary_id, part.idx, expect, file, nowTimestamp())))
      throw stale();
  });
  ctx.partValid(part.binary_id);
}
