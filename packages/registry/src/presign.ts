import { createHmac, timingSafeEqual } from 'node:crypto';

export type PresignCheck = 'ok' | 'expired' | 'signature';

/**
 * Capability URLs in the style of S3 presigned URLs: whoever holds the URL may PUT that one part (or GET
 * that one binary) until it expires. The HMAC covers everything that decides what the URL grants, so a
 * changed index, expiry or part hash is a bad signature.
 */
export class Presigner {
  constructor(
    private readonly secret: Buffer,
    readonly ttlSeconds: number,
    private readonly now: () => number = () => Date.now(),
  ) {
    // A short key makes every URL forgeable; refuse rather than sign with it.
    if (secret.length < 32) throw new Error('presign secret must be at least 32 bytes');
  }

  private sign(fields: (string | number)[]): string {
    return createHmac('sha256', this.secret).update(fields.join('\n')).digest('hex');
  }

  private expiry(): number {
    return Math.floor(this.now() / 1000) + this.ttlSeconds;
  }

  partUrl(base: string, binaryId: string, index: number, partHash: string): string {
    const expires = this.expiry();
    const sig = this.sign(['part', binaryId, index, partHash, expires]);
    return `${base}/_presigned/parts/${binaryId}/${index}?expires=${expires}&sig=${sig}`;
  }

  downloadUrl(base: string, binaryId: string, blobHash: string): string {
    const expires = this.expiry();
    const sig = this.sign(['download', binaryId, blobHash, expires]);
    return `${base}/_presigned/download/${binaryId}?expires=${expires}&sig=${sig}`;
  }

  checkPart(binaryId: string, index: number, partHash: string, query: URLSearchParams): PresignCheck {
    return this.check(['part', binaryId, index, partHash], query);
  }

  checkDownload(binaryId: string, blobHash: string, query: URLSearchParams): PresignCheck {
    return this.check(['download', binaryId, blobHash], query);
  }

  private check(fields: (string | number)[], query: URLSearchParams): PresignCheck {
    const expires = query.get('expires') ?? '';
    const sig = query.get('sig') ?? '';
    if (!/^\d{1,12}$/.test(expires) || !/^[0-9a-f]{64}$/.test(sig)) return 'signature';
    const expected = Buffer.from(this.sign([...fields, expires]), 'hex');
    if (!timingSafeEqual(expected, Buffer.from(sig, 'hex'))) return 'signature';
    return Number(expires) * 1000 < this.now() ? 'expired' : 'ok';
  }
}
