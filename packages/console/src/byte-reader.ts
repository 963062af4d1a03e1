/**
 * Reads a Blob front to back into buffers the caller owns. Chromium's Blob stream is a byte stream, and a
 * BYOB ("bring your own buffer") read of it writes straight into the caller's buffer: measured here at
 * ~1.1–1.4 GB/s for a 1 GiB file, against ~0.4–0.5 GB/s for `slice().arrayBuffer()` per part or the
 * default reader, which allocate a new buffer for every chunk. Where a browser has no BYOB reader for a
 * Blob, the default reader's chunks are copied into the caller's buffer instead.
 *
 * `read(view)` resolves to the bytes written at the start of `view` (at least one, at most view.length), or
 * undefined at the end of the Blob. A BYOB read transfers the buffer behind `view`: go on with the returned
 * view's `.buffer`, never the old one.
 */
export type ByteReader = (view: Uint8Array<ArrayBuffer>) => Promise<Uint8Array<ArrayBuffer> | undefined>;

export function byteReader(blob: Blob): ByteReader {
  const stream = blob.stream();
  let byob: ReadableStreamBYOBReader | undefined;
  try {
    byob = stream.getReader({ mode: 'byob' });
  } catch {
    // not a byte stream in this browser
  }
  if (byob) {
    const reader = byob;
    return async (view) => {
      const { done, value } = await reader.read(view);
      return done || !value ? undefined : value;
    };
  }
  const reader = stream.getReader();
  let rest: Uint8Array | undefined;
  return async (view) => {
    while (!rest?.length) {
      const { done, value } = await reader.read();
      if (done) return undefined;
      rest = value;
    }
    const n = Math.min(rest.length, view.length);
    view.set(rest.subarray(0, n));
    rest = rest.subarray(n);
    return view.subarray(0, n);
  };
}
