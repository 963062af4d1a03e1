import { UUID_PATTERN } from './prn.js';
/** A path segment this long made only of token characters is treated as a capability, not a name. */
const PATH_TOKEN = /^(?=.*\d)(?=.*[A-Za-z])[A-Za-z0-9_\-+=%~]{32,}$/;

/**
 * A presigned URL is a bearer capability: whoever reads it from a log can use it until it expires. Keep
 * what helps debugging (scheme, host, path) and mask query values, credentials and token-like segments.
 */
export function redactUrl(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    const at = url.search(/[?#]/);
    return at === -1 ? url : `${url.slice(0, at)}?***`;
  }
  const auth = parsed.username || parsed.password ? '***@' : '';
  const path = parsed.pathname
    .split('/')
    .map((segment) => (PATH_TOKEN.test(segment) && !UUID_PATTERN.test(segment) ? '***' : segment))
    .join('/');
  const query = [...parsed.searchParams.keys()].map((key) => `${encodeURIComponent(key)}=***`).join('&');
  return `${parsed.protocol}//${auth}${parsed.host}${path}${query ? `?${query}` : ''}`;
}

/**
 * Masks every occurrence of each secret. A multi-line secret (a PEM) is also masked line by line, as the
 * runner does, because a log line may carry only part of it.
 */
export function redactSecrets(text: string, secrets: string[]): string {
  const needles = new Set<string>();
  for (const secret of secrets) {
    if (!secret.trim()) continue;
    needles.add(secret);
    if (/[\r\n]/.test(secret)) {
      for (const line of secret.split(/\r?\n/)) if (line.trim().length >= 8) needles.add(line.trim());
    }
  }
  // Longest first, so a secret that contains another is masked whole.
  let out = text;
  for (const needle of [...needles].sort((a, b) => b.length - a.length)) out = out.split(needle).join('***');
  return out;
}
