import type { IncomingMessage, ServerResponse } from 'node:http';

/** An error answer; the router turns it into JSON in one of the error shapes Peridio's API answers with. */
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
  const text = stringifyJson(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': String(Buffer.byteLength(text)),
    ...headers,
  });
  res.end(text);
}

const MAX_JSON_BODY_BYTES = 2 * 1024 * 1024;
/** Deepest nesting accepted in a JSON body (the body object itself is level 1). */
export const MAX_JSON_DEPTH = 32;
/** Most values (object members and array elements, counted through every level) in one JSON body. */
export const MAX_JSON_VALUES = 100_000;

/**
 * JSON.stringify recurses, so a value nested a few thousand levels deep throws RangeError. Records are
 * serialized through this, which falls back to an explicit stack: a stored record can always be answered.
 */
export function stringifyJson(value: unknown): string {
  try {
    return JSON.stringify(value);
  } catch (err) {
    if (!(err instanceof RangeError)) throw err;
    return stringifyIteratively(value);
  }
}

function stringifyIteratively(root: unknown): string {
  const out: string[] = [];
  // Each frame is a value still to write, or a literal piece of punctuation.
  const stack: ({ text: string } | { value: unknown; key?: string })[] = [{ value: root }];
  while (stack.length > 0) {
    const frame = stack.pop()!;
    if ('text' in frame) {
      out.push(frame.text);
      continue;
    }
    let value = frame.value;
    if (
      value !== null &&
      typeof value === 'object' &&
      typeof (value as { toJSON?: unknown }).toJSON === 'function'
    )
      value = (value as { toJSON(key: string): unknown }).toJSON(frame.key ?? '');
    if (value === null || typeof value !== 'object') {
      out.push(JSON.stringify(value) ?? 'null');
      continue;
    }
    const pending: typeof stack = [];
    if (Array.isArray(value)) {
      pending.push({ text: '[' });
      value.forEach((item, i) => {
        if (i > 0) pending.push({ text: ',' });
        const skipped = item === undefined || typeof item === 'function' || typeof item === 'symbol';
        pending.push(skipped ? { text: 'null' } : { value: item, key: String(i) });
      });
      pending.push({ text: ']' });
    } else {
      pending.push({ text: '{' });
      let first = true;
      for (const [key, item] of Object.entries(value)) {
        if (item === undefined || typeof item === 'function' || typeof item === 'symbol') continue;
        pending.push({ text: `${first ? '' : ','}${JSON.stringify(key)}:` });
        pending.push({ value: item, key });
        first = false;
      }
      pending.push({ text: '}' });
    }
    for (let i = pending.length - 1; i >= 0; i--) stack.push(pending[i]!);
  }
  return out.join('');
}

/**
 * Refuses JSON nested deeper than MAX_JSON_DEPTH or holding more than MAX_JSON_VALUES values, walking with
 * an explicit stack (a recursive walk would itself overflow on the inputs it is meant to refuse). A
 * violation inside a top-level member is a 422 naming that member.
 */
function checkJsonShape(body: Record<string, unknown>): void {
  let values = 0;
  for (const [field, member] of Object.entries(body)) {
    const stack: [unknown, number][] = [[member, 2]];
    while (stack.length > 0) {
      const [value, depth] = stack.pop()!;
      if (value === null || typeof value !== 'object') continue;
      if (depth > MAX_JSON_DEPTH)
        throw fieldError(field, `is invalid: nested deeper than ${MAX_JSON_DEPTH} levels`);
      const children = Array.isArray(value) ? value : Object.values(value);
      values += children.length;
      if (values > MAX_JSON_VALUES)
        throw fieldError(field, `is invalid: the body holds more than ${MAX_JSON_VALUES} values`);
      for (const child of children) stack.push([child, depth + 1]);
    }
  }
}

const bodyTimeouts = new WeakMap<IncomingMessage, number>();

/** How long a JSON body may take to arrive, in all (set by the server per request). */
export function setBodyTimeout(req: IncomingMessage, ms: number): void {
  bodyTimeouts.set(req, ms);
}

const TIMED_OUT = Symbol('timed out');

function tooLarge(): HttpError {
  return new HttpError(
    413,
    { errors: { detail: `Request body larger than ${MAX_JSON_BODY_BYTES} bytes` } },
    { connection: 'close' },
  );
}

/**
 * Reads a JSON object body (≤ 2 MiB: custom_metadata may hold 1 MB) within the request's body timeout.
 * Empty body → `{}`.
 */
export async function readJsonBody(req: IncomingMessage): Promise<Record<string, unknown>> {
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > MAX_JSON_BODY_BYTES) {
    req.resume();
    throw tooLarge();
  }
  const chunks: Buffer[] = [];
  let total = 0;
  const timeoutMs = bodyTimeouts.get(req);
  let timer: NodeJS.Timeout | undefined;
  const deadline =
    timeoutMs === undefined
      ? undefined
      : new Promise<typeof TIMED_OUT>((resolve) => {
          timer = setTimeout(() => resolve(TIMED_OUT), timeoutMs);
        });
  const iterator = (req as AsyncIterable<Buffer>)[Symbol.asyncIterator]();
  try {
    for (;;) {
      const next = deadline ? await Promise.race([iterator.next(), deadline]) : await iterator.next();
      if (next === TIMED_OUT) {
        req.pause();
        throw new HttpError(
          408,
          { errors: { detail: `Request body did not arrive within ${timeoutMs! / 1000} s` } },
          { connection: 'close' },
        );
      }
      if (next.done) break;
      total += next.value.length;
      if (total > MAX_JSON_BODY_BYTES) throw tooLarge();
      chunks.push(next.value);
    }
  } finally {
    clearTimeout(timer);
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
  checkJsonShape(parsed as Record<string, unknown>);
  return parsed as Record<string, unknown>;
}
