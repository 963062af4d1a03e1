/**
 * Progress of one upload run. Bytes count as they are read into the request, so a retried attempt
 * takes its bytes back: `bytesSent` never exceeds `bytesToSend`. The rate is measured over a short
 * sliding window of all bytes moved (retries included), because that is what the link is doing now.
 */
import type { Logger } from '../logger.js';

export interface UploadProgress {
  bytesSent: number;
  bytesToSend: number;
  partsDone: number;
  partsToSend: number;
  bytesPerSecond: number;
}

const RATE_WINDOW_MS = 5_000;

export class ProgressTracker {
  private bytesSent = 0;
  private bytesToSend = 0;
  private partsDone = 0;
  private partsToSend = 0;
  private moved = 0;
  private readonly samples: { at: number; moved: number }[] = [];
  private readonly startedAt: number;
  private callbackFailed = false;

  constructor(
    private readonly onProgress: ((p: UploadProgress) => void) | undefined,
    private readonly logger: Logger,
    private readonly now: () => number = Date.now,
  ) {
    this.startedAt = now();
    this.samples.push({ at: this.startedAt, moved: 0 });
  }

  /** More work joined the run (the first batch, or parts re-sent after verification). */
  plan(bytes: number, parts: number): void {
    this.bytesToSend += bytes;
    this.partsToSend += parts;
    this.emit();
  }

  bytesRead(bytes: number): void {
    this.bytesSent += bytes;
    this.moved += bytes;
    this.emit();
  }

  /** A failed attempt: its bytes will be sent again. */
  attemptFailed(bytesOfAttempt: number): void {
    this.bytesSent -= bytesOfAttempt;
    this.emit();
  }

  partDone(): void {
    this.partsDone += 1;
    this.emit();
  }

  snapshot(): UploadProgress {
    return {
      bytesSent: this.bytesSent,
      bytesToSend: this.bytesToSend,
      partsDone: this.partsDone,
      partsToSend: this.partsToSend,
      bytesPerSecond: this.rate(),
    };
  }

  private rate(): number {
    const at = this.now();
    // One sample per 100 ms keeps the window small however many chunks move.
    if (at - this.samples[this.samples.length - 1]!.at >= 100) this.samples.push({ at, moved: this.moved });
    while (this.samples.length > 2 && at - this.samples[1]!.at >= RATE_WINDOW_MS) this.samples.shift();
    const oldest = this.samples[0]!;
    const elapsedMs = at - oldest.at;
    // Too short a window gives absurd rates from the first chunk.
    if (elapsedMs < 200) return 0;
    return Math.round(((this.moved - oldest.moved) * 1000) / elapsedMs);
  }

  private emit(): void {
    if (!this.onProgress) return;
    try {
      this.onProgress(this.snapshot());
    } catch (err) {
      // A broken progress display must not fail an upload, but it must not vanish either.
      if (!this.callbackFailed)
        this.logger.warning(`progress callback failed: ${(err as Error)?.message ?? err}`);
      this.callbackFailed = true;
    }
  }
}
