import { describe, expect, it } from 'vitest';
import type { PartDigest } from '../../src/hash.js';
import { silentLogger } from '../../src/logger.js';
import { runPool } from '../../src/upload/pool.js';
import type { BinaryPart } from '../../src/types.js';
import { ProgressTracker, type UploadProgress } from '../../src/upload/progress.js';
import { compareParts, describeMissing, formatIndexes, serverPartSize } from '../../src/upload/resume.js';
import { classifyRefusal, summarizeErrorBody } from '../../src/upload/storage-errors.js';

function planned(index: number, size = 10, hash = `${index}`.repeat(64).slice(0, 64)): PartDigest {
  return { index, offset: (index - 1) * 10, size, sha256Hex: hash, sha256Base64: 'x' };
}

function listed(index: number, overrides: Partial<BinaryPart> = {}): BinaryPart {
  const part = planned(index);
  return {
    prn: `p${index}`,
    organization_prn: 'o',
    binary_prn: 'b',
    index,
    hash: part.sha256Hex,
    size: part.size,
    state: 'valid',
    inserted_at: '',
    updated_at: '',
    ...overrides,
  };
}

describe('compareParts', () => {
  it('counts a part present only when valid with the same index, size and hash', () => {
    const plan = [1, 2, 3, 4, 5].map((i) => planned(i));
    const result = compareParts(plan, [
      listed(1),
      listed(2, { state: 'uploadable' }),
      listed(3, { size: 11 }),
      listed(4, { hash: 'f'.repeat(64) }),
      listed(7),
      listed(6, { state: 'invalid_hash' }),
    ]);
    expect(result.present.map((p) => p.index)).toEqual([1]);
    expect(result.missing.map((p) => p.index)).toEqual([2, 3, 4, 5]);
    expect(result.extra).toEqual([6, 7]);
  });

  it('does not trust an index the server lists twice unless both records match', () => {
    const result = compareParts([planned(1)], [listed(1), listed(1, { state: 'invalid_size' })]);
    expect(result.missing.map((p) => p.index)).toEqual([1]);
  });

  it('describes why each part does not count', () => {
    const plan = [1, 2, 3, 4].map((i) => planned(i));
    const text = describeMissing(plan, [
      listed(2, { state: 'invalid_hash' }),
      listed(3, { size: 9 }),
      listed(4, { hash: 'e' }),
    ]);
    expect(text).toBe('1 (missing), 2 (invalid_hash), 3 (size 9, expected 10), 4 (another hash)');
  });
});

describe('serverPartSize', () => {
  it('finds the part size of an earlier upload only when its parts show one', () => {
    const sized = (sizes: number[]) => sizes.map((size, i) => listed(i + 1, { size }));
    expect(serverPartSize(sized([8, 8, 8, 3]))).toBe(8);
    expect(serverPartSize(sized([8, 8]))).toBe(8);
    expect(serverPartSize(sized([8, 5, 8, 3]))).toBeUndefined();
    expect(serverPartSize(sized([8, 9]))).toBeUndefined();
    expect(serverPartSize(sized([8]))).toBeUndefined();
    expect(
      serverPartSize([listed(1, { size: 8 }), listed(3, { size: 8 }), listed(4, { size: 2 })]),
    ).toBeUndefined();
  });
});

describe('formatIndexes', () => {
  it('collapses runs and cuts long lists', () => {
    expect(formatIndexes([9, 1, 2, 3, 5, 8])).toBe('1-3, 5, 8-9');
    expect(formatIndexes([1, 3, 5, 7], 2)).toBe('1, 3 and 2 more ranges');
  });
});

describe('runPool', () => {
  it('runs at most `limit` items at once and all of them', async () => {
    let inFlight = 0;
    let max = 0;
    const done: number[] = [];
    await runPool([1, 2, 3, 4, 5, 6, 7], 3, async (item) => {
      inFlight++;
      max = Math.max(max, inFlight);
      await new Promise((r) => setTimeout(r, 5));
      inFlight--;
      done.push(item);
    });
    expect(max).toBe(3);
    expect(done.sort()).toEqual([1, 2, 3, 4, 5, 6, 7]);
  });

  it('stops taking items after a failure, aborts the ones in flight, and waits for them', async () => {
    const started: number[] = [];
    let settled = 0;
    const error = await runPool([1, 2, 3, 4, 5], 2, async (item, signal) => {
      started.push(item);
      try {
        if (item === 1) throw new Error('part 1 broke');
        await new Promise((resolve, reject) => {
          const timer = setTimeout(resolve, 5_000);
          signal.addEventListener('abort', () => (clearTimeout(timer), reject(signal.reason as Error)));
        });
      } finally {
        settled++;
      }
    }).catch((e: unknown) => e);
    expect((error as Error).message).toBe('part 1 broke');
    expect(started).toEqual([1, 2]);
    expect(settled).toBe(2);
  });
});

describe('ProgressTracker', () => {
  it('takes back the bytes of a failed attempt and measures the rate over recent bytes', () => {
    let now = 0;
    const seen: UploadProgress[] = [];
    const tracker = new ProgressTracker(
      (p) => seen.push(p),
      silentLogger,
      () => now,
    );
    tracker.plan(1000, 2);
    now = 500;
    tracker.bytesRead(400);
    tracker.attemptFailed(400);
    now = 1000;
    tracker.bytesRead(500);
    tracker.partDone();
    expect(seen.at(-1)).toEqual({
      bytesSent: 500,
      bytesToSend: 1000,
      partsDone: 1,
      partsToSend: 2,
      bytesPerSecond: 900,
    });
  });

  it('keeps uploading when the progress callback throws, and says so once', () => {
    const warnings: string[] = [];
    const tracker = new ProgressTracker(
      () => {
        throw new Error('display broke');
      },
      { ...silentLogger, warning: (m) => void warnings.push(m) },
    );
    tracker.bytesRead(1);
    tracker.bytesRead(1);
    expect(warnings).toEqual(['progress callback failed: display broke']);
  });
});

describe('storage refusals', () => {
  it('reads the S3 XML and registry JSON error shapes, without URL queries', () => {
    expect(
      summarizeErrorBody(
        '<?xml version="1.0"?><Error><Code>AccessDenied</Code><Message>Request has expired</Message></Error>',
      ),
    ).toBe('AccessDenied: Request has expired');
    expect(
      summarizeErrorBody(
        '{"errors":{"detail":"invalid_hash: the body\'s SHA-256 is 1, the part\'s hash is 2"}}',
      ),
    ).toBe("invalid_hash: the body's SHA-256 is 1, the part's hash is 2");
    expect(summarizeErrorBody('see https://s3.example/b/k?X-Amz-Signature=abc123 now')).toBe(
      'see https://s3.example/b/k?X-Amz-Signature=*** now',
    );
    expect(summarizeErrorBody('  ')).toBe('(empty body)');
  });

  it('tells a refused URL from bytes that do not match', () => {
    expect(classifyRefusal(403, 'AccessDenied: Access Denied')).toBe('url-refused');
    expect(classifyRefusal(400, 'Presigned URL expired')).toBe('url-refused');
    expect(classifyRefusal(401, 'SignatureDoesNotMatch')).toBe('url-refused');
    expect(
      classifyRefusal(400, 'BadDigest: The SHA256 you specified did not match the calculated checksum.'),
    ).toBe('content-mismatch');
    expect(classifyRefusal(400, "invalid_size: the body is 3 bytes, the part's size is 4")).toBe(
      'content-mismatch',
    );
    expect(
      classifyRefusal(
        400,
        'IncompleteBody: You did not provide the number of bytes specified by the Content-Length',
      ),
    ).toBe('transient');
    expect(classifyRefusal(400, 'InvalidArgument: Part number must be an integer')).toBe('other');
    expect(classifyRefusal(404, 'NoSuchUpload')).toBe('other');
  });
});
