/**
 * A part's request body, read from disk into buffers reused from part to part. A fresh read stream per
 * part allocates a new buffer for every chunk; those wait for the garbage collector and showed as tens of
 * MiB of saw-tooth in the client's RSS. Here an attempt borrows two buffers from a pool shared by the parts
 * in flight (one being written to the socket, the next being read from disk).
 *
 * A buffer may be refilled only once nothing can read it any more:
 * - Within an attempt, undici pulls an async-iterable body one chunk at a time, and after a chunk whose
 *   `socket.write` returned false it waits for 'drain' (every queued byte handed to the kernel) or 'close'
 *   before it pulls the next. A chunk at least as large as the socket's high-water mark always returns
 *   false, so when the chunk after next is read into the first buffer, the socket is done with it.
 * - At the end of an attempt the buffers go back to the pool only if undici pulled past the last chunk
 *   (so the last write completed too) and the server answered 2xx after reading every byte. After any other
 *   ending (reset, stall, abort, refusal, an answer before the end of the body) a write may still be queued
 *   on a socket undici is tearing down: the buffers are dropped, and the pool allocates fresh ones later.
 *   Taking from the pool never waits, so a retry can never wait for buffers its own failed attempt holds.
 * - After the end of an attempt the body reads nothing more: undici may pull once more after a failure,
 *   and that pull must not read into a buffer, count progress, or re-arm the attempt's stall timer.
 */
import { open, type FileHandle } from 'node:fs/promises';
import { getDefaultHighWaterMark } from 'node:stream';
import { ConflictError } from '../errors.js';

/**
 * Per read: larger than the 64 KiB stream default to cut per-chunk overhead, and never below a socket's
 * default high-water mark, which the reuse above relies on.
 */
export const PART_READ_CHUNK = Math.max(256 * 1024, getDefaultHighWaterMark(false));

/** Buffers each attempt holds: the one being sent and the one being read ahead. */
const BUFFERS_PER_ATTEMPT = 2;

/**
 * Free read buffers shared by the parts in flight. It keeps at most `BUFFERS_PER_ATTEMPT × attempts` of
 * them, so the read buffers of an upload stay at that many chunks (2 MiB at 4 parts in flight) however
 * many parts it sends, far under part size × concurrency.
 */
export class ReadBufferPool {
  private readonly free: Buffer[] = [];
  private readonly keep: number;
  /** Buffers allocated so far; with reuse it stays at the buffers of the attempts that ran at once. */
  allocated = 0;

  constructor(
    attemptsAtOnce: number,
    readonly chunkSize = PART_READ_CHUNK,
  ) {
    this.keep = BUFFERS_PER_ATTEMPT * attemptsAtOnce;
  }

  /** Never waits: an empty pool allocates. */
  take(): Buffer {
    const buffer = this.free.pop();
    if (buffer) return buffer;
    this.allocated += 1;
    return Buffer.allocUnsafeSlow(this.chunkSize);
  }

  give(buffer: Buffer): void {
    if (this.free.length < this.keep) this.free.push(buffer);
  }
}

/** The body refused a pull that came after its attempt had ended. */
class AttemptEndedError extends Error {
  override name = 'AttemptEndedError';
}

/** The bytes [offset, offset + size) of an open file, as one attempt's request body. */
export class PartReader {
  private readonly buffers: Buffer[];
  private ended = false;
  /** undici asked for the chunk after the last one: every write of this body completed. */
  private consumed = false;
  /** The read in flight, if any: at most one, into the buffer not being sent. */
  private reading: Promise<unknown> | undefined;

  constructor(
    private readonly handle: FileHandle,
    private readonly offset: number,
    private readonly size: number,
    private readonly pool: ReadBufferPool,
    /** Called as each chunk is handed to the request, never after `release`. */
    private readonly onChunk: (length: number) => void,
  ) {
    this.buffers = Array.from({ length: BUFFERS_PER_ATTEMPT }, () => pool.take());
  }

  async *chunks(): AsyncGenerator<Buffer> {
    let position = 0;
    let turn = 0;
    let next: Promise<Buffer> | undefined = this.size > 0 ? this.read(this.buffers[0]!, 0) : undefined;
    while (next) {
      const chunk = await next;
      if (this.ended) throw new AttemptEndedError('the attempt ended');
      position += chunk.length;
      turn = (turn + 1) % this.buffers.length;
      next = position < this.size ? this.read(this.buffers[turn]!, position) : undefined;
      this.onChunk(chunk.length);
      yield chunk;
      if (this.ended) throw new AttemptEndedError('the attempt ended');
    }
    this.consumed = true;
  }

  /**
   * Ends the attempt's use of the body: no read starts after this, the read in flight is waited for, and
   * the buffers go back to the pool only if `answered` (the server answered 2xx) and the body ran to its end.
   */
  async release(answered: boolean): Promise<void> {
    this.ended = true;
    await this.reading?.catch(() => {});
    if (answered && this.consumed) for (const buffer of this.buffers) this.pool.give(buffer);
  }

  private read(buffer: Buffer, position: number): Promise<Buffer> {
    if (this.ended) return Promise.reject(new AttemptEndedError('the attempt ended'));
    const reading = this.fill(buffer, position);
    this.reading = reading;
    // Awaited by the next pull, or by `release`; this only keeps an abandoned read from going unhandled.
    reading.catch(() => {});
    return reading;
  }

  private async fill(buffer: Buffer, position: number): Promise<Buffer> {
    const length = Math.min(buffer.length, this.size - position);
    for (let filled = 0; filled < length;) {
      const at = this.offset + position + filled;
      const { bytesRead } = await this.handle.read(buffer, filled, length - filled, at);
      if (bytesRead === 0) {
        throw new ConflictError(
          `file shrank since it was hashed (ended at byte ${at}, part needs ${this.offset + this.size})`,
        );
      }
      filled += bytesRead;
    }
    return buffer.subarray(0, length);
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
