/**
 * One binary part from a file that holds exactly that part's bytes: the manual multipart upload a person
 * does with `split` and one command per part. The part is hashed, its record created (or overwritten) and
 * its bytes PUT to the presigned URL with the engine's retries; the binary is left `uploadable`, so the
 * caller moves it to `hashable` once every part is there.
 */
import { stat } from 'node:fs/promises';
import type { Dispatcher } from 'undici';
import { InputError, notFoundAsInput } from '../errors.js';
import { hashFile, type FileDigest } from '../hash.js';
import { silentLogger, type Logger } from '../logger.js';
import { MAX_PARTS, MAX_PART_SIZE, MIN_PART_SIZE, planParts } from '../parts.js';
import { requirePrn } from '../prn.js';
import type { Binary, BinaryPart } from '../types.js';
import { DEFAULT_STALL_TIMEOUT_MS, type PartsApi, type UploadProgress } from '../upload/engine.js';
import { sendPart } from '../upload/part.js';
import { ProgressTracker } from '../upload/progress.js';

export interface UploadPartFileOptions {
  api: PartsApi & { getBinary(prn: string): Promise<Binary> };
  binaryPrn: string;
  /** 1-based position of the part in the binary. */
  index: number;
  filePath: string;
  /** The whole binary's size; by default the size its record declares. */
  expectedBinarySize?: number;
  logger?: Logger;
  signal?: AbortSignal;
  onProgress?: (p: UploadProgress) => void;
  dispatcher?: Dispatcher;
}

export interface UploadPartFileResult {
  binary: Binary;
  part: BinaryPart;
  sha256Hex: string;
  size: number;
}

export async function uploadPartFile(options: UploadPartFileOptions): Promise<UploadPartFileResult> {
  const { api, index, filePath } = options;
  const logger = options.logger ?? silentLogger;
  const binaryPrn = requirePrn(options.binaryPrn, 'binary', 'binary-prn');
  if (!Number.isInteger(index) || index < 1 || index > MAX_PARTS) {
    throw new InputError('index', `must be a whole number from 1 to ${MAX_PARTS}, got ${index}`);
  }
  let binary: Binary;
  try {
    binary = await api.getBinary(binaryPrn);
  } catch (err) {
    throw notFoundAsInput(err, 'binary-prn', `no binary ${binaryPrn} is visible to this API key`);
  }
  if (binary.state !== 'uploadable') {
    throw new InputError(
      'binary-prn',
      `binary ${binaryPrn} is ${binary.state}; parts can only be added while it is uploadable`,
    );
  }
  const expectedBinarySize = options.expectedBinarySize ?? binary.size;
  if (expectedBinarySize === null || expectedBinarySize === undefined) {
    throw new InputError(
      'expected-binary-size',
      `binary ${binaryPrn} declares no size; pass the whole binary's size`,
    );
  }

  // The file is this one part, so a plan whose part size covers the file yields exactly one part.
  const digest = await hashWhole(filePath, options.signal);
  const planned = digest.parts[0]!;
  if (planned.size > MAX_PART_SIZE) {
    throw new InputError('file', `is ${planned.size} bytes; a part holds at most ${MAX_PART_SIZE} bytes`);
  }
  const part = { ...planned, index };
  const progress = new ProgressTracker(options.onProgress, logger);
  progress.plan(part.size, 1);
  let created: BinaryPart | undefined;
  await sendPart(
    {
      createBinaryPart: async (prn, body) => {
        const answer = await api.createBinaryPart(prn, body);
        created = answer;
        return answer;
      },
      binaryPrn,
      binarySize: expectedBinarySize,
      filePath,
      digest: { ...digest, parts: [part] },
      stallTimeoutMs: DEFAULT_STALL_TIMEOUT_MS,
      logger,
      progress,
      dispatcher: options.dispatcher,
    },
    part,
    options.signal,
  );
  progress.partDone();
  logger.info(`Part ${index} of ${binaryPrn}: sent ${part.size} bytes (sha256 ${part.sha256Hex})`);
  // The list answer carries the part's state after the bytes arrived; the create answer predates them.
  const listed = (await api.listBinaryParts(binaryPrn)).find((p) => p.index === index);
  const { presigned_upload_url: _url, ...record } = created as BinaryPart & { presigned_upload_url?: string };
  return { binary, part: listed ?? record, sha256Hex: part.sha256Hex, size: part.size };
}

async function hashWhole(filePath: string, signal?: AbortSignal): Promise<FileDigest> {
  const size = await stat(filePath).then(
    (s) => s.size,
    (err: NodeJS.ErrnoException) => {
      throw new InputError('file', `cannot read ${filePath} (${err.code ?? err.message})`);
    },
  );
  const partSize = Math.min(MAX_PART_SIZE, Math.max(MIN_PART_SIZE, size));
  return hashFile(filePath, planParts(size, { partSize }), { signal });
}
