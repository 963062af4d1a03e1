import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { UUID_PATTERN } from '@peridio-actions/core/base';
import type { RegistryContext } from '../context.js';
import { detailError, HttpError } from '../http.js';
import { findBinary } from '../lifecycle.js';
import type { Route } from '../router.js';

/** One `bytes=` range → inclusive [start, end], `undefined` to serve it all, or 416. */
export function parseRange(header: string | undefined, size: number): [number, number] | undefined {
  if (!header) return undefined;
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!m) return undefined; // multiple ranges or another unit: answering with the whole body is allowed
  const [, a, b] = m as unknown as [string, string, string];
  if (a === '' && b === '') return undefined;
  let start: number;
  let end: number;
  if (a === '') {
    start = Math.max(0, size - Number(b));
    end = size - 1;
  } else {
    start = Number(a);
    end = b === '' ? size - 1 : Math.min(Number(b), size - 1);
  }
  if (start > end || start >= size) {
    throw new HttpError(
      416,
      { errors: { detail: 'Range Not Satisfiable' } },
      { 'content-range': `bytes */${size}` },
    );
  }
  return [start, end];
}

/** The presigned download URL: a plain GET (or HEAD) with `Range` support, no API key. */
export function downloadRoutes(ctx: RegistryContext): Route[] {
  return [
    {
      method: 'GET',
      pattern: '/_presigned/download/:binary',
      auth: false,
      async handler({ req, res, params, query }) {
        const binaryId = params.binary!;
        if (!UUID_PATTERN.test(binaryId)) throw detailError(404, 'Not Found');
        const binary = await findBinary(ctx, binaryId);
        // Whoever lacks a valid URL learns nothing: not whether the binary exists, nor what state it is in.
        const check = binary?.blob_hash
          ? ctx.presigner.checkDownload(binaryId, binary.blob_hash, query)
          : 'signature';
        if (check === 'signature' || !binary?.blob_hash) throw detailError(403, 'Forbidden');
        if (check === 'expired') throw detailError(403, 'Presigned URL expired; ask for a new download_url');
        if (binary.state !== 'signable' && binary.state !== 'signed')
          throw detailError(404, `Not Found: the binary has no content to download (it is ${binary.state})`);
        const blob = binary.blob_hash;
        const size = binary.size;
        // Never announce a length the content cannot deliver (content lost on disk, or a broken blob).
        const stored = await ctx.blobs.statBlob(blob);
        if (stored?.size !== size) {
          ctx.logger.error(
            `binary ${binaryId}: its content ${blob} is ${stored ? `${stored.size} bytes, not ${size}` : 'missing'}`,
          );
          throw detailError(500, 'Internal Server Error: the content of this binary is not available');
        }
        const range = parseRange(req.headers.range, size);
        const [start, end] = range ?? [0, size - 1];
        const headers: Record<string, string> = {
          'content-type': 'application/octet-stream',
          'content-length': String(size === 0 ? 0 : end - start + 1),
          'accept-ranges': 'bytes',
          etag: `"${blob}"`,
        };
        if (range) headers['content-range'] = `bytes ${start}-${end}/${size}`;
        res.writeHead(range ? 206 : 200, headers);
        if (req.method === 'HEAD' || size === 0) {
          res.end();
          return undefined;
        }
        await pipeline(Readable.from(ctx.blobs.readBlob(blob, start, end)), res);
        return undefined;
      },
    },
  ];
}
