/**
 * What an event may hold of a request's before/after state: never a secret. Webhook secrets and API keys
 * are dropped by name and by shape, and a presigned URL loses its query (the signature is the capability).
 */
const SECRET_NAME = /secret|password|private|^key$|api_key_value|authorization/i;
const KEY_SHAPE = /^pr[ks]_[A-Za-z0-9_-]{20,}$/;

export function scrub(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(scrub);
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      if (SECRET_NAME.test(k)) continue;
      out[k] = scrub(v);
    }
    return out;
  }
  if (typeof value === 'string') {
    if (KEY_SHAPE.test(value)) return '[redacted]';
    if (value.includes('/_presigned/')) return value.split('?')[0];
  }
  return value;
}
