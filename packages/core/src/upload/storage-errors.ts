/**
 * What the storage behind a presigned URL says when it refuses a part. Real Peridio is S3 (XML bodies:
 * `<Code>AccessDenied</Code><Message>Request has expired</Message>`, `SignatureDoesNotMatch`, `BadDigest`,
 * `XAmzContentChecksumMismatch`); the self-hosted registry answers `{"errors": {"detail": "..."}}`.
 */
import type { Dispatcher } from 'undici';
import { redactUrl } from '../redact.js';

export type RefusalKind = 'url-refused' | 'content-mismatch' | 'transient' | 'other';

/** S3 answers 400 to a body that stopped arriving; the AWS SDKs retry these. */
const TRANSIENT_400 = /RequestTimeout|IncompleteBody/;
const URL_REFUSED = /expired|signature/i;
const CONTENT_MISMATCH = /hash|checksum|digest|size|length|match/i;
const MAX_DETAIL_CHARS = 2_000;

/**
 * 403 is always the URL (S3 answers 403 for expiry, bad signatures and missing permissions alike);
 * a 400/401 only when it says so. A 400 about the bytes means they are not what was hashed.
 */
export function classifyRefusal(status: number, detail: string): RefusalKind {
  if (status === 400 && TRANSIENT_400.test(detail)) return 'transient';
  if (status === 403 || ((status === 400 || status === 401) && URL_REFUSED.test(detail)))
    return 'url-refused';
  if (status === 400 && CONTENT_MISMATCH.test(detail)) return 'content-mismatch';
  return 'other';
}

/** The error body as one short line, without any URL's query. `onData` keeps a stall timer alive. */
export async function readDetail(response: Dispatcher.ResponseData, onData: () => void): Promise<string> {
  let text = '';
  for await (const chunk of response.body) {
    onData();
    // Keep reading (and discarding) past the cap, so the connection can be reused.
    if (text.length < MAX_DETAIL_CHARS) text += (chunk as Buffer).toString('utf8');
  }
  return summarizeErrorBody(text);
}

export function summarizeErrorBody(body: string): string {
  const text = body.trim();
  let summary = text;
  const code = /<Code>([^<]*)<\/Code>/.exec(text)?.[1];
  const message = /<Message>([^<]*)<\/Message>/.exec(text)?.[1];
  if (code || message) {
    summary = [code, message].filter(Boolean).join(': ');
  } else if (text.startsWith('{')) {
    try {
      const json = JSON.parse(text) as { errors?: { detail?: unknown }; message?: unknown; error?: unknown };
      const found = json.errors?.detail ?? json.message ?? json.error;
      if (typeof found === 'string') summary = found;
    } catch {
      // Not JSON after all: keep the text.
    }
  }
  summary = scrubUrls(summary.replace(/\s+/g, ' ')).slice(0, MAX_DETAIL_CHARS);
  return summary || '(empty body)';
}

/** Storage error bodies and transport messages can quote the request URL, signature included. */
export function scrubUrls(text: string): string {
  return text.replace(/https?:\/\/[^\s"'<>]+/g, (url) => redactUrl(url));
}
