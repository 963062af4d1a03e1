import { describe, expect, it } from 'vitest';
import { presignedUrlExpiresAt, presignedUrlExpiring } from '../../src/upload/presigned-expiry.js';

describe('presignedUrlExpiresAt', () => {
  it('reads S3 SigV4 X-Amz-Date + X-Amz-Expires', () => {
    const url =
      'https://bucket.s3.amazonaws.com/key?partNumber=1&uploadId=u&X-Amz-Algorithm=AWS4-HMAC-SHA256' +
      '&X-Amz-Date=20261122T090000Z&X-Amz-Expires=3600&X-Amz-Signature=abc';
    expect(presignedUrlExpiresAt(url)).toBe(Date.UTC(2026, 10, 22, 10, 0, 0));
  });

  it('reads SigV2 Expires and the registry expires= (unix seconds)', () => {
    expect(presignedUrlExpiresAt('https://s3/key?Expires=1790000000&Signature=x')).toBe(1790000000_000);
    expect(presignedUrlExpiresAt('http://127.0.0.1:4000/_presigned/parts/b/1?expires=1790000000&sig=x')).toBe(
      1790000000_000,
    );
  });

  it('is undefined for URLs that do not say, or are malformed', () => {
    expect(presignedUrlExpiresAt('https://storage.example/upload/abc')).toBeUndefined();
    expect(presignedUrlExpiresAt('https://s3/key?X-Amz-Date=garbage&X-Amz-Expires=60')).toBeUndefined();
    expect(presignedUrlExpiresAt('not a url')).toBeUndefined();
  });
});

describe('presignedUrlExpiring', () => {
  const url = 'http://h/_presigned/parts/b/1?expires=1000&sig=x';
  it('is true once within the margin of the expiry, false well before it', () => {
    expect(presignedUrlExpiring(url, 900_000)).toBe(false);
    expect(presignedUrlExpiring(url, 996_000)).toBe(true);
    expect(presignedUrlExpiring(url, 2_000_000)).toBe(true);
  });
  it('treats an unknown expiry as fresh', () => {
    expect(presignedUrlExpiring('https://storage.example/upload/abc', Date.now())).toBe(false);
  });
});
