import { S3Client } from '@aws-sdk/client-s3';
import type { S3Settings } from './config.js';

export function s3Client(settings: S3Settings): S3Client {
  return new S3Client({
    region: settings.region,
    ...(settings.endpoint ? { endpoint: settings.endpoint } : {}),
    forcePathStyle: settings.forcePathStyle,
    ...(settings.credentials ? { credentials: settings.credentials } : {}),
    // Checksums only where the operation needs one: the registry signs the part's SHA-256 itself, and
    // servers without flexible checksums (Ceph RGW 16) refuse streamed bodies the SDK would checksum.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
}
