/**
 * One JSON request to the Admin API: headers as the official SDK sends them (a server tuned to the SDK
 * sees nothing new), error bodies turned into `ApiError`, transport failures into `NetworkError`, and
 * every call retried while the failure is transient. The API key is treated as a secret end to end: it goes into one header and
 * is scrubbed from anything that could reach a log or an error message.
 */
import { Agent, type Dispatcher } from 'undici';
import { InputError, NetworkError, PeridioError } from '../errors.js';
import { silentLogger, type Logger } from '../logger.js';
import { redactSecrets } from '../redact.js';
import { withRetry, type RetryPolicy } from '../retry.js';
import { parseApiError } from './api-error.js';
// The bundler inlines this file, so the version in the user agent is the one released, never a copy.
import corePackage from '../../package.json' with { type: 'json' };

export const DEFAULT_BASE_URL = 'https://api.cremini.peridio.com';
export const DEFAULT_API_VERSION = 2;
/** Admin API answers are small; a minute without headers or body bytes means the connection is dead. */
export const DEFAULT_TIMEOUT_MS = 60_000;
export const CLIENT_VERSION: string = corePackage.version;

export interface ClientOptions {
  baseUrl: string;
  apiKey: string;
  apiVersion?: number;
  /** Per request: the longest wait for the response headers, and for each chunk of the body. */
  timeoutMs?: number;
  retry?: Partial<RetryPolicy>;
  logger?: Logger;
  /** Tests and proxies; by default the client owns a keep-alive Agent. */
  dispatcher?: Dispatcher;
  userAgent?: string;
  /** Cancels in-flight requests and pending retries. */
  signal?: AbortSignal;
}

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

export interface HttpRequest {
  method: HttpMethod;
  /** Starts with `/`; PRNs go in raw, colons and all, as real Peridio has always received them. */
  path: string;
  query?: Record<string, string | number | undefined>;
  body?: unknown;
  headers?: Record<string, string>;
  /** Cancels this call (and its retries) besides the client's own signal. */
  signal?: AbortSignal;
}

export interface HttpResponse {
  status: number;
  /** Parsed JSON, or undefined for an empty body (204). */
  body: unknown;
}

/** Error codes undici and node:net use for a dead or refused connection, reported as the `code`. */
const TIMEOUT_CODES = new Set([
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'UND_ERR_CONNECT_TIMEOUT',
  'ETIMEDOUT',
]);

export class HttpTransport {
  readonly baseUrl: string;
  private readonly origin: string;
  private readonly pathPrefix: string;
  private readonly timeoutMs: number;
  private readonly logger: Logger;
  private readonly dispatcher: Dispatcher;
  private readonly ownsDispatcher: boolean;

  // #private: util.inspect and JSON.stringify of a client must not print the Authorization header.
  readonly #options: ClientOptions;
  readonly #headers: Record<string, string>;
  readonly #secrets: string[];

  constructor(options: ClientOptions) {
    this.#options = options;
    const apiKey = checkApiKey(options.apiKey ?? '');
    const base = parseBaseUrl(options.baseUrl || DEFAULT_BASE_URL);
    this.baseUrl = base.href;
    this.origin = base.origin;
    this.pathPrefix = base.pathPrefix;
    this.#secrets = [apiKey];
    this.#headers = {
      authorization: `Token ${apiKey}`,
      'x-api-version': String(options.apiVersion ?? DEFAULT_API_VERSION),
      'user-agent': options.userAgent ?? `peridio-actions/${CLIENT_VERSION}`,
    };
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.logger = options.logger ?? silentLogger;
    this.ownsDispatcher = !options.dispatcher;
    this.dispatcher =
      options.dispatcher ?? new Agent({ keepAliveTimeout: 30_000, connect: { timeout: this.timeoutMs } });
  }

  /** Sends the request, retrying transient failures (the flows built on top are idempotent). */
  async request(req: HttpRequest): Promise<HttpResponse> {
    const client = this.#options.signal;
    const signal = req.signal && client ? AbortSignal.any([req.signal, client]) : (req.signal ?? client);
    return withRetry(() => this.once(req, signal), {
      label: `${req.method} ${req.path}`,
      policy: this.#options.retry,
      signal,
      logger: this.logger,
    });
  }

  /** Closes the keep-alive connections of the client's own Agent (a caller's dispatcher is left open). */
  async close(): Promise<void> {
    if (this.ownsDispatcher) await this.dispatcher.close();
  }

  private async once(req: HttpRequest, signal: AbortSignal | undefined): Promise<HttpResponse> {
    const query = encodeQuery(req.query);
    const shownPath = query ? `${req.path}?${query}` : req.path;
    const headers: Record<string, string> = { ...this.#headers, ...req.headers };
    let payload: string | undefined;
    if (req.body !== undefined) {
      payload = JSON.stringify(req.body);
      headers['content-type'] = 'application/json';
    }
    const started = performance.now();
    const elapsed = (): number => Math.round(performance.now() - started);
    try {
      const res = await this.dispatcher.request({
        origin: this.origin,
        path: `${this.pathPrefix}${shownPath}`,
        method: req.method,
        headers,
        body: payload,
        headersTimeout: this.timeoutMs,
        bodyTimeout: this.timeoutMs,
        signal,
      });
      const text = await res.body.text();
      this.logger.debug(`${req.method} ${shownPath} -> ${res.statusCode} (${elapsed()} ms)`);
      if (res.statusCode < 200 || res.statusCode > 299) {
        throw parseApiError({
          status: res.statusCode,
          method: req.method,
          path: req.path,
          body: text,
          retryAfter: headerValue(res.headers['retry-after']),
          secrets: this.#secrets,
        });
      }
      return { status: res.statusCode, body: parseJson(text, req, res.statusCode) };
    } catch (err) {
      if (err instanceof PeridioError) throw err;
      if (signal?.aborted) throw signal.reason;
      if (err instanceof TypeError || codeOf(err) === 'UND_ERR_INVALID_ARG') {
        // A bug on our side (a malformed header or URL), not a transient failure: do not retry it.
        const message = redactSecrets(err instanceof Error ? err.message : String(err), this.#secrets);
        throw new PeridioError(`${req.method} ${req.path}: invalid request: ${message}`);
      }
      const wrapped = this.toNetworkError(err, req);
      this.logger.debug(`${req.method} ${shownPath} failed after ${elapsed()} ms: ${wrapped.code}`);
      throw wrapped;
    }
  }

  private toNetworkError(err: unknown, req: HttpRequest): NetworkError {
    const code = errorCode(err);
    const where = `${req.method} ${req.path}`;
    if (TIMEOUT_CODES.has(code)) {
      return new NetworkError(
        `${where}: no response from ${this.origin} within ${this.timeoutMs} ms (${code})`,
        'ETIMEDOUT',
      );
    }
    // undici messages never carry headers, but scrub anyway: the key must not leak through a future change.
    const message = redactSecrets(err instanceof Error ? err.message : String(err), this.#secrets);
    return new NetworkError(`${where}: connection to ${this.origin} failed: ${message} (${code})`, code);
  }
}

/** The API key, trimmed; an InputError on `api-key` if it is empty or could not be a key. */
export function checkApiKey(value: string): string {
  const apiKey = value.trim();
  if (!apiKey) {
    throw new InputError(
      'api-key',
      'is empty; pass the Admin API key from a secret, e.g. ${{ secrets.PERIDIO_API_KEY }}',
    );
  }
  if (/\s/.test(apiKey)) throw new InputError('api-key', 'contains whitespace; check the secret');
  return apiKey;
}

/** The Admin API base URL, checked: http(s), no credentials, query or fragment; `href` has no trailing slash. */
export function parseBaseUrl(value: string): { href: string; origin: string; pathPrefix: string } {
  let url: URL;
  try {
    url = new URL(value.trim());
  } catch {
    throw new InputError(
      'base-url',
      `'${value}' is not a URL; expected e.g. ${DEFAULT_BASE_URL} or http://localhost:4000`,
    );
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new InputError('base-url', `must be an http(s) URL, got ${url.protocol}`);
  }
  if (url.username || url.password)
    throw new InputError('base-url', 'must not contain credentials; put the key in api-key');
  if (url.search || url.hash) throw new InputError('base-url', 'must not have a query or fragment');
  // The SDK concatenates base and path, so `https://host/` would yield `//binaries`.
  const pathPrefix = url.pathname.replace(/\/+$/, '');
  return { href: `${url.origin}${pathPrefix}`, origin: url.origin, pathPrefix };
}

/** Form encoding, as reqwest's `.query()` does (space → `+`, `:` → `%3A`, `'` → `%27`). */
function encodeQuery(query: HttpRequest['query']): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query ?? {})) {
    if (value !== undefined) params.append(key, String(value));
  }
  return params.toString();
}

/** A 2xx answer whose body is not JSON: whatever answered is not the Admin API (a web page, a proxy). */
export class NotJsonError extends PeridioError {
  override name = 'NotJsonError';
  constructor(
    readonly method: string,
    readonly path: string,
    readonly status: number,
    readonly looksLikeHtml: boolean,
  ) {
    super(
      `${method} ${path}: HTTP ${status} with a body that is not JSON${looksLikeHtml ? ' (an HTML page)' : ''}`,
    );
  }
}

function parseJson(text: string, req: HttpRequest, status: number): unknown {
  if (!text.trim()) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    throw new NotJsonError(req.method, req.path, status, /^\s*</.test(text));
  }
}

function headerValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

/** The most specific code: node's errno (ECONNRESET) when undici wraps it, else undici's own. */
function errorCode(err: unknown): string {
  const own = codeOf(err);
  const cause = err instanceof Error ? codeOf(err.cause) : undefined;
  if (cause?.startsWith('E')) return cause;
  if (own?.startsWith('E') || (own && TIMEOUT_CODES.has(own))) return own;
  if (err instanceof Error && err.name === 'TimeoutError') return 'ETIMEDOUT';
  return own ?? cause ?? 'ENETWORK';
}

function codeOf(err: unknown): string | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const code = (err as { code?: unknown }).code;
  return typeof code === 'string' ? code : undefined;
}
