import type { IncomingMessage, ServerResponse } from 'node:http';

/** An error answer; the router turns it into JSON in one of the shapes of protocol.md §2.4. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly body: unknown,
    readonly headers: Record<string, string> = {},
  ) {
    super(`HTTP ${status}`);
  }
}

export function detailError(status: number, detail: string): HttpError {
  return new HttpError(status, { errors: { detail } });
}

/** 422 in the Phoenix/Ecto validation shape: `{"errors": {"field": ["message"]}}`. */
export function fieldError(field: string, message: string): HttpError {
  return new HttpError(422, { errors: { [field]: [message] } });
}

export function notFound(what?: string): HttpError {
  return detailError(404, what ? `Not Found: ${what}` : 'Not Found');
}

export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
) {
  if (status === 204 || body === undefined) {
    res.writeHead(status, { ...(status === 204 ? {} : { 'content-length': '0' }), ...headers });
    res.end();
    return;
  }
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': String(Buffer.byteLength(text)),
    ...headers,
  });
  res.end(text);
}

export const MAX_JSON_BODY_BYTES = 2 * 1024 * 1024;

/** Reads a JSON object body (≤ 2 MiB: custom_metadata may hold 1 MB). Empty body → `{}`. */
export async function readJsonBody(req: IncomingMessage): Promise<Record<string, unknown>> {
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > MAX_JSON_BODY_BYTES) {
    req.resume();
    throw new HttpError(
      413,
      { errors: { detail: `Request body larger than ${MAX_JSON_BODY_BYTES} bytes` } },
      {
        connection: 'close',
      },
    );
  }
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    total += chunk.length;
    if (total > MAX_JSON_BODY_BYTES) {
      throw new HttpError(
        413,
        { errors: { detail: `Request body larger than ${MAX_JSON_BODY_BYTES} bytes` } },
        {
          connection: 'close',
        },
      );
    }
    chunks.push(chunk);
  }
  const text = Buffer.concat(chunks).toString('utf8').trim();
  if (text === '') return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw detailError(400, 'Request body is not valid JSON');
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw detailError(400, 'Request body must be a JSON object');
  }
  return parsed as Record<string, unknown>;
}
