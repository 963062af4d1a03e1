import type { ServerResponse } from 'node:http';
import { UUID_PATTERN } from '@peridio-actions/core/base';
import type { ContentReader } from '../blobs/blob-store.js';
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

/** Per download, two of these: one being sent while the next is read. */
const SEND_BUFFER = 256 * 1024;

/**
 * Bytes [start, end] of the content to the response through two buffers that alternate: one is read
 * while the other is being written, and a buffer is read into again only once the socket has taken all of
 * it. No buffer is allocated per chunk, so a hundred downloads at once cost 2 × 256 KiB each and leave no
 * garbage behind (a stream pipeline allocated a buffer per 64 KiB read).
 */
async function send(reader: ContentReader, start: number, end: number, res: ServerResponse): Promise<void> {
  const length = end - start + 1;
  const size = Math.min(SEND_BUFFER, length);
  const buffers = [Buffer.allocUnsafeSlow(size), Buffer.allocUnsafeSlow(size)];
  // A socket closed under a pending write never calls that write's callback: 'close' ends the wait instead.
  let gone: (err: Error) => void = () => undefined;
  const closed = new Promise<never>((_, reject) => (gone = reject));
  closed.catch(() => undefined);
  const onClose = () => gone(Object.assign(new Error('the client went away'), { code: 'ECONNRESET' }));
  res.once('close', onClose);
  try {
    let written: Promise<void> = Promise.resolve();
    for (let sent = 0, turn = 0; sent < length; turn ^= 1) {
      const buffer = buffers[turn]!;
      const n = await reader.read(buffer, start + sent, Math.min(size, length - sent));
      if (n === 0) throw new Error(`the content ended ${length - sent} bytes early`);
      await Promise.race([written, closed]);
      written = new Promise((resolve, reject) =>
        res.write(n === size ? buffer : buffer.subarray(0, n), (err) => (err ? reject(err) : resolve())),
      );
      // Awaited on the next turn; a client gone meanwhile must not make it an unhandled rejection.
      written.catch(() => undefined);
      sent += n;
    }
    await Promise.race([written, closed]);
    await Promise.race([new Promise<void>((resolve) => res.end(resolve)), closed]);
  } finally {
    res.off('close', onClose);
  }
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
        const reader = await ctx.blobs.openBlob(blob);
        try {
          // Never announce a length the content cannot deliver (content lost on disk, or a broken blob).
          if (reader?.size !== size) {
            ctx.logger.error(
              `binary ${binaryId}: its content ${blob} is ${reader ? `${reader.size} bytes, not ${size}` : 'missing'}`,
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
          if (req.method === 'HEAD' || size === 0) res.end();
          else await send(reader, start, end, res);
        } finally {
          await reader?.close();
        }
        return undefined;
      },
    },
  ];
}
