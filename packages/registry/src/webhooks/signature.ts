import { createHmac, randomBytes } from 'node:crypto';
import type { WebhookRecord } from '../store/access-store.js';

/** A new secret: 128 random bits as 32 upper-hex characters, like Peridio's. */
export const newWebhookSecret = () => randomBytes(16).toString('hex').toUpperCase();

/**
 * `peridio-signature` for one secret: upper-hex HMAC-SHA256 keyed with the secret's hex-DECODED bytes (16
 * bytes, not the 32 ASCII characters) over the UTF-8 bytes of `peridio-published-at` immediately followed
 * by the raw body, no separator. Peridio's docs leave the key encoding ambiguous; this is our choice, with
 * the test vector in docs/access-audit-webhooks.md.
 */
export function signDelivery(secretHex: string, publishedAt: string, body: string | Buffer): string {
  return createHmac('sha256', Buffer.from(secretHex, 'hex'))
    .update(publishedAt)
    .update(body)
    .digest('hex')
    .toUpperCase();
}

/** Current secret first; while a roll's TTL runs, the old secret's signature follows after a comma. */
export function signatureHeader(
  webhook: Pick<WebhookRecord, 'secret' | 'previous_secret' | 'previous_secret_expires_at'>,
  publishedAt: string,
  body: string,
  nowMs = Date.now(),
): string {
  const signatures = [signDelivery(webhook.secret, publishedAt, body)];
  if (
    webhook.previous_secret &&
    webhook.previous_secret_expires_at &&
    Date.parse(webhook.previous_secret_expires_at) > nowMs
  ) {
    signatures.push(signDelivery(webhook.previous_secret, publishedAt, body));
  }
  return signatures.join(',');
}
