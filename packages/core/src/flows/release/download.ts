/**
 * Downloads a manifest URL as a device agent does: streamed, hashed as it arrives (never held in memory),
 * and after a cut connection resumed with `Range: bytes=<received>-` instead of starting over.
 */
import { createHash } from 'node:crypto';
import { silentLogger, type Logger } from '../../logger.js';
import { redactUrl } from '../../redact.js';

export interface DownloadResult {
  size: number;
  sha256: string;
  /** How many times the transfer was resumed after a cut. */
  resumes: number;
}

export interface DownloadOptions {
  maxAttempts?: number;
  timeoutMs?: number;
  logger?: Logger;
  /** Stop reading after this many bytes: more than the manifest's size is wrong anyway. */
  limit?: number;
}

export async function downloadAndHash(url: string, options: DownloadOptions = {}): Promise<DownloadResult> {
  const logger = options.logger ?? silentLogger;
  const maxAttempts = options.maxAttempts ?? 5;
  const hash = createHash('sha256');
  let received = 0;
  let resumes = 0;
  for (let attempt = 1; ; attempt++) {
    const headers: Record<string, string> = received > 0 ? { range: `bytes=${received}-` } : {};
    try {
      const res = await fetch(url, { headers, signal: AbortSignal.timeout(options.timeoutMs ?? 300_000) });
      if (received > 0 && res.status !== 206) {
        await res.body?.cancel();
        throw new DownloadError(
          `resuming at byte ${received} answered HTTP ${res.status}, not 206 Partial Content`,
        );
      }
      if (received === 0 && res.status !== 200) {
        await res.body?.cancel();
        throw new DownloadError(`HTTP ${res.status}`);
      }
      if (!res.body) throw new DownloadError('no body');
      for await (const chunk of res.body as AsyncIterable<Uint8Array>) {
        received += chunk.byteLength;
        hash.update(chunk);
        if (options.limit !== undefined && received > options.limit) {
          throw new DownloadError(`more than the ${options.limit} bytes the manifest says`);
        }
      }
      return { size: received, sha256: hash.digest('hex'), resumes };
    } catch (err) {
      if (err instanceof DownloadError || attempt >= maxAttempts) throw err;
      resumes++;
      logger.info(
        `download of ${redactUrl(url)} was cut after ${received} bytes (${(err as Error).message}); resuming`,
      );
      await new Promise((r) => setTimeout(r, 200 * attempt));
    }
  }
}

export class DownloadError extends Error {
  override name = 'DownloadError';
}
