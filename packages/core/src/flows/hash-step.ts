/**
 * The hash step of an upload: size, part plan and the one-pass digest of the local file, with the
 * file's problems reported against the `file` input and progress lines for large files.
 */
import { stat } from 'node:fs/promises';
import { InputError } from '../errors.js';
import { hashFile, type FileDigest } from '../hash.js';
import type { Logger } from '../logger.js';
import { planParts } from '../parts.js';
import { formatBytes, formatDuration, formatRate } from './format.js';
import { throttledProgress } from './progress.js';

export interface HashStepOptions {
  filePath: string;
  partSize?: number;
  signal?: AbortSignal;
  progressIntervalMs?: number;
}

export async function hashForUpload(
  options: HashStepOptions,
  logger: Logger,
  partSize = options.partSize,
): Promise<FileDigest> {
  const size = await fileSize(options.filePath);
  const plan = planParts(size, { partSize });
  const progress = throttledProgress(logger, 'Hashing', { intervalMs: options.progressIntervalMs });
  const startedAt = Date.now();
  const digest = await hashFile(options.filePath, plan, {
    signal: options.signal,
    logger,
    onProgress: (done) => progress({ done, total: size }),
  });
  const ms = Date.now() - startedAt;
  logger.info(
    `sha256 ${digest.sha256Hex}, ${formatBytes(size)} (${size} bytes), ${plan.parts.length} part(s) of ` +
      `${formatBytes(plan.partSize)}, hashed in ${formatDuration(ms)}` +
      (ms > 0 ? ` (${formatRate((size * 1000) / ms)})` : ''),
  );
  return digest;
}

/** `hashFile` reports these too, but only after planning, which needs the size first. */
async function fileSize(path: string): Promise<number> {
  try {
    const info = await stat(path);
    if (info.isDirectory()) throw new InputError('file', `${path} is a directory, not a file`);
    if (!info.isFile()) throw new InputError('file', `${path} is not a regular file`);
    return info.size;
  } catch (err) {
    if (err instanceof InputError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT')
      throw new InputError('file', `${path} does not exist (relative paths start at ${process.cwd()})`);
    throw new InputError('file', `${path} cannot be read (${code ?? (err as Error).message})`);
  }
}
