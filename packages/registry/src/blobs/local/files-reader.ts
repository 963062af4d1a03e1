import { open, type FileHandle } from 'node:fs/promises';
import type { ContentReader } from '../blob-store.js';

export interface Segment {
  path: string;
  /** As it was when the content was opened; `Infinity`: read to the file's end. */
  size: number;
}

/**
 * Files read as one content, one after another (a blob's segments, or a part's one file), by position into
 * the caller's buffer. One file is open at a time: a download walks its segments in order.
 */
export class FilesReader implements ContentReader {
  readonly size: number;
  private readonly starts: number[] = [];
  private current: { index: number; handle: FileHandle } | undefined;

  constructor(private readonly segments: Segment[]) {
    let offset = 0;
    for (const segment of segments) {
      this.starts.push(offset);
      offset += segment.size;
    }
    this.size = offset;
  }

  async read(buffer: Buffer, position: number, length = buffer.length): Promise<number> {
    let filled = 0;
    while (filled < length && position + filled < this.size) {
      const at = position + filled;
      const index = this.segmentAt(at);
      const segment = this.segments[index]!;
      const within = at - this.starts[index]!;
      const handle = await this.handleOf(index);
      const want = Math.min(length - filled, segment.size - within);
      const { bytesRead } = await handle.read(buffer, filled, want, within);
      if (bytesRead === 0) {
        if (segment.size === Infinity) break;
        // Going on with the next file would shift every later byte: refuse rather than serve other content.
        throw new Error(`${segment.path} is shorter than when it was opened (${segment.size} bytes)`);
      }
      filled += bytesRead;
    }
    return filled;
  }

  async close(): Promise<void> {
    const current = this.current;
    this.current = undefined;
    await current?.handle.close();
  }

  /** The last segment starting at or before `at`: never an empty one while `at` is inside the content. */
  private segmentAt(at: number): number {
    let lo = 0;
    let hi = this.starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.starts[mid]! <= at) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }

  private async handleOf(index: number): Promise<FileHandle> {
    if (this.current?.index === index) return this.current.handle;
    await this.close();
    const handle = await open(this.segments[index]!.path, 'r');
    this.current = { index, handle };
    return handle;
  }
}

/** Chunks of a fresh buffer each, for callers that keep them; at most `chunkSize` bytes. */
export async function* chunksOf(
  reader: ContentReader,
  start: number,
  end: number,
  chunkSize: number,
  signal?: AbortSignal,
): AsyncIterable<Buffer> {
  try {
    for (let position = start; position <= end;) {
      signal?.throwIfAborted();
      const buffer = Buffer.allocUnsafe(Math.min(chunkSize, end - position + 1));
      const n = await reader.read(buffer, position);
      if (n === 0) return;
      position += n;
      yield n === buffer.length ? buffer : buffer.subarray(0, n);
    }
  } finally {
    await reader.close();
  }
}
