import { createHash } from 'node:crypto';
import { closeSync, createWriteStream, fsyncSync, openSync, rmSync } from 'node:fs';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { RegistryContext } from './context.js';
import { detailError, HttpError } from './http.js';
import { findBinary } from './lifecycle.js';
import type { Route } from './router.js';
import type { PartRow, PartStateName } from './rows.js';
import { parseIndex } from './routes/parts.js';
import { nowTimestamp } from './time.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

class TooLarge extends Error {}

function partRow(ctx: RegistryContext, binaryId: string, index: number): PartRow | undefined {
  return ctx.db.get<PartRow>('SELECT * FROM binary_parts WHERE binary_id = ? AND idx = ?', binaryId, index);
}

function rejectPart(state: PartStateName, message: string, close = false): HttpError {
  return new HttpError(
    400,
    { errors: { detail: `${state}: ${message}` } },
    close ? { connection: 'close' } : {},
  );
}

/**
 * The presigned part upload, S3 UploadPart style: no API key, the URL is the capability. The body streams to
 * a temp file while its size and SHA-256 are computed; only bytes that match the part's registered hash are
 * fsynced, renamed into place and then marked `valid`, so a crash at any point leaves the part not valid.
 */
export function uploadRoutes(ctx: RegistryContext): Route[] {
  return [
    {
      method: 'PUT',
      pattern: '/_presigned/parts/:binary/:index',
      auth: false,
      async handler({ req, params, query }) {
        const binaryId = params.binary!;
        const index = parseIndex(params.index!);
        if (!UUID.test(binaryId) || index === undefined) throw detailError(404, 'Not Found');
        const part = partRow(ctx, binaryId, index);
        const check = part ? ctx.presigner.checkPart(binaryId, index, part.hash, query) : 'signature';
        if (check === 'expired')
          throw detailError(403, 'Presigned URL expired; create the binary part again for a new URL');
        if (check !== 'ok' || !part) throw detailError(403, 'Presigned URL signature does not match');
        const binary = findBinary(ctx, binaryId);
        if (!binary || binary.state !== 'uploadable') {
          throw detailError(
            409,
            `the binary is ${binary?.state ?? 'gone'}; parts can only be uploaded while it is uploadable`,
          );
        }

        const mark = (state: PartStateName) =>
          ctx.db.run(
            `UPDATE binary_parts SET state = ?, updated_at = ? WHERE binary_id = ? AND idx = ? AND hash = ? AND size = ?`,
            state,
            nowTimestamp(),
            binaryId,
            index,
            part.hash,
            part.size,
          );
        const declared = req.headers['content-length'];
        if (declared !== undefined && Number(declared) > part.size) {
          mark('invalid_size');
          throw rejectPart(
            'invalid_size',
            `the body is ${declared} bytes, the part's size is ${part.size}`,
            true,
          );
        }

        const tmp = ctx.storage.tmpPath();
        const hash = createHash('sha256');
        let received = 0;
        const meter = new Transform({
          transform(chunk: Buffer, _encoding, callback) {
            received += chunk.length;
            if (received > part.size) return callback(new TooLarge());
            hash.update(chunk);
            callback(null, chunk);
          },
        });
        try {
          // `flush` fsyncs the file before it is closed: the bytes are durable before the rename below.
          await pipeline(req, meter, createWriteStream(tmp, { flags: 'wx', flush: true }));
        } catch (err) {
          rmSync(tmp, { force: true });
          if (err instanceof TooLarge) {
            mark('invalid_size');
            throw rejectPart(
              'invalid_size',
              `the body is larger than the part's size (${part.size} bytes)`,
              true,
            );
          }
          throw err; // the client went away mid-body: the part stays as it was
        }

        const digest = hash.digest();
        const hex = digest.toString('hex');
        const checksum = req.headers['x-amz-checksum-sha256'];
        let failure: [PartStateName, string] | undefined;
        if (received !== part.size)
          failure = ['invalid_size', `the body is ${received} bytes, the part's size is ${part.size}`];
        else if (hex !== part.hash)
          failure = ['invalid_hash', `the body's SHA-256 is ${hex}, the part's hash is ${part.hash}`];
        else if (typeof checksum === 'string' && checksum !== digest.toString('base64')) {
          failure = ['invalid_hash', 'the body does not match its x-amz-checksum-sha256 header'];
        }
        if (failure) {
          rmSync(tmp, { force: true });
          mark(failure[0]);
          throw rejectPart(failure[0], failure[1]);
        }

        // Synchronous from here on: no reset or re-registration can slip between the rename and the update.
        const now = partRow(ctx, binaryId, index);
        const still = findBinary(ctx, binaryId);
        if (!now || now.hash !== part.hash || now.size !== part.size || still?.state !== 'uploadable') {
          rmSync(tmp, { force: true });
          throw detailError(
            409,
            'the part was re-created or the binary left uploadable while this upload ran; upload again',
          );
        }
        const file = ctx.storage.partFileName(index, hex);
        ctx.storage.commitPartSync(tmp, binaryId, file);
        const dir = openSync(ctx.storage.partDir(binaryId), 'r');
        try {
          fsyncSync(dir);
        } catch {
          /* some filesystems cannot fsync a directory; the rename is still atomic */
        } finally {
          closeSync(dir);
        }
        ctx.db.run(
          `UPDATE binary_parts SET state = 'valid', file = ?, updated_at = ? WHERE binary_id = ? AND idx = ?`,
          file,
          nowTimestamp(),
          binaryId,
          index,
        );
        ctx.partValid(binaryId);
        return { status: 200, headers: { etag: `"${hex}"` } };
      },
    },
  ];
}
