import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { guardedLookup } from './url-policy.js';

export type PostOutcome =
  | { ok: true; status: number }
  | { ok: false; reason: 'response_status'; status: number }
  | {
      ok: false;
      reason: 'response_timeout' | 'host_resolution_failed' | 'connection_failed';
      message: string;
    };

/**
 * One delivery attempt: POST the body with the headers, wait at most `timeoutMs` for the whole answer.
 * 2xx is success. A redirect is never followed (it counts as a failure and is retried), so a receiver
 * cannot send deliveries to another host.
 */
export function postOnce(
  url: string,
  body: string,
  headers: Record<string, string>,
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<PostOutcome> {
  return new Promise((resolve) => {
    const target = new URL(url);
    const send = target.protocol === 'https:' ? httpsRequest : httpRequest;
    let settled = false;
    const done = (outcome: PostOutcome) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      req.destroy();
      resolve(outcome);
    };
    const req = send(
      target,
      {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'content-length': String(Buffer.byteLength(body)),
          'user-agent': 'peridio-registry-webhooks',
          ...headers,
        },
        lookup: guardedLookup,
      },
      (res) => {
        res.resume();
        res.on('end', () => {
          const status = res.statusCode ?? 0;
          done(
            status >= 200 && status < 300
              ? { ok: true, status }
              : { ok: false, reason: 'response_status', status },
          );
        });
        res.on('error', (err) => done({ ok: false, reason: 'connection_failed', message: err.message }));
      },
    );
    const timer = setTimeout(
      () => done({ ok: false, reason: 'response_timeout', message: `no answer within ${timeoutMs} ms` }),
      timeoutMs,
    );
    req.on('error', (err: NodeJS.ErrnoException) =>
      done({
        ok: false,
        reason:
          err.code === 'ENOTFOUND' || err.code === 'EAI_AGAIN' || err.code === 'EFORBIDDENADDR'
            ? 'host_resolution_failed'
            : 'connection_failed',
        message: err.message,
      }),
    );
    // Shutdown: the attempt counts as failed and stays queued for the next start.
    signal?.addEventListener(
      'abort',
      () => done({ ok: false, reason: 'connection_failed', message: 'registry shutting down' }),
      { once: true },
    );
    req.end(body);
  });
}
