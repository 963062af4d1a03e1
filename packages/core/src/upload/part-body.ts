/**
 * A part's request body read from disk into buffers that are reused from part to part. A fresh
 * `createReadStream` per part allocates a new buffer for every chunk; those wait for the garbage
 * collector and showed as a ~50 MiB saw-tooth in the client's RSS. Here each attempt holds two buffers:
 * one being written to the socket, the next being read from disk.
 */
import { open, type FileHandle } from 'node:fs/promises';
import { ConflictError } from '../errors.js';

/** Per read: larger than the 64 KiB stream default to cut per-chunk overhead, small enough × 16 parts. */
const PART_READ_CHUNK = 256 * 1024;

/**
 * Free read buffers shared by the parts in flight. `take` never waits (it allocates when the pool is
 * empty), so the pool holds at most the buffers of the attempts that ran at once: 2 × concurrency.
 */
export class ReadBufferPool {
  private readonly free: Buffer[] = [];
  constructor(readonly chunkSize = PART_READ_CHUNK) {}

  take(): Buffer {
    return this.free.pop() ?? Buffer.allocUnsafeSlow(this.chunkSize);
  }

  give(buffer: Buffer): void {
    this.free.push(buffer);
  }
}

/**
 * Yields the bytes [offset, offset + size) of the file, reading ahead by one chunk. A yielded chunk is
 * not refilled until the consumer asks for the one after the next: undici asks for the next chunk only
 * once the socket took the previous one (write returned true or 'drain' fired), and with chunks larger
 * than the socket's high-water mark that means written. The caller gives the buffers back to the pool
 * only after the server answered (every byte written); after a failed attempt it drops them.
 */
export async function* partBody(
  handle: FileHandle,
  offset: number,
  size: number,
  buffers: readonly [Buffer, Buffer],
): AsyncGenerator<Buffer> {
  const read = async (buffer: Buffer, position: number): Promise<Buffer> => {
    const length = Math.min(buffer.length, size - position);
    for (let filled = 0; filled < length;) {
      const { bytesRead } = await handle.read(buffer, filled, length - filled, offset + position + filled);
      if (bytesRead === 0) {
        throw new ConflictError(
          `file shrank since it was hashed (ended at byte ${offset + position + filled}, part needs ` +
            `${offset + size})`,
        );
      }
      filled += bytesRead;
    }
    return buffer.subarray(0, length);
  };
  let position = 0;
  let turn = 0;
  let next: Promise<Buffer> | undefined = size > 0 ? read(buffers[0], 0) : undefined;
  while (next) {
    const chunk = await next;
    position += chunk.length;
    turn ^= 1;
    next = position < size ? read(buffers[turn]!, position) : undefined;
    // Awaited on the next turn; this only keeps an abandoned read from going unhandled.
    next?.catch(() => {});
    yield chunk;
  }
}

export async function openForParts(path: string): Promise<FileHandle> {
  try {
    return await open(path, 'r');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'error';
    throw new ConflictError(`${path}: file changed since it was hashed (${code})`, { cause: err });
  }
}
