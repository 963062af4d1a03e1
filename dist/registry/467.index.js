export const id = 467;
export const ids = [467];
export const modules = {

/***/ 3988:
/***/ ((__unused_webpack_module, exports, __webpack_require__) => {


Object.defineProperty(exports, "__esModule", ({ value: true }));
exports.PeridioClient = void 0;
exports.iteratePages = iteratePages;
/**
 * Typed Admin API client for the binary-management subset (protocol.md §3), wire-compatible with the
 * official Rust SDK: the same paths, bodies (optional create fields as explicit `null`, PATCH bodies
 * echoing `prn`) and envelopes, which it unwraps so callers get plain resources.
 */
const errors_js_1 = __webpack_require__(7638);
const http_js_1 = __webpack_require__(6481);
const envelope_js_1 = __webpack_require__(2541);
class PeridioClient {
    http;
    constructor(options) {
        this.http = new http_js_1.HttpTransport(options);
    }
    get baseUrl() {
        return this.http.baseUrl;
    }
    // Artifacts
    createArtifact(body) {
        const { name, description = null, custom_metadata = null, id } = body;
        return this.one('artifact', {
            method: 'POST',
            path: '/artifacts',
            body: { name, description, custom_metadata, ...idOf(id) },
        });
    }
    getArtifact(prn) {
        return this.one('artifact', { method: 'GET', path: `/artifacts/${prn}` });
    }
    listArtifacts(params) {
        return this.page('artifacts', '/artifacts', params);
    }
    updateArtifact(prn, body) {
        return this.one('artifact', { method: 'PATCH', path: `/artifacts/${prn}`, body: { prn, ...body } });
    }
    deleteArtifact(prn) {
        return this.remove(`/artifacts/${prn}`);
    }
    // Artifact versions
    createArtifactVersion(body) {
        const { artifact_prn, version, description = null, custom_metadata = null, id } = body;
        return this.one('artifact_version', {
            method: 'POST',
            path: '/artifact_versions',
            body: { artifact_prn, version, description, custom_metadata, ...idOf(id) },
        });
    }
    getArtifactVersion(prn) {
        return this.one('artifact_version', { method: 'GET', path: `/artifact_versions/${prn}` });
    }
    listArtifactVersions(params) {
        return this.page('artifact_versions', '/artifact_versions', params);
    }
    updateArtifactVersion(prn, body) {
        return this.one('artifact_version', {
            method: 'PATCH',
            path: `/artifact_versions/${prn}`,
            body: { prn, ...body },
        });
    }
    deleteArtifactVersion(prn) {
        return this.remove(`/artifact_versions/${prn}`);
    }
    // Binaries
    createBinary(body) {
        const { artifact_version_prn, target, hash, size, description = null, custom_metadata = null, id } = body;
        return this.one('binary', {
            method: 'POST',
            path: '/binaries',
            body: { artifact_version_prn, target, hash, size, description, custom_metadata, ...idOf(id) },
        });
    }
    getBinary(prn) {
        return this.one('binary', { method: 'GET', path: `/binaries/${prn}` });
    }
    listBinaries(params) {
        return this.page('binaries', '/binaries', params);
    }
    updateBinary(prn, body) {
        return this.one('binary', { method: 'PATCH', path: `/binaries/${prn}`, body: { prn, ...body } });
    }
    deleteBinary(prn) {
        return this.remove(`/binaries/${prn}`);
    }
    async getBinaryDownloadUrl(prn) {
        const req = { method: 'GET', path: `/binaries/${prn}/download_url` };
        const { body } = await this.http.request(req);
        return (0, envelope_js_1.expectString)(body, 'download_url', req);
    }
    // Binary parts
    /** Creates or overwrites part `index` (1-based) and returns where to PUT its bytes. */
    createBinaryPart(binaryPrn, part) {
        const { index, expected_binary_size, hash, size } = part;
        const headers = {};
        // The SDK's content-range assumes every part has this part's size (wrong for a short last part);
        // real Peridio has only ever seen that value, so send the same one rather than "fix" it.
        if (size > 0)
            headers['content-range'] = `bytes ${(index - 1) * size}-${index * size - 1}/${expected_binary_size}`;
        return this.one('binary_part', {
            method: 'PUT',
            path: `/binaries/${binaryPrn}/parts/${index}`,
            body: { binary_prn: binaryPrn, index, expected_binary_size, hash, size },
            headers,
        });
    }
    /** All parts: the endpoint is unpaginated, but a `next_page`, should one appear, is followed. */
    async listBinaryParts(binaryPrn) {
        const parts = [];
        let page;
        for (;;) {
            const req = { method: 'GET', path: `/binaries/${binaryPrn}/parts`, query: { page } };
            const { body } = await this.http.request(req);
            parts.push(...(0, envelope_js_1.expectArray)(body, 'binary_parts', req));
            const next = (0, envelope_js_1.nextPageOf)(body);
            if (!next || next === page)
                return parts;
            page = next;
        }
    }
    // Binary signatures
    /** Sends only the key reference(s) given, as the SDK does (`skip_serializing_if = None`). */
    createBinarySignature(body) {
        const { binary_prn, signature, signing_key_prn, signing_key_keyid } = body;
        return this.one('binary_signature', {
            method: 'POST',
            path: '/binary_signatures',
            body: {
                binary_prn,
                signature,
                ...(signing_key_prn !== undefined ? { signing_key_prn } : {}),
                ...(signing_key_keyid !== undefined ? { signing_key_keyid } : {}),
            },
        });
    }
    listBinarySignatures(params) {
        return this.page('binary_signatures', '/binary_signatures', params);
    }
    deleteBinarySignature(prn) {
        return this.remove(`/binary_signatures/${prn}`);
    }
    // Signing keys
    createSigningKey(body) {
        const { name, value } = body;
        return this.one('signing_key', { method: 'POST', path: '/signing_keys', body: { name, value } });
    }
    getSigningKey(prn) {
        return this.one('signing_key', { method: 'GET', path: `/signing_keys/${prn}` });
    }
    /**
     * The SDK's own list fixture wraps the list under `signing_key`; the SDK struct, the spec and our
     * registry use `signing_keys`. Reading the singular key too costs nothing and survives such a server.
     */
    listSigningKeys(params) {
        return this.page('signing_keys', '/signing_keys', params, 'signing_key');
    }
    updateSigningKey(prn, body) {
        return this.one('signing_key', { method: 'PATCH', path: `/signing_keys/${prn}`, body: { prn, ...body } });
    }
    deleteSigningKey(prn) {
        return this.remove(`/signing_keys/${prn}`);
    }
    // Paging
    /** Every item of a list endpoint, following `next_page`; stopping the loop stops the paging. */
    iterate(list, params = {}) {
        return iteratePages(list, params);
    }
    /** Releases the keep-alive connections (only those of the client's own Agent). */
    close() {
        return this.http.close();
    }
    async one(key, req) {
        const { body } = await this.http.request(req);
        return (0, envelope_js_1.expectObject)(body, key, req);
    }
    async page(key, path, params = {}, altKey) {
        const { limit, order, search, page } = params;
        const req = { method: 'GET', path, query: { limit, order, search, page } };
        const { body } = await this.http.request(req);
        return { items: (0, envelope_js_1.expectArray)(body, key, req, altKey), next_page: (0, envelope_js_1.nextPageOf)(body) };
    }
    async remove(path) {
        await this.http.request({ method: 'DELETE', path });
    }
}
exports.PeridioClient = PeridioClient;
async function* iteratePages(list, params = {}) {
    let page;
    const seen = new Set();
    for (;;) {
        const result = await list(page === undefined ? { ...params } : { ...params, page });
        yield* result.items;
        if (!result.next_page)
            return;
        // A server that hands back a cursor twice would otherwise page forever.
        if (seen.has(result.next_page)) {
            throw new errors_js_1.PeridioError(`the server returned the page cursor "${result.next_page}" twice; stopping`);
        }
        seen.add(result.next_page);
        page = result.next_page;
    }
}
function idOf(id) {
    return id === undefined ? {} : { id };
}


/***/ }),

/***/ 1198:
/***/ ((__unused_webpack_module, exports, __webpack_require__) => {


Object.defineProperty(exports, "__esModule", ({ value: true }));
exports.parseApiError = parseApiError;
exports.describeErrorBody = describeErrorBody;
/**
 * Turns a non-2xx answer into an `ApiError` a user can act on. Peridio has answered with several body
 * shapes over the years (protocol.md §2.4); each is reduced to one human sentence plus, for validation
 * errors, the field map, so callers can branch on `fieldErrors.target` without knowing the shape.
 */
const node_http_1 = __webpack_require__(7067);
const errors_js_1 = __webpack_require__(7638);
const redact_js_1 = __webpack_require__(796);
const retry_js_1 = __webpack_require__(9899);
const MAX_DETAIL_CHARS = 500;
/** Context keys of the legacy shape that may carry credentials; the old API echoed `api_key` on 401. */
const SECRET_KEY = /key|token|secret|password|authorization|credential/i;
function parseApiError(input) {
    const { detail, fieldErrors } = describeErrorBody(input.status, input.body);
    const secrets = input.secrets ?? [];
    const redactedFields = {};
    for (const [field, messages] of Object.entries(fieldErrors)) {
        redactedFields[field] = messages.map((message) => (0, redact_js_1.redactSecrets)(message, secrets));
    }
    return new errors_js_1.ApiError(input.status, input.method, input.path, (0, redact_js_1.redactSecrets)(detail, secrets), redactedFields, (0, retry_js_1.parseRetryAfter)(input.retryAfter, input.nowMs));
}
/** Reads every body shape the SDK accepts, plus the legacy `{code, context}` list and plain text. */
function describeErrorBody(status, body) {
    const fallback = node_http_1.STATUS_CODES[status] ?? `HTTP ${status}`;
    const text = body.trim();
    if (!text)
        return { detail: fallback, fieldErrors: {} };
    let json;
    try {
        json = JSON.parse(text);
    }
    catch {
        return { detail: truncate(text.replace(/\s+/g, ' ')), fieldErrors: {} };
    }
    return describeJson(json) ?? { detail: truncate(JSON.stringify(json)), fieldErrors: {} };
}
function describeJson(json) {
    if (!isObject(json))
        return typeof json === 'string' && json ? { detail: truncate(json), fieldErrors: {} } : undefined;
    const { errors } = json;
    if (isObject(errors)) {
        if (typeof errors.detail === 'string')
            return { detail: truncate(errors.detail), fieldErrors: {} };
        const fieldErrors = flattenFieldErrors(errors);
        if (Object.keys(fieldErrors).length > 0)
            return { detail: validationSentence(fieldErrors), fieldErrors };
    }
    if (Array.isArray(errors) && errors.length > 0)
        return describeLegacy(errors);
    for (const key of ['message', 'error', 'detail', 'status']) {
        const value = json[key];
        if (typeof value === 'string' && value)
            return { detail: truncate(value), fieldErrors: {} };
    }
    return undefined;
}
/** Ecto-style `{field: [msg]}`, nested for embedded changesets (`{custom_metadata: {foo: [msg]}}`). */
function flattenFieldErrors(errors, prefix = '') {
    const out = {};
    for (const [key, value] of Object.entries(errors)) {
        const field = prefix ? `${prefix}.${key}` : key;
        if (typeof value === 'string')
            out[field] = [value];
        else if (Array.isArray(value)) {
            const messages = value.filter((m) => typeof m === 'string');
            if (messages.length > 0)
                out[field] = messages;
        }
        else if (isObject(value))
            Object.assign(out, flattenFieldErrors(value, field));
    }
    return out;
}
/** `target has already been taken; name can't be blank, is invalid` — reads like the server's own words. */
function validationSentence(fieldErrors) {
    return truncate(Object.entries(fieldErrors)
        .map(([field, messages]) => `${field} ${messages.join(', ')}`)
        .join('; '));
}
/** `{"errors":[{"code":"parameter","context":{"parameter":"number","reason":"required"}}]}`. */
function describeLegacy(errors) {
    const fieldErrors = {};
    const parts = errors.map((entry) => {
        if (!isObject(entry))
            return String(entry);
        const code = typeof entry.code === 'string' ? entry.code : 'error';
        const context = isObject(entry.context) ? entry.context : {};
        if (typeof context.parameter === 'string' && typeof context.reason === 'string') {
            (fieldErrors[context.parameter] ??= []).push(context.reason);
        }
        const shown = Object.entries(context)
            .filter(([key, value]) => value !== null && value !== undefined && !SECRET_KEY.test(key))
            .map(([key, value]) => `${key}: ${typeof value === 'string' ? value : JSON.stringify(value)}`);
        return shown.length > 0 ? `${code} (${shown.join(', ')})` : code;
    });
    return { detail: truncate(parts.join('; ')), fieldErrors };
}
function isObject(value) {
    return typeof value === 'object' && value !== null && !Array.isArray(value);
}
function truncate(text) {
    return text.length > MAX_DETAIL_CHARS ? `${text.slice(0, MAX_DETAIL_CHARS)}…` : text;
}


/***/ }),

/***/ 7689:
/***/ ((__unused_webpack_module, exports) => {


Object.defineProperty(exports, "__esModule", ({ value: true }));


/***/ }),

/***/ 2541:
/***/ ((__unused_webpack_module, exports, __webpack_require__) => {


Object.defineProperty(exports, "__esModule", ({ value: true }));
exports.expectObject = expectObject;
exports.expectArray = expectArray;
exports.expectString = expectString;
exports.nextPageOf = nextPageOf;
/**
 * Unwraps the Admin API envelopes (`{"binary": {...}}`, `{"binaries": [...], "next_page": ...}`). A
 * missing key means the URL points at something that is not a Peridio Admin API (a proxy, a login
 * page), so the error says that instead of failing later on an undefined field.
 */
const errors_js_1 = __webpack_require__(7638);
function expectObject(body, key, req) {
    const value = isRecord(body) ? body[key] : undefined;
    if (!isRecord(value))
        throw missing(key, 'an object', req);
    return value;
}
function expectArray(body, key, req, altKey) {
    if (isRecord(body)) {
        if (Array.isArray(body[key]))
            return body[key];
        if (altKey !== undefined && Array.isArray(body[altKey]))
            return body[altKey];
    }
    throw missing(key, 'a list', req);
}
function expectString(body, key, req) {
    const value = isRecord(body) ? body[key] : undefined;
    if (typeof value !== 'string' || !value)
        throw missing(key, 'a string', req);
    return value;
}
function nextPageOf(body) {
    const next = isRecord(body) ? body.next_page : undefined;
    return typeof next === 'string' && next !== '' ? next : null;
}
function missing(key, what, req) {
    return new errors_js_1.PeridioError(`${req.method} ${req.path}: the response has no "${key}" (${what}); is the base URL a Peridio Admin API?`);
}
function isRecord(value) {
    return typeof value === 'object' && value !== null && !Array.isArray(value);
}


/***/ }),

/***/ 6481:
/***/ ((__unused_webpack_module, exports, __webpack_require__) => {


Object.defineProperty(exports, "__esModule", ({ value: true }));
exports.HttpTransport = exports.CLIENT_VERSION = exports.DEFAULT_TIMEOUT_MS = exports.DEFAULT_API_VERSION = exports.DEFAULT_BASE_URL = void 0;
/**
 * One JSON request to the Admin API: headers as the official SDK sends them (protocol.md §1.2), error
 * bodies turned into `ApiError`, transport failures into `NetworkError`, and every call retried while
 * the failure is transient. The API key is treated as a secret end to end: it goes into one header and
 * is scrubbed from anything that could reach a log or an error message.
 */
const undici_1 = __webpack_require__(5134);
const errors_js_1 = __webpack_require__(7638);
const logger_js_1 = __webpack_require__(9157);
const redact_js_1 = __webpack_require__(796);
const retry_js_1 = __webpack_require__(9899);
const api_error_js_1 = __webpack_require__(1198);
exports.DEFAULT_BASE_URL = 'https://api.cremini.peridio.com';
exports.DEFAULT_API_VERSION = 2;
/** Admin API answers are small; a minute without headers or body bytes means the connection is dead. */
exports.DEFAULT_TIMEOUT_MS = 60_000;
exports.CLIENT_VERSION = '0.1.0';
/** Error codes undici and node:net use for a dead or refused connection, reported as the `code`. */
const TIMEOUT_CODES = new Set([
    'UND_ERR_HEADERS_TIMEOUT',
    'UND_ERR_BODY_TIMEOUT',
    'UND_ERR_CONNECT_TIMEOUT',
    'ETIMEDOUT',
]);
class HttpTransport {
    baseUrl;
    origin;
    pathPrefix;
    timeoutMs;
    logger;
    dispatcher;
    ownsDispatcher;
    // #private: util.inspect and JSON.stringify of a client must not print the Authorization header.
    #options;
    #headers;
    #secrets;
    constructor(options) {
        this.#options = options;
        const apiKey = options.apiKey?.trim();
        if (!apiKey)
            throw new errors_js_1.InputError('api-key', 'is empty; pass a Peridio API key (e.g. from a secret)');
        if (/[\r\n]/.test(apiKey))
            throw new errors_js_1.InputError('api-key', 'must be a single line');
        const base = parseBaseUrl(options.baseUrl || exports.DEFAULT_BASE_URL);
        this.baseUrl = base.href;
        this.origin = base.origin;
        this.pathPrefix = base.pathPrefix;
        this.#secrets = [apiKey];
        this.#headers = {
            authorization: `Token ${apiKey}`,
            'x-api-version': String(options.apiVersion ?? exports.DEFAULT_API_VERSION),
            'user-agent': options.userAgent ?? `peridio-actions/${exports.CLIENT_VERSION}`,
        };
        this.timeoutMs = options.timeoutMs ?? exports.DEFAULT_TIMEOUT_MS;
        this.logger = options.logger ?? logger_js_1.silentLogger;
        this.ownsDispatcher = !options.dispatcher;
        this.dispatcher =
            options.dispatcher ?? new undici_1.Agent({ keepAliveTimeout: 30_000, connect: { timeout: this.timeoutMs } });
    }
    /** Sends the request, retrying transient failures (the flows built on top are idempotent). */
    async request(req) {
        return (0, retry_js_1.withRetry)(() => this.once(req), {
            label: `${req.method} ${req.path}`,
            policy: this.#options.retry,
            signal: this.#options.signal,
            logger: this.logger,
        });
    }
    /** Closes the keep-alive connections of the client's own Agent (a caller's dispatcher is left open). */
    async close() {
        if (this.ownsDispatcher)
            await this.dispatcher.close();
    }
    async once(req) {
        const query = encodeQuery(req.query);
        const shownPath = query ? `${req.path}?${query}` : req.path;
        const headers = { ...this.#headers, ...req.headers };
        let payload;
        if (req.body !== undefined) {
            payload = JSON.stringify(req.body);
            headers['content-type'] = 'application/json';
        }
        const started = performance.now();
        const elapsed = () => Math.round(performance.now() - started);
        try {
            const res = await this.dispatcher.request({
                origin: this.origin,
                path: `${this.pathPrefix}${shownPath}`,
                method: req.method,
                headers,
                body: payload,
                headersTimeout: this.timeoutMs,
                bodyTimeout: this.timeoutMs,
                signal: this.#options.signal,
            });
            const text = await res.body.text();
            this.logger.debug(`${req.method} ${shownPath} -> ${res.statusCode} (${elapsed()} ms)`);
            if (res.statusCode < 200 || res.statusCode > 299) {
                throw (0, api_error_js_1.parseApiError)({
                    status: res.statusCode,
                    method: req.method,
                    path: req.path,
                    body: text,
                    retryAfter: headerValue(res.headers['retry-after']),
                    secrets: this.#secrets,
                });
            }
            return { status: res.statusCode, body: parseJson(text, req, res.statusCode) };
        }
        catch (err) {
            if (err instanceof errors_js_1.PeridioError)
                throw err;
            if (this.#options.signal?.aborted)
                throw this.#options.signal.reason;
            if (err instanceof TypeError || codeOf(err) === 'UND_ERR_INVALID_ARG') {
                // A bug on our side (a malformed header or URL), not a transient failure: do not retry it.
                const message = (0, redact_js_1.redactSecrets)(err instanceof Error ? err.message : String(err), this.#secrets);
                throw new errors_js_1.PeridioError(`${req.method} ${req.path}: invalid request: ${message}`);
            }
            const wrapped = this.toNetworkError(err, req);
            this.logger.debug(`${req.method} ${shownPath} failed after ${elapsed()} ms: ${wrapped.code}`);
            throw wrapped;
        }
    }
    toNetworkError(err, req) {
        const code = errorCode(err);
        const where = `${req.method} ${req.path}`;
        if (TIMEOUT_CODES.has(code)) {
            return new errors_js_1.NetworkError(`${where}: no response from ${this.origin} within ${this.timeoutMs} ms (${code})`, 'ETIMEDOUT');
        }
        // undici messages never carry headers, but scrub anyway: the key must not leak through a future change.
        const message = (0, redact_js_1.redactSecrets)(err instanceof Error ? err.message : String(err), this.#secrets);
        return new errors_js_1.NetworkError(`${where}: connection to ${this.origin} failed: ${message} (${code})`, code);
    }
}
exports.HttpTransport = HttpTransport;
function parseBaseUrl(value) {
    let url;
    try {
        url = new URL(value.trim());
    }
    catch {
        throw new errors_js_1.InputError('base-url', `"${value}" is not a URL (e.g. ${exports.DEFAULT_BASE_URL})`);
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
        throw new errors_js_1.InputError('base-url', `must be an http(s) URL, got ${url.protocol}`);
    }
    if (url.username || url.password)
        throw new errors_js_1.InputError('base-url', 'must not contain credentials');
    if (url.search || url.hash)
        throw new errors_js_1.InputError('base-url', 'must not contain a query or fragment');
    // The SDK concatenates base and path, so `https://host/` would yield `//binaries`.
    const pathPrefix = url.pathname.replace(/\/+$/, '');
    return { href: `${url.origin}${pathPrefix}`, origin: url.origin, pathPrefix };
}
/** Form encoding, as reqwest's `.query()` does (space → `+`, `:` → `%3A`, `'` → `%27`). */
function encodeQuery(query) {
    const params = new URLSearchParams();
    for (const [key, value] of Object.entries(query ?? {})) {
        if (value !== undefined)
            params.append(key, String(value));
    }
    return params.toString();
}
function parseJson(text, req, status) {
    if (!text.trim())
        return undefined;
    try {
        return JSON.parse(text);
    }
    catch {
        throw new errors_js_1.PeridioError(`${req.method} ${req.path}: HTTP ${status} with a body that is not JSON`);
    }
}
function headerValue(value) {
    return Array.isArray(value) ? value[0] : value;
}
/** The most specific code: node's errno (ECONNRESET) when undici wraps it, else undici's own. */
function errorCode(err) {
    const own = codeOf(err);
    const cause = err instanceof Error ? codeOf(err.cause) : undefined;
    if (cause?.startsWith('E'))
        return cause;
    if (own?.startsWith('E') || (own && TIMEOUT_CODES.has(own)))
        return own;
    if (err instanceof Error && err.name === 'TimeoutError')
        return 'ETIMEDOUT';
    return own ?? cause ?? 'ENETWORK';
}
function codeOf(err) {
    if (typeof err !== 'object' || err === null)
        return undefined;
    const code = err.code;
    return typeof code === 'string' ? code : undefined;
}


/***/ }),

/***/ 9341:
/***/ ((__unused_webpack_module, exports, __webpack_require__) => {


Object.defineProperty(exports, "__esModule", ({ value: true }));
exports.searchQuery = searchQuery;
const errors_js_1 = __webpack_require__(7638);
/** The Admin API accepts 1 to 5 clauses per search (protocol.md §2.3). */
const MAX_CLAUSES = 5;
const FIELD = /^[A-Za-z_][A-Za-z0-9_.]*$/;
/**
 * Builds an equality search in Peridio's query language, e.g. `target:'x' and artifact_version_prn:'y'`.
 * Strings are single-quoted with `\'`; a backslash is escaped as `\\` too, because otherwise a value
 * ending in `\` would escape its own closing quote and swallow the next clause (the self-hosted
 * registry unescapes any `\x`; real Peridio documents only `\'`, and its values never need more).
 */
function searchQuery(clauses) {
    const entries = Object.entries(clauses);
    if (entries.length === 0 || entries.length > MAX_CLAUSES) {
        throw new errors_js_1.InputError('search', `a search needs 1 to ${MAX_CLAUSES} clauses, got ${entries.length}`);
    }
    return entries.map(([field, value]) => `${checkField(field)}:${formatValue(field, value)}`).join(' and ');
}
function checkField(field) {
    if (!FIELD.test(field))
        throw new errors_js_1.InputError('search', `"${field}" is not a searchable field name`);
    return field;
}
function formatValue(field, value) {
    if (typeof value === 'string')
        return `'${value.replace(/[\\']/g, (ch) => `\\${ch}`)}'`;
    if (typeof value === 'number' && !Number.isFinite(value)) {
        throw new errors_js_1.InputError('search', `the value of "${field}" must be a finite number`);
    }
    return String(value);
}


/***/ }),

/***/ 7638:
/***/ ((__unused_webpack_module, exports) => {


Object.defineProperty(exports, "__esModule", ({ value: true }));
exports.TimeoutError = exports.NetworkError = exports.ConflictError = exports.ApiError = exports.InputError = exports.UserError = exports.PeridioError = void 0;
exports.isUserError = isUserError;
/**
 * Typed errors. The split that matters to users: a `UserError` is something they can fix (bad input,
 * a 4xx from the API, content that conflicts with what is already published); anything else is a bug
 * or an outage, and the action wrapper reports it with its stack.
 */
class PeridioError extends Error {
    name = 'PeridioError';
    constructor(message, options) {
        super(message, options);
    }
}
exports.PeridioError = PeridioError;
/** Marker base: the user can fix this (input, key, API key, conflicting content). */
class UserError extends PeridioError {
    name = 'UserError';
}
exports.UserError = UserError;
/** An action input or a function argument a user supplied is wrong. `input` is its kebab-case name. */
class InputError extends UserError {
    input;
    name = 'InputError';
    constructor(input, message, options) {
        super(`Input '${input}': ${message}`, options);
        this.input = input;
    }
}
exports.InputError = InputError;
/** The server answered with a non-2xx status. `fieldErrors` holds the 422 validation map, if any. */
class ApiError extends PeridioError {
    status;
    method;
    path;
    detail;
    fieldErrors;
    retryAfterMs;
    name = 'ApiError';
    constructor(status, method, path, detail, fieldErrors = {}, retryAfterMs) {
        super(`${method} ${path} failed with HTTP ${status}: ${detail}`);
        this.status = status;
        this.method = method;
        this.path = path;
        this.detail = detail;
        this.fieldErrors = fieldErrors;
        this.retryAfterMs = retryAfterMs;
    }
    /** 4xx other than 408/425/429 are caused by the request, i.e. by the user's input or setup. */
    get isClientError() {
        return this.status >= 400 && this.status < 500 && ![408, 425, 429].includes(this.status);
    }
}
exports.ApiError = ApiError;
/** The published state conflicts with what the user asked for (e.g. a target already signed with other content). */
class ConflictError extends UserError {
    name = 'ConflictError';
}
exports.ConflictError = ConflictError;
/** A connection failed, was reset, or timed out before a response. Retryable. */
class NetworkError extends PeridioError {
    code;
    name = 'NetworkError';
    constructor(message, code, options) {
        super(message, options);
        this.code = code;
    }
}
exports.NetworkError = NetworkError;
/** A deadline passed (waiting for `signable`, a stalled part, the retry budget). */
class TimeoutError extends PeridioError {
    name = 'TimeoutError';
}
exports.TimeoutError = TimeoutError;
/** True when the user, not the code, must act: input errors, conflicts, and 4xx API answers. */
function isUserError(err) {
    if (err instanceof UserError)
        return true;
    if (err instanceof ApiError)
        return err.isClientError;
    return false;
}


/***/ }),

/***/ 5511:
/***/ ((__unused_webpack_module, exports) => {


Object.defineProperty(exports, "__esModule", ({ value: true }));
exports.allItems = allItems;
exports.findFirst = findFirst;
/** Every item of a list, following `next_page` (a caller that returns early stops the paging). */
async function* allItems(list, params = {}) {
    let page;
    for (;;) {
        const result = await list({ ...params, ...(page ? { page } : {}) });
        yield* result.items;
        if (!result.next_page)
            return;
        page = result.next_page;
    }
}
async function findFirst(list, params, match) {
    for await (const item of allItems(list, params))
        if (match(item))
            return item;
    return undefined;
}


/***/ }),

/***/ 1808:
/***/ ((__unused_webpack_module, exports, __webpack_require__) => {


Object.defineProperty(exports, "__esModule", ({ value: true }));
exports.ensureArtifactVersion = ensureArtifactVersion;
/**
 * Step 1 of a release: the artifact (by name, created when missing, or by PRN) and its version. Every
 * matrix job of a release runs this at the same time; all of them must end with the same version.
 */
const errors_js_1 = __webpack_require__(7638);
const logger_js_1 = __webpack_require__(9157);
const prn_js_1 = __webpack_require__(2633);
const search_js_1 = __webpack_require__(9341);
const version_js_1 = __webpack_require__(8109);
const api_js_1 = __webpack_require__(5511);
const race_js_1 = __webpack_require__(7614);
async function ensureArtifactVersion(options) {
    const { api } = options;
    const logger = options.logger ?? logger_js_1.silentLogger;
    const version = (0, version_js_1.validateVersion)(options.version);
    const { artifact, created: artifactCreated } = await ensureArtifact(api, options.artifact, logger);
    // `version:` is an exact, case-sensitive match; the filter guards against a registry that matches loosely.
    const find = () => (0, api_js_1.findFirst)((p) => api.listArtifactVersions(p), { search: (0, search_js_1.searchQuery)({ artifact_prn: artifact.prn, version }), order: 'asc', limit: 100 }, (v) => v.artifact_prn === artifact.prn && v.version === version);
    const { record: artifactVersion, created } = await (0, race_js_1.findOrCreate)(find, () => api.createArtifactVersion({
        artifact_prn: artifact.prn,
        version,
        description: options.description ?? null,
        custom_metadata: options.customMetadata ?? null,
    }));
    logger.info(`${created ? 'Created' : 'Found'} version ${version} of artifact ${artifact.name}: ${artifactVersion.prn}`);
    return { artifact, artifactVersion, created, artifactCreated };
}
async function ensureArtifact(api, nameOrPrn, logger) {
    const value = nameOrPrn.trim();
    if (value.startsWith('prn:') || (0, prn_js_1.isPrn)(value)) {
        const prn = (0, prn_js_1.requirePrn)(value, 'artifact', 'artifact');
        try {
            return { artifact: await api.getArtifact(prn), created: false };
        }
        catch (err) {
            if (err instanceof errors_js_1.ApiError && err.status === 404) {
                throw new errors_js_1.InputError('artifact', `no artifact ${prn} is visible to this API key; check the PRN and the key's organization`);
            }
            throw err;
        }
    }
    if (value.length === 0)
        throw new errors_js_1.InputError('artifact', 'must be an artifact name or PRN');
    if (value.length > 128)
        throw new errors_js_1.InputError('artifact', `a name is at most 128 characters, got ${value.length}`);
    // Oldest first: should a registry ever allow two artifacts of one name, every job still picks the same one.
    const find = () => (0, api_js_1.findFirst)((p) => api.listArtifacts(p), { search: (0, search_js_1.searchQuery)({ name: value }), order: 'asc', limit: 100 }, (a) => a.name === value);
    const { record, created } = await (0, race_js_1.findOrCreate)(find, () => api.createArtifact({ name: value, description: null, custom_metadata: null }));
    logger.info(`${created ? 'Created' : 'Found'} artifact ${value}: ${record.prn}`);
    return { artifact: record, created };
}


/***/ }),

/***/ 4946:
/***/ ((__unused_webpack_module, exports, __webpack_require__) => {


Object.defineProperty(exports, "__esModule", ({ value: true }));
exports.ensureBinary = ensureBinary;
exports.validateTarget = validateTarget;
/**
 * Find or create the binary record of one target of an artifact version, for a file of known hash and
 * size. This is what makes a re-run resume: the same content continues from whatever state the record
 * is in; other content replaces an unsigned record, and is refused for a signed one.
 */
const errors_js_1 = __webpack_require__(7638);
const logger_js_1 = __webpack_require__(9157);
const search_js_1 = __webpack_require__(9341);
const api_js_1 = __webpack_require__(5511);
const race_js_1 = __webpack_require__(7614);
const format_js_1 = __webpack_require__(1104);
async function ensureBinary(options) {
    const { api, artifactVersionPrn, target, hash, size } = options;
    const logger = options.logger ?? logger_js_1.silentLogger;
    validateTarget(target);
    const found = await (0, race_js_1.findOrCreate)(() => findLive(api, artifactVersionPrn, target), async () => {
        // Destroyed binaries stay listed; one for this target means this version's content was revoked.
        const destroyed = await findDestroyed(api, artifactVersionPrn, target);
        if (destroyed)
            throw destroyedError(destroyed);
        return api.createBinary({
            artifact_version_prn: artifactVersionPrn,
            target,
            hash,
            size,
            description: options.description ?? null,
            custom_metadata: options.customMetadata ?? null,
        });
    });
    const binary = found.record;
    if (found.created) {
        logger.info(`Created binary ${binary.prn} for target ${target}`);
        return { binary, outcome: 'created' };
    }
    if (binary.hash === hash && binary.size === size) {
        logger.info(`Found binary ${binary.prn} for target ${target} with this content, state ${binary.state}`);
        return { binary, outcome: 'found' };
    }
    if (binary.state === 'signed') {
        throw new errors_js_1.ConflictError(`target '${target}' of artifact version ${artifactVersionPrn} is already signed with other content ` +
            `(binary ${binary.prn}: sha256 ${binary.hash}, ${describeSize(binary.size)}); this file is sha256 ${hash}, ` +
            `${describeSize(size)}. A signed binary cannot be replaced: publish this file as a new version, ` +
            `or check that the right file and target were given.`);
    }
    if (binary.state === 'destroyed')
        throw destroyedError(binary);
    logger.warning(`Binary ${binary.prn} for target ${target} holds other content (sha256 ${binary.hash}, state ` +
        `${binary.state}); resetting it to this file (sha256 ${hash})`);
    try {
        // A reset deletes the uploaded parts; hash and size may change only once the record is `uploadable`.
        if (binary.state !== 'uploadable')
            await api.updateBinary(binary.prn, { state: 'uploadable' });
        const reset = await api.updateBinary(binary.prn, { hash, size });
        return { binary: reset, outcome: 'reset' };
    }
    catch (err) {
        // Another job may have moved the record on (hashing, signed) between our read and our reset.
        if (!(err instanceof errors_js_1.ApiError) || (err.status !== 409 && err.status !== 422))
            throw err;
        const now = await api.getBinary(binary.prn);
        if (now.hash === hash && now.size === size)
            return { binary: now, outcome: 'found' };
        throw new errors_js_1.ConflictError(`target '${target}' of artifact version ${artifactVersionPrn} is being published with other content ` +
            `by another job (binary ${now.prn}: sha256 ${now.hash}, state ${now.state}); this file is sha256 ` +
            `${hash}. The registry refused the reset (${err.detail}). Check that only one job publishes this target.`, { cause: err });
    }
}
function validateTarget(target) {
    if (target.length === 0)
        throw new errors_js_1.InputError('target', 'must not be empty');
    if (target.length > 128)
        throw new errors_js_1.InputError('target', `must be at most 128 characters, got ${target.length}`);
    // eslint-disable-next-line no-control-regex
    if (/[\u0000-\u001f\u007f]/.test(target))
        throw new errors_js_1.InputError('target', 'must not contain control characters');
}
async function findLive(api, artifactVersionPrn, target) {
    for await (const binary of byTarget(api, artifactVersionPrn, target)) {
        if (binary.state !== 'destroyed')
            return binary;
    }
    return undefined;
}
async function findDestroyed(api, artifactVersionPrn, target) {
    for await (const binary of byTarget(api, artifactVersionPrn, target)) {
        if (binary.state === 'destroyed')
            return binary;
    }
    return undefined;
}
async function* byTarget(api, artifactVersionPrn, target) {
    const search = (0, search_js_1.searchQuery)({ target, artifact_version_prn: artifactVersionPrn });
    try {
        for await (const binary of (0, api_js_1.allItems)((p) => api.listBinaries(p), { search, limit: 100 })) {
            if (binary.target === target && binary.artifact_version_prn === artifactVersionPrn)
                yield binary;
        }
    }
    catch (err) {
        if (err instanceof errors_js_1.ApiError && err.status === 404) {
            throw new errors_js_1.InputError('artifact-version-prn', `no artifact version ${artifactVersionPrn} is visible to this API key`);
        }
        throw err;
    }
}
function destroyedError(binary) {
    return new errors_js_1.ConflictError(`the binary for target '${binary.target}' of artifact version ${binary.artifact_version_prn} ` +
        `(${binary.prn}) was destroyed: its content is deleted for good and cannot be uploaded or signed again. ` +
        `Publish this file as a new version.`);
}
function describeSize(size) {
    return size === null ? 'unknown size' : `${size} bytes (${(0, format_js_1.formatBytes)(size)})`;
}


/***/ }),

/***/ 1104:
/***/ ((__unused_webpack_module, exports) => {


Object.defineProperty(exports, "__esModule", ({ value: true }));
exports.formatBytes = formatBytes;
exports.formatRate = formatRate;
exports.formatDuration = formatDuration;
exports.percent = percent;
/** Human units for logs and summaries: decimal MB, as network rates are usually quoted. */
function formatBytes(bytes) {
    if (bytes < 1000)
        return `${bytes} B`;
    const units = ['kB', 'MB', 'GB', 'TB'];
    let value = bytes / 1000;
    let unit = 0;
    while (value >= 1000 && unit < units.length - 1) {
        value /= 1000;
        unit += 1;
    }
    return `${value.toFixed(value < 10 ? 2 : 1)} ${units[unit]}`;
}
function formatRate(bytesPerSecond) {
    return `${(bytesPerSecond / 1e6).toFixed(1)} MB/s`;
}
function formatDuration(ms) {
    if (ms < 1000)
        return `${Math.round(ms)} ms`;
    if (ms < 60_000)
        return `${(ms / 1000).toFixed(1)} s`;
    const minutes = Math.floor(ms / 60_000);
    return `${minutes} min ${Math.round((ms % 60_000) / 1000)} s`;
}
function percent(done, total) {
    return `${total > 0 ? Math.floor((done * 100) / total) : 100}%`;
}


/***/ }),

/***/ 1530:
/***/ ((__unused_webpack_module, exports, __webpack_require__) => {


Object.defineProperty(exports, "__esModule", ({ value: true }));
exports.hashForUpload = hashForUpload;
/**
 * The hash step of an upload: size, part plan and the one-pass digest of the local file, with the
 * file's problems reported against the `file` input and progress lines for large files.
 */
const promises_1 = __webpack_require__(1455);
const errors_js_1 = __webpack_require__(7638);
const hash_js_1 = __webpack_require__(7889);
const parts_js_1 = __webpack_require__(9067);
const format_js_1 = __webpack_require__(1104);
const progress_js_1 = __webpack_require__(4860);
async function hashForUpload(options, logger, partSize = options.partSize) {
    const size = await fileSize(options.filePath);
    const plan = (0, parts_js_1.planParts)(size, { partSize });
    const progress = (0, progress_js_1.throttledProgress)(logger, 'Hashing', { intervalMs: options.progressIntervalMs });
    const startedAt = Date.now();
    const digest = await (0, hash_js_1.hashFile)(options.filePath, plan, {
        signal: options.signal,
        onProgress: (done) => progress({ done, total: size }),
    });
    const ms = Date.now() - startedAt;
    logger.info(`sha256 ${digest.sha256Hex}, ${(0, format_js_1.formatBytes)(size)} (${size} bytes), ${plan.parts.length} part(s) of ` +
        `${(0, format_js_1.formatBytes)(plan.partSize)}, hashed in ${(0, format_js_1.formatDuration)(ms)}` +
        (ms > 0 ? ` (${(0, format_js_1.formatRate)((size * 1000) / ms)})` : ''));
    return digest;
}
/** `hashFile` reports these too, but only after planning, which needs the size first. */
async function fileSize(path) {
    try {
        const info = await (0, promises_1.stat)(path);
        if (info.isDirectory())
            throw new errors_js_1.InputError('file', `${path} is a directory, not a file`);
        if (!info.isFile())
            throw new errors_js_1.InputError('file', `${path} is not a regular file`);
        return info.size;
    }
    catch (err) {
        if (err instanceof errors_js_1.InputError)
            throw err;
        const code = err.code;
        if (code === 'ENOENT')
            throw new errors_js_1.InputError('file', `${path} does not exist (relative paths start at ${process.cwd()})`);
        throw new errors_js_1.InputError('file', `${path} cannot be read (${code ?? err.message})`);
    }
}


/***/ }),

/***/ 1367:
/***/ (function(__unused_webpack_module, exports, __webpack_require__) {


var __createBinding = (this && this.__createBinding) || (Object.create ? (function(o, m, k, k2) {
    if (k2 === undefined) k2 = k;
    var desc = Object.getOwnPropertyDescriptor(m, k);
    if (!desc || ("get" in desc ? !m.__esModule : desc.writable || desc.configurable)) {
      desc = { enumerable: true, get: function() { return m[k]; } };
    }
    Object.defineProperty(o, k2, desc);
}) : (function(o, m, k, k2) {
    if (k2 === undefined) k2 = k;
    o[k2] = m[k];
}));
var __exportStar = (this && this.__exportStar) || function(m, exports) {
    for (var p in m) if (p !== "default" && !Object.prototype.hasOwnProperty.call(exports, p)) __createBinding(exports, m, p);
};
Object.defineProperty(exports, "__esModule", ({ value: true }));
__exportStar(__webpack_require__(5511), exports);
__exportStar(__webpack_require__(1808), exports);
__exportStar(__webpack_require__(4946), exports);
__exportStar(__webpack_require__(1104), exports);
__exportStar(__webpack_require__(4860), exports);
__exportStar(__webpack_require__(6740), exports);
__exportStar(__webpack_require__(7000), exports);
__exportStar(__webpack_require__(7614), exports);
__exportStar(__webpack_require__(4798), exports);
__exportStar(__webpack_require__(5257), exports);
__exportStar(__webpack_require__(742), exports);
__exportStar(__webpack_require__(1530), exports);


/***/ }),

/***/ 4860:
/***/ ((__unused_webpack_module, exports, __webpack_require__) => {


Object.defineProperty(exports, "__esModule", ({ value: true }));
exports.PROGRESS_INTERVAL_MS = void 0;
exports.throttledProgress = throttledProgress;
const format_js_1 = __webpack_require__(1104);
exports.PROGRESS_INTERVAL_MS = 5_000;
function throttledProgress(logger, label, options = {}) {
    const intervalMs = options.intervalMs ?? exports.PROGRESS_INTERVAL_MS;
    const now = options.now ?? Date.now;
    const startedAt = now();
    let lastAt = startedAt;
    return ({ done, total, bytesPerSecond, detail }) => {
        const at = now();
        if (at - lastAt < intervalMs || done >= total)
            return;
        lastAt = at;
        const rate = bytesPerSecond ?? (done * 1000) / Math.max(1, at - startedAt);
        logger.info(`${label}: ${(0, format_js_1.percent)(done, total)} (${(0, format_js_1.formatBytes)(done)} of ${(0, format_js_1.formatBytes)(total)}) at ${(0, format_js_1.formatRate)(rate)}` +
            (detail ? `, ${detail}` : ''));
    };
}


/***/ }),

/***/ 6740:
/***/ ((__unused_webpack_module, exports, __webpack_require__) => {


Object.defineProperty(exports, "__esModule", ({ value: true }));
exports.MAX_CUSTOM_METADATA_BYTES = void 0;
exports.withProvenance = withProvenance;
exports.checkCustomMetadataSize = checkCustomMetadataSize;
/**
 * Where a binary came from, recorded in its custom metadata so that anyone looking at it in the registry
 * can find the commit and the run that produced it. The action layer reads it from the runner; core only
 * merges it.
 */
const errors_js_1 = __webpack_require__(7638);
/** Peridio's SDK refuses larger custom metadata before sending it (protocol.md §3.1). */
exports.MAX_CUSTOM_METADATA_BYTES = 1_000_000;
/** The user's own keys win: provenance fills in only the keys they did not set. */
function withProvenance(user, provenance) {
    const recorded = {};
    if (provenance?.repository)
        recorded.repository = provenance.repository;
    if (provenance?.commit)
        recorded.commit = provenance.commit;
    if (provenance?.ref)
        recorded.ref = provenance.ref;
    if (provenance?.workflowRunUrl)
        recorded.workflow_run_url = provenance.workflowRunUrl;
    if (Object.keys(recorded).length === 0)
        return user;
    const merged = { ...recorded, ...user };
    checkCustomMetadataSize(merged, 'custom-metadata');
    return merged;
}
function checkCustomMetadataSize(metadata, inputName) {
    const bytes = Buffer.byteLength(JSON.stringify(metadata));
    if (bytes > exports.MAX_CUSTOM_METADATA_BYTES) {
        throw new errors_js_1.InputError(inputName, `is ${bytes} bytes of JSON; the registry accepts at most ${exports.MAX_CUSTOM_METADATA_BYTES}`);
    }
}


/***/ }),

/***/ 7000:
/***/ ((__unused_webpack_module, exports, __webpack_require__) => {


Object.defineProperty(exports, "__esModule", ({ value: true }));
exports.publishBinary = publishBinary;
const logger_js_1 = __webpack_require__(9157);
const artifact_version_js_1 = __webpack_require__(1808);
const provenance_js_1 = __webpack_require__(6740);
const sign_binary_js_1 = __webpack_require__(4798);
const upload_binary_js_1 = __webpack_require__(5257);
async function publishBinary(options) {
    const { api } = options;
    const logger = options.logger ?? logger_js_1.silentLogger;
    // A key that is not registered fails the job before anything is created or uploaded.
    const signingKey = await logger.group('Signing key', () => (0, sign_binary_js_1.resolveSigningKey)(api, options.key, options.signingKeyPrn, logger));
    const version = await logger.group(`Artifact version ${options.version}`, () => (0, artifact_version_js_1.ensureArtifactVersion)({ api, artifact: options.artifact, version: options.version, logger }));
    const upload = await (0, upload_binary_js_1.uploadBinary)({
        api,
        artifactVersionPrn: version.artifactVersion.prn,
        target: options.target,
        filePath: options.filePath,
        partSize: options.partSize,
        concurrency: options.concurrency,
        description: options.description,
        customMetadata: (0, provenance_js_1.withProvenance)(options.customMetadata, options.provenance),
        hashingTimeoutMs: options.hashingTimeoutMs,
        logger,
        signal: options.signal,
        progressIntervalMs: options.progressIntervalMs,
        dispatcher: options.dispatcher,
    });
    const sign = await logger.group(`Sign ${upload.binary.prn}`, () => (0, sign_binary_js_1.signBinary)({
        api,
        binaryPrn: upload.binary.prn,
        key: options.key,
        signingKey,
        expectedHash: upload.digest.sha256Hex,
        hashingTimeoutMs: options.hashingTimeoutMs,
        logger,
        signal: options.signal,
    }));
    return { version, upload, sign };
}


/***/ }),

/***/ 7614:
/***/ ((__unused_webpack_module, exports, __webpack_require__) => {


Object.defineProperty(exports, "__esModule", ({ value: true }));
exports.isAlreadyTaken = isAlreadyTaken;
exports.readAfterLostRace = readAfterLostRace;
exports.findOrCreate = findOrCreate;
/**
 * Matrix jobs of one release create the same artifact, version (and, on a re-run, binary) at the same
 * moment. The registry lets exactly one create win; the others get a uniqueness error, and the right
 * answer for them is the record the winner made.
 */
const errors_js_1 = __webpack_require__(7638);
/** A create refused because the record already exists: 409, or 422 "has already been taken" (protocol.md §2.4). */
function isAlreadyTaken(err) {
    if (!(err instanceof errors_js_1.ApiError))
        return false;
    if (err.status === 409)
        return true;
    if (err.status !== 422)
        return false;
    const text = [err.detail, ...Object.values(err.fieldErrors).flat()].join(' ').toLowerCase();
    return /already been taken|already exists|must be unique/.test(text);
}
/**
 * Reads the winner's record after losing a create race. The winner has committed before answering, but
 * a registry behind replicas may take a moment to show it, so a miss is retried briefly.
 */
async function readAfterLostRace(read, options = {}) {
    const attempts = options.attempts ?? 4;
    const sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
    for (let attempt = 1;; attempt++) {
        const found = await read();
        if (found !== undefined || attempt >= attempts)
            return found;
        await sleep((options.delayMs ?? 100) * 2 ** (attempt - 1));
    }
}
/**
 * Create, or on a lost race take the winner's record. `created` tells the caller which happened, so that
 * outputs can say whether this run made the record.
 */
async function findOrCreate(find, create) {
    const existing = await find();
    if (existing !== undefined)
        return { record: existing, created: false };
    try {
        return { record: await create(), created: true };
    }
    catch (err) {
        if (!isAlreadyTaken(err))
            throw err;
        const winner = await readAfterLostRace(find);
        if (winner === undefined)
            throw err;
        return { record: winner, created: false };
    }
}


/***/ }),

/***/ 4798:
/***/ ((__unused_webpack_module, exports, __webpack_require__) => {


Object.defineProperty(exports, "__esModule", ({ value: true }));
exports.signBinary = signBinary;
exports.resolveSigningKey = resolveSigningKey;
/**
 * Step 5 of a release: sign the binary's hash with the user's Ed25519 key. The key must be registered in
 * the registry; which registered key it is follows from the private key itself, so the user need not
 * pass its PRN. Nothing is sent before the signature verifies against the registered public key, and a
 * binary this key already signed is a success without any request that changes something.
 */
const errors_js_1 = __webpack_require__(7638);
const keys_js_1 = __webpack_require__(1589);
const logger_js_1 = __webpack_require__(9157);
const prn_js_1 = __webpack_require__(2633);
const search_js_1 = __webpack_require__(9341);
const api_js_1 = __webpack_require__(5511);
const wait_js_1 = __webpack_require__(742);
async function signBinary(options) {
    const { api, key } = options;
    const logger = options.logger ?? logger_js_1.silentLogger;
    const binaryPrn = (0, prn_js_1.requirePrn)(options.binaryPrn, 'binary', 'binary-prn');
    const keyid = (0, keys_js_1.keyIdOf)(key.publicKey);
    const signingKey = options.signingKey ?? (await resolveSigningKey(api, key, options.signingKeyPrn, logger));
    let binary = await getBinary(api, binaryPrn);
    if (options.expectedHash && binary.hash !== options.expectedHash) {
        throw new errors_js_1.ConflictError(`another job is publishing other content for target '${binary.target}' of this artifact version: binary ` +
            `${binaryPrn} now records sha256 ${binary.hash}, not the ${options.expectedHash} this job uploaded. ` +
            `Nothing was signed; check that each job of the matrix publishes its own target.`);
    }
    const existing = signatureBy(binary, signingKey);
    if (existing && binary.state === 'signed') {
        logger.info(`Binary ${binaryPrn} is already signed by this key; nothing to do`);
        const prn = await findSignaturePrn(api, binaryPrn, signingKey.prn);
        return {
            binary,
            signature: existing.signature,
            binarySignaturePrn: prn,
            signingKey,
            keyid,
            alreadySigned: true,
        };
    }
    if (binary.state === 'hashing') {
        binary = await (0, wait_js_1.waitWhileHashing)({
            api,
            binaryPrn,
            timeoutMs: options.hashingTimeoutMs,
            logger,
            signal: options.signal,
        });
    }
    if (binary.state === 'destroyed') {
        throw new errors_js_1.ConflictError(`binary ${binaryPrn} was destroyed; its content is gone and it cannot be signed`);
    }
    if (binary.state !== 'signable' && binary.state !== 'signed') {
        throw new errors_js_1.UserError(`binary ${binaryPrn} is ${binary.state}: its upload is not complete and verified yet. ` +
            `Run upload-binary for it first (a re-run resumes the upload).`);
    }
    if (!binary.hash || !/^[0-9a-f]{64}$/.test(binary.hash)) {
        throw new errors_js_1.ConflictError(`binary ${binaryPrn} has no valid SHA-256 hash to sign (got ${JSON.stringify(binary.hash)})`);
    }
    let signature;
    let binarySignaturePrn;
    if (existing) {
        // A previous run sent the signature and died before marking the binary signed.
        signature = existing.signature;
        binarySignaturePrn = await findSignaturePrn(api, binaryPrn, signingKey.prn);
    }
    else {
        signature = (0, keys_js_1.signHash)(binary.hash, key);
        const registered = (0, keys_js_1.parsePublicKey)(signingKey.value ?? '', 'signing-key-prn');
        if (!(0, keys_js_1.verifyHashSignature)(binary.hash, signature, registered)) {
            throw new errors_js_1.InputError('signing-key-private', `the signature does not verify against the public key registered as ${signingKey.prn}; nothing was sent`);
        }
        const created = await postSignature(api, binary, signature, signingKey);
        signature = created.signature;
        binarySignaturePrn = created.prn;
        logger.info(`Sent signature ${binarySignaturePrn}`);
    }
    binary = await markSigned(api, binaryPrn);
    logger.info(`Binary ${binaryPrn} is ${binary.state}`);
    return { binary, signature, binarySignaturePrn, signingKey, keyid, alreadySigned: false };
}
async function getBinary(api, prn) {
    try {
        return await api.getBinary(prn);
    }
    catch (err) {
        if (err instanceof errors_js_1.ApiError && err.status === 404) {
            throw new errors_js_1.InputError('binary-prn', `no binary ${prn} is visible to this API key`);
        }
        throw err;
    }
}
/** The registered signing key of this private key: the given PRN after checking it, else found by public value. */
async function resolveSigningKey(api, key, prn, logger = logger_js_1.silentLogger) {
    const found = await findSigningKey(api, key, prn);
    logger.info(`Signing key ${found.name} (${found.prn}), keyid ${(0, keys_js_1.keyIdOf)(key.publicKey)}`);
    return found;
}
async function findSigningKey(api, key, prn) {
    if (prn) {
        const checked = (0, prn_js_1.requirePrn)(prn, 'signing_key', 'signing-key-prn');
        let registered;
        try {
            registered = await api.getSigningKey(checked);
        }
        catch (err) {
            if (err instanceof errors_js_1.ApiError && err.status === 404) {
                throw new errors_js_1.InputError('signing-key-prn', `no signing key ${checked} is registered for this API key's organization`);
            }
            throw err;
        }
        if (!samePublicKey(registered, key)) {
            throw new errors_js_1.InputError('signing-key-prn', `${checked} is registered with another public key (keyid ${registered.keyid ?? 'unknown'}) than the one of ` +
                `signing-key-private (keyid ${(0, keys_js_1.keyIdOf)(key.publicKey)}, public value ${key.publicValue}). Pass the PRN of ` +
                `that key, or omit signing-key-prn to find it.`);
        }
        return registered;
    }
    const bySearch = await (0, api_js_1.findFirst)((p) => api.listSigningKeys(p), { search: (0, search_js_1.searchQuery)({ value: key.publicValue }), limit: 100 }, (k) => samePublicKey(k, key)).catch((err) => {
        // A registry without `value:` search answers 400/422; the full scan below still finds the key.
        if (err instanceof errors_js_1.ApiError && (err.status === 400 || err.status === 422))
            return undefined;
        throw err;
    });
    if (bySearch)
        return bySearch;
    for await (const candidate of (0, api_js_1.allItems)((p) => api.listSigningKeys(p), { limit: 100 })) {
        if (samePublicKey(candidate, key))
            return candidate;
    }
    throw new errors_js_1.InputError('signing-key-private', `its public key ${key.publicValue} (keyid ${(0, keys_js_1.keyIdOf)(key.publicKey)}) is not registered as a signing key. ` +
        `Register it first (peridio signing-keys create --value ${key.publicValue} --name <name>), or use the key that is.`);
}
function samePublicKey(registered, key) {
    if (registered.keyid && registered.keyid.toLowerCase() === (0, keys_js_1.keyIdOf)(key.publicKey))
        return true;
    if (!registered.value)
        return false;
    try {
        return Buffer.from((0, keys_js_1.parsePublicKey)(registered.value)).equals(Buffer.from(key.publicKey));
    }
    catch {
        return false;
    }
}
function signatureBy(binary, signingKey) {
    return (binary.signatures ?? []).find((s) => s.signing_key_prn === signingKey.prn || (!!s.keyid && s.keyid === signingKey.keyid));
}
async function findSignaturePrn(api, binaryPrn, signingKeyPrn) {
    const found = await (0, api_js_1.findFirst)((p) => api.listBinarySignatures(p), { search: (0, search_js_1.searchQuery)({ binary_prn: binaryPrn, signing_key_prn: signingKeyPrn }), limit: 100 }, (s) => s.binary_prn === binaryPrn && s.signing_key_prn === signingKeyPrn);
    return found?.prn ?? '';
}
/** A lost race with another run of this job leaves the same signature in place: take it. */
async function postSignature(api, signed, signature, signingKey) {
    const binaryPrn = signed.prn;
    try {
        return await api.createBinarySignature({
            binary_prn: binaryPrn,
            signature,
            signing_key_prn: signingKey.prn,
        });
    }
    catch (err) {
        if (!(err instanceof errors_js_1.ApiError) || (err.status !== 409 && err.status !== 422))
            throw err;
        // Refused: either another run of this job got there first, or another job reset the record to other
        // content after this one read it. The record tells which.
        const current = await api.getBinary(binaryPrn);
        if (current.hash !== signed.hash) {
            throw new errors_js_1.ConflictError(`another job is publishing other content for target '${current.target}' of this artifact version: ` +
                `binary ${binaryPrn} now holds sha256 ${current.hash} (state ${current.state}), not the sha256 ` +
                `${signed.hash} this job uploaded and signed. This job stops and leaves the target to the other one; ` +
                `check that each job of the matrix publishes its own target, or publish this file as a new version.`, { cause: err });
        }
        const found = await (0, api_js_1.findFirst)((p) => api.listBinarySignatures(p), { search: (0, search_js_1.searchQuery)({ binary_prn: binaryPrn, signing_key_prn: signingKey.prn }), limit: 100 }, (s) => s.binary_prn === binaryPrn && s.signing_key_prn === signingKey.prn).catch(() => undefined);
        if (found)
            return found;
        throw err;
    }
}
/** Peridio's CLI sends this too, although attaching a signature already signs; a 422 from an already signed binary is fine. */
async function markSigned(api, binaryPrn) {
    try {
        return await api.updateBinary(binaryPrn, { state: 'signed' });
    }
    catch (err) {
        if (!(err instanceof errors_js_1.ApiError) || err.status !== 422)
            throw err;
        const current = await api.getBinary(binaryPrn);
        if (current.state !== 'signed')
            throw err;
        return current;
    }
}


/***/ }),

/***/ 5257:
/***/ ((__unused_webpack_module, exports, __webpack_require__) => {


Object.defineProperty(exports, "__esModule", ({ value: true }));
exports.uploadBinary = uploadBinary;
/**
 * Steps 2–4 of a release for one file: hash it, find or create its binary record, upload the parts the
 * registry does not hold yet, and wait until the registry has verified the content (`signable`).
 * Each step starts from the record's state, so a re-run of a job that died anywhere resumes there, and a
 * re-run of a finished job sends nothing.
 */
const node_path_1 = __webpack_require__(6760);
const errors_js_1 = __webpack_require__(7638);
const logger_js_1 = __webpack_require__(9157);
const parts_js_1 = __webpack_require__(9067);
const prn_js_1 = __webpack_require__(2633);
const upload_js_1 = __webpack_require__(3784);
const binary_js_1 = __webpack_require__(4946);
const format_js_1 = __webpack_require__(1104);
const hash_step_js_1 = __webpack_require__(1530);
const progress_js_1 = __webpack_require__(4860);
const wait_js_1 = __webpack_require__(742);
/** The registry rejected its own hash check once; a second failure means the problem is not in transit. */
const MAX_REUPLOADS = 1;
/**
 * Another job of the same release (same artifact version and target, other content) may reset the record
 * while this one uploads: its parts vanish, its URLs are refused, its state changes fail. Each time, the
 * record decides: if it now holds the other job's content, this job stops with a ConflictError and leaves
 * the target to the other one; if it still holds ours, the step starts again from the record's state.
 */
const MAX_INTERFERENCES = 3;
async function uploadBinary(options) {
    const { api, target, filePath } = options;
    const logger = options.logger ?? logger_js_1.silentLogger;
    const artifactVersionPrn = (0, prn_js_1.requirePrn)(options.artifactVersionPrn, 'artifact_version', 'artifact-version-prn');
    const artifactVersion = await getArtifactVersion(api, artifactVersionPrn);
    const digest = await logger.group(`Hash ${(0, node_path_1.basename)(filePath)}`, () => (0, hash_step_js_1.hashForUpload)(options, logger));
    let { binary, outcome } = await logger.group(`Binary record for target ${target}`, () => (0, binary_js_1.ensureBinary)({
        api,
        artifactVersionPrn,
        target,
        hash: digest.sha256Hex,
        size: digest.size,
        description: options.description,
        customMetadata: options.customMetadata,
        logger,
    }));
    const totals = { partsUploaded: 0, partsSkipped: 0, bytesUploaded: 0, uploadDurationMs: 0 };
    let partsSkippedKnown = false;
    let reuploads = 0;
    let plannedDigest = digest;
    // Each pass moves the record one step; the bound only guards against a registry that never settles.
    let interferences = 0;
    for (let step = 0; step < 20; step++) {
        try {
            switch (binary.state) {
                case 'uploadable': {
                    const result = await logger.group(`Upload ${(0, format_js_1.formatBytes)(digest.size)} to ${binary.prn}`, async () => {
                        const sent = await uploadResumingGeometry(options, binary, plannedDigest, logger);
                        plannedDigest = sent.digest;
                        binary = await moveTo(api, binary, 'hashable', logger);
                        return sent.result;
                    });
                    totals.partsUploaded += result.partsUploaded;
                    if (!partsSkippedKnown)
                        totals.partsSkipped = result.partsSkipped;
                    partsSkippedKnown = true;
                    totals.bytesUploaded += result.bytesUploaded;
                    totals.uploadDurationMs += result.durationMs;
                    break;
                }
                case 'hashable':
                case 'hashing': {
                    binary = await logger.group('Registry verification', async () => {
                        if (binary.state === 'hashable')
                            binary = await moveTo(api, binary, 'hashing', logger);
                        if (binary.state !== 'hashing')
                            return binary;
                        return (0, wait_js_1.waitWhileHashing)({
                            api,
                            binaryPrn: binary.prn,
                            timeoutMs: options.hashingTimeoutMs,
                            logger,
                            signal: options.signal,
                        });
                    });
                    if (binary.state === 'uploadable') {
                        assertOwnContent(binary, digest, target);
                        const reason = binary.hash_error;
                        if (reuploads >= MAX_REUPLOADS) {
                            throw new errors_js_1.ConflictError(`the registry rejected the uploaded content of ${binary.prn} again${reason ? ` (${reason})` : ''}; ` +
                                `its SHA-256 does not match ${digest.sha256Hex}. Check that nothing modifies the file during the upload.`);
                        }
                        reuploads += 1;
                        logger.warning(`The registry's hash check failed${reason ? ` (${reason})` : ''} and it discarded the parts; uploading again`);
                    }
                    break;
                }
                case 'signable':
                case 'signed': {
                    assertOwnContent(binary, digest, target);
                    if (!partsSkippedKnown)
                        totals.partsSkipped = plannedDigest.parts.length;
                    const bytesPerSecond = totals.uploadDurationMs > 0
                        ? Math.round((totals.bytesUploaded * 1000) / totals.uploadDurationMs)
                        : 0;
                    logger.info(`Binary ${binary.prn} is ${binary.state}: ${totals.partsUploaded} parts sent, ${totals.partsSkipped} already there` +
                        (totals.bytesUploaded > 0
                            ? `, ${(0, format_js_1.formatBytes)(totals.bytesUploaded)} at ${(0, format_js_1.formatRate)(bytesPerSecond)}`
                            : ''));
                    return { artifactVersion, binary, digest, outcome, ...totals, bytesPerSecond };
                }
                case 'destroyed':
                    throw new errors_js_1.ConflictError(`binary ${binary.prn} was destroyed while this job ran; publish a new version`);
            }
        }
        catch (err) {
            if (!isInterference(err))
                throw err;
            const current = await api.getBinary(binary.prn);
            assertOwnContent(current, digest, target);
            if (++interferences > MAX_INTERFERENCES)
                throw err;
            logger.warning(`Binary ${binary.prn} changed under this job (${err.message}); continuing from its state ${current.state}`);
            binary = current;
        }
    }
    throw new errors_js_1.PeridioError(`binary ${binary.prn} did not reach signable (last state ${binary.state})`);
}
/** What a concurrent reset of the record looks like from here: refused URLs, vanished parts, failed moves. */
function isInterference(err) {
    return ((err instanceof errors_js_1.ApiError && [403, 409, 422].includes(err.status)) || err instanceof upload_js_1.IncompleteUploadError);
}
function assertOwnContent(binary, digest, target) {
    if (binary.hash === digest.sha256Hex && binary.size === digest.size)
        return;
    throw new errors_js_1.ConflictError(`another job is publishing other content for target '${target}' of this artifact version: binary ` +
        `${binary.prn} now holds sha256 ${binary.hash} (${binary.size} bytes), this job's file is sha256 ` +
        `${digest.sha256Hex} (${digest.size} bytes). This job stops and leaves the target to the other one; ` +
        `check that each job of the matrix publishes its own target, or publish this file as a new version.`);
}
async function getArtifactVersion(api, prn) {
    try {
        return await api.getArtifactVersion(prn);
    }
    catch (err) {
        if (err instanceof errors_js_1.ApiError && err.status === 404) {
            throw new errors_js_1.InputError('artifact-version-prn', `no artifact version ${prn} is visible to this API key`);
        }
        throw err;
    }
}
/**
 * Parts left by an earlier run with a smaller part size cannot be deleted one by one, and the binary is
 * `uploadable`, which has no reset. Continuing with the part size the registry already holds keeps
 * the parts that match and overwrites the rest, at the price of hashing the file once more.
 */
async function uploadResumingGeometry(options, binary, digest, logger) {
    const send = (d) => {
        const progress = (0, progress_js_1.throttledProgress)(logger, 'Uploading', { intervalMs: options.progressIntervalMs });
        return (0, upload_js_1.uploadParts)({
            api: options.api,
            binaryPrn: binary.prn,
            binarySize: binary.size ?? d.size,
            filePath: options.filePath,
            digest: d,
            concurrency: options.concurrency,
            signal: options.signal,
            logger,
            dispatcher: options.dispatcher,
            onProgress: (p) => progress({
                done: p.bytesSent,
                total: p.bytesToSend,
                bytesPerSecond: p.bytesPerSecond,
                detail: `${p.partsDone}/${p.partsToSend} parts`,
            }),
        });
    };
    try {
        return { result: await send(digest), digest };
    }
    catch (err) {
        if (!(err instanceof upload_js_1.ExtraPartsError) || !err.serverPartSize || err.serverPartSize < parts_js_1.MIN_PART_SIZE)
            throw err;
        logger.warning(`The registry holds parts of ${(0, format_js_1.formatBytes)(err.serverPartSize)} from an earlier run; continuing with that part size`);
        const again = await (0, hash_step_js_1.hashForUpload)(options, logger, err.serverPartSize);
        return { result: await send(again), digest: again };
    }
}
/**
 * One state step. A 422 may mean another run of this job moved the record first (a re-run racing a
 * straggler); the record's actual state decides what comes next.
 */
async function moveTo(api, binary, state, logger) {
    try {
        const moved = await api.updateBinary(binary.prn, { state });
        logger.info(`Binary ${binary.prn}: ${binary.state} → ${moved.state}`);
        return moved;
    }
    catch (err) {
        if (!(err instanceof errors_js_1.ApiError) || err.status !== 422)
            throw err;
        const current = await api.getBinary(binary.prn);
        if (current.state === binary.state)
            throw err;
        logger.info(`Binary ${binary.prn} is already ${current.state}`);
        return current;
    }
}


/***/ }),

/***/ 742:
/***/ ((__unused_webpack_module, exports, __webpack_require__) => {


Object.defineProperty(exports, "__esModule", ({ value: true }));
exports.DEFAULT_HASHING_TIMEOUT_MS = void 0;
exports.waitWhileHashing = waitWhileHashing;
/**
 * Waiting for the registry's own hash check (`hashing` → `signable`). Peridio's CLI polls every 10 s for
 * at most 5 minutes; a small binary on a local registry is done in milliseconds, a large one on the cloud
 * may take longer than 5 minutes. So: poll soon, back off to a cap, and stop at a deadline the user sets.
 */
const errors_js_1 = __webpack_require__(7638);
const logger_js_1 = __webpack_require__(9157);
const retry_js_1 = __webpack_require__(9899);
const format_js_1 = __webpack_require__(1104);
exports.DEFAULT_HASHING_TIMEOUT_MS = 10 * 60_000;
/**
 * Polls until the binary leaves `hashing` and returns it in whatever state it reached: `signable` (or
 * `signed`) normally, `uploadable` when the server's check failed and it wants the content again.
 */
async function waitWhileHashing(options) {
    const logger = options.logger ?? logger_js_1.silentLogger;
    const now = options.now ?? Date.now;
    const sleep = options.sleep ?? retry_js_1.abortableSleep;
    const timeoutMs = options.timeoutMs ?? exports.DEFAULT_HASHING_TIMEOUT_MS;
    const maxDelayMs = options.maxDelayMs ?? 10_000;
    const startedAt = now();
    const deadline = startedAt + timeoutMs;
    let delayMs = options.firstDelayMs ?? 200;
    let lastReportAt = startedAt;
    for (;;) {
        const binary = await options.api.getBinary(options.binaryPrn);
        if (binary.state !== 'hashing') {
            logger.info(`The registry verified the content in ${(0, format_js_1.formatDuration)(now() - startedAt)}: state ${binary.state}`);
            return binary;
        }
        const remaining = deadline - now();
        if (remaining <= 0) {
            throw new errors_js_1.TimeoutError(`the registry has not finished verifying binary ${options.binaryPrn} after ${(0, format_js_1.formatDuration)(timeoutMs)} ` +
                `(still hashing). Re-run the job to keep waiting (nothing is uploaded again), or raise \`hashing-timeout\`.`);
        }
        if (now() - lastReportAt >= 15_000) {
            lastReportAt = now();
            logger.info(`Still hashing after ${(0, format_js_1.formatDuration)(lastReportAt - startedAt)}`);
        }
        await sleep(Math.min(delayMs, remaining), options.signal);
        delayMs = Math.min(maxDelayMs, Math.ceil(delayMs * 1.5));
    }
}


/***/ }),

/***/ 7889:
/***/ ((__unused_webpack_module, exports, __webpack_require__) => {


Object.defineProperty(exports, "__esModule", ({ value: true }));
exports.hashFile = hashFile;
const node_crypto_1 = __webpack_require__(7598);
const promises_1 = __webpack_require__(1455);
const errors_js_1 = __webpack_require__(7638);
const part_hashers_js_1 = __webpack_require__(2037);
/** scripts/hash-bench.ts: 1–4 MiB reads perform alike; 2 MiB keeps the pool at 8 MiB. */
const READ_SIZE = 2 * 1024 * 1024;
/** Buffers in flight: one being read ahead, the rest queued for or inside the part-hashing worker. */
const WORKER_POOL = 4;
/** Below this, hashing parts inline costs less than starting a worker thread. */
const INLINE_PARTS_LIMIT = 32 * 1024 * 1024;
/**
 * Hashes a file in one read pass: the whole-file SHA-256 (binary.hash) and each planned part's SHA-256
 * (binary_part.hash, and its base64 for x-amz-checksum-sha256).
 */
async function hashFile(path, plan, options = {}) {
    options.signal?.throwIfAborted();
    const handle = await openRegularFile(path);
    try {
        const before = await handle.stat();
        if (before.size !== plan.fileSize) {
            throw new errors_js_1.ConflictError(`${path} is ${before.size} bytes but was planned as ${plan.fileSize}; did it change while publishing?`);
        }
        const [wholeHex, partHexes] = await hashOpenFile(handle, plan, options);
        const after = await handle.stat();
        if (after.size !== before.size || after.mtimeMs !== before.mtimeMs) {
            throw new errors_js_1.ConflictError(`${path} changed while it was being hashed`);
        }
        return {
            size: plan.fileSize,
            sha256Hex: wholeHex,
            partSize: plan.partSize,
            parts: plan.parts.map((part, i) => {
                const hex = partHexes[i] ?? '';
                return { ...part, sha256Hex: hex, sha256Base64: Buffer.from(hex, 'hex').toString('base64') };
            }),
            mtimeMs: before.mtimeMs,
        };
    }
    finally {
        await handle.close();
    }
}
async function openRegularFile(path) {
    let handle;
    try {
        handle = await (0, promises_1.open)(path, 'r');
    }
    catch (err) {
        const code = err.code ?? 'error';
        throw new errors_js_1.InputError('file', `cannot open ${path} (${code})`, { cause: err });
    }
    const stat = await handle.stat();
    if (!stat.isFile()) {
        await handle.close();
        throw new errors_js_1.InputError('file', `${path} is ${stat.isDirectory() ? 'a directory' : 'not a regular file'}`);
    }
    return handle;
}
async function hashOpenFile(handle, plan, options) {
    const whole = (0, node_crypto_1.createHash)('sha256');
    if (plan.parts.length === 1) {
        // A single part's digest is the whole-file digest: one hash suffices.
        const pool = new part_hashers_js_1.BufferPool(2, Math.min(READ_SIZE, Math.max(plan.fileSize, 1)));
        await readAll(handle, plan.fileSize, pool, options, (buffer, length) => {
            whole.update(new Uint8Array(buffer, 0, length));
            pool.give(buffer);
        });
        const hex = whole.digest('hex');
        return [hex, [hex]];
    }
    const inline = plan.fileSize <= INLINE_PARTS_LIMIT;
    const pool = new part_hashers_js_1.BufferPool(inline ? 2 : WORKER_POOL, READ_SIZE);
    const onAbort = () => pool.fail(options.signal?.reason);
    options.signal?.addEventListener('abort', onAbort);
    const sink = inline ? (0, part_hashers_js_1.inlinePartSink)(plan.partSize, pool) : (0, part_hashers_js_1.workerPartSink)(plan.partSize, pool);
    try {
        await readAll(handle, plan.fileSize, pool, options, (buffer, length) => {
            whole.update(new Uint8Array(buffer, 0, length));
            sink.consume(buffer, length);
        });
        const parts = await sink.finish();
        return [whole.digest('hex'), parts];
    }
    finally {
        options.signal?.removeEventListener('abort', onAbort);
        await sink.close();
    }
}
/**
 * Reads the file front to back with one read always in flight ahead of the consumer, so the kernel copy
 * (on a libuv thread) overlaps hashing of the previous chunk.
 */
async function readAll(handle, fileSize, pool, options, consume) {
    const readChunk = async (position) => {
        const buffer = await pool.take();
        const length = Math.min(buffer.byteLength, fileSize - position);
        const view = new Uint8Array(buffer, 0, length);
        for (let filled = 0; filled < length;) {
            const { bytesRead } = await handle.read(view, filled, length - filled, position + filled);
            if (bytesRead === 0) {
                throw new errors_js_1.ConflictError(`file shrank while hashing (ended at byte ${position + filled} of ${fileSize})`);
            }
            filled += bytesRead;
        }
        return [buffer, length];
    };
    let position = 0;
    let next = fileSize > 0 ? readChunk(0) : undefined;
    while (next) {
        const [buffer, length] = await next;
        position += length;
        options.signal?.throwIfAborted();
        next = position < fileSize ? readChunk(position) : undefined;
        // Awaited by the next iteration; this only keeps a throw below from leaving it unhandled.
        next?.catch(() => { });
        consume(buffer, length);
        options.onProgress?.(position);
    }
}


/***/ }),

/***/ 893:
/***/ (function(__unused_webpack_module, exports, __webpack_require__) {


var __createBinding = (this && this.__createBinding) || (Object.create ? (function(o, m, k, k2) {
    if (k2 === undefined) k2 = k;
    var desc = Object.getOwnPropertyDescriptor(m, k);
    if (!desc || ("get" in desc ? !m.__esModule : desc.writable || desc.configurable)) {
      desc = { enumerable: true, get: function() { return m[k]; } };
    }
    Object.defineProperty(o, k2, desc);
}) : (function(o, m, k, k2) {
    if (k2 === undefined) k2 = k;
    o[k2] = m[k];
}));
var __exportStar = (this && this.__exportStar) || function(m, exports) {
    for (var p in m) if (p !== "default" && !Object.prototype.hasOwnProperty.call(exports, p)) __createBinding(exports, m, p);
};
Object.defineProperty(exports, "__esModule", ({ value: true }));
__exportStar(__webpack_require__(7638), exports);
__exportStar(__webpack_require__(9157), exports);
__exportStar(__webpack_require__(6968), exports);
__exportStar(__webpack_require__(9067), exports);
__exportStar(__webpack_require__(7889), exports);
__exportStar(__webpack_require__(9899), exports);
__exportStar(__webpack_require__(8109), exports);
__exportStar(__webpack_require__(2633), exports);
__exportStar(__webpack_require__(796), exports);
__exportStar(__webpack_require__(3784), exports);
__exportStar(__webpack_require__(1589), exports);
__exportStar(__webpack_require__(1367), exports);
__exportStar(__webpack_require__(9341), exports);
__exportStar(__webpack_require__(1198), exports);
__exportStar(__webpack_require__(6481), exports);
__exportStar(__webpack_require__(7689), exports);
__exportStar(__webpack_require__(3988), exports);


/***/ }),

/***/ 1589:
/***/ (function(__unused_webpack_module, exports, __webpack_require__) {


var __createBinding = (this && this.__createBinding) || (Object.create ? (function(o, m, k, k2) {
    if (k2 === undefined) k2 = k;
    var desc = Object.getOwnPropertyDescriptor(m, k);
    if (!desc || ("get" in desc ? !m.__esModule : desc.writable || desc.configurable)) {
      desc = { enumerable: true, get: function() { return m[k]; } };
    }
    Object.defineProperty(o, k2, desc);
}) : (function(o, m, k, k2) {
    if (k2 === undefined) k2 = k;
    o[k2] = m[k];
}));
var __setModuleDefault = (this && this.__setModuleDefault) || (Object.create ? (function(o, v) {
    Object.defineProperty(o, "default", { enumerable: true, value: v });
}) : function(o, v) {
    o["default"] = v;
});
var __importStar = (this && this.__importStar) || (function () {
    var ownKeys = function(o) {
        ownKeys = Object.getOwnPropertyNames || function (o) {
            var ar = [];
            for (var k in o) if (Object.prototype.hasOwnProperty.call(o, k)) ar[ar.length] = k;
            return ar;
        };
        return ownKeys(o);
    };
    return function (mod) {
        if (mod && mod.__esModule) return mod;
        var result = {};
        if (mod != null) for (var k = ownKeys(mod), i = 0; i < k.length; i++) if (k[i] !== "default") __createBinding(result, mod, k[i]);
        __setModuleDefault(result, mod);
        return result;
    };
})();
Object.defineProperty(exports, "__esModule", ({ value: true }));
exports.parsePrivateKey = parsePrivateKey;
exports.parsePublicKey = parsePublicKey;
exports.publicKeyValue = publicKeyValue;
exports.keyIdOf = keyIdOf;
exports.signHash = signHash;
exports.verifyHashSignature = verifyHashSignature;
const node_crypto_1 = __webpack_require__(7598);
const ed = __importStar(__webpack_require__(9605));
const sha2_js_1 = __webpack_require__(356);
const errors_js_1 = __webpack_require__(7638);
// @noble/ed25519 v3 ships without a synchronous SHA-512; the sync sign/verify need one.
ed.hashes.sha512 = sha2_js_1.sha512;
/** Fixed DER prefixes of Ed25519 keys (RFC 8410), as Peridio's signing-keys docs list them. */
const PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');
const SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');
/**
 * Reads an Ed25519 private key from a PKCS#8 PEM (what `openssl genpkey -algorithm ed25519` and the
 * Peridio CLI write), base64 of that PEM (how it fits a single-line secret), or the raw 32-byte seed in
 * hex or base64. Errors name the input and what was found, never the key material.
 */
function parsePrivateKey(input, inputName = 'signing-key-private') {
    const text = input.trim();
    if (!text)
        throw new errors_js_1.InputError(inputName, 'is empty; expected an Ed25519 private key (PKCS#8 PEM)');
    const seed = seedFrom(text, inputName);
    return keyPairFromSeed(seed, input);
}
function seedFrom(text, inputName) {
    if (text.includes('-----BEGIN'))
        return seedFromPem(text, inputName);
    if (/^[0-9a-fA-F]{64}$/.test(text))
        return Buffer.from(text, 'hex');
    const bytes = decodeBase64(text);
    if (!bytes) {
        throw new errors_js_1.InputError(inputName, 'is not a PEM, base64 or hex; expected an Ed25519 private key (PKCS#8 PEM)');
    }
    if (bytes.length === 32)
        return bytes;
    const decodedText = bytes.toString('latin1').trim();
    if (decodedText.startsWith('-----BEGIN'))
        return seedFromPem(decodedText, inputName);
    if (bytes[0] === 0x30)
        return seedFromKeyObject(derPrivateKey(bytes, inputName), inputName);
    throw new errors_js_1.InputError(inputName, `decodes to ${bytes.length} bytes, which is neither a 32-byte Ed25519 seed nor a DER key; expected a PKCS#8 PEM`);
}
function seedFromPem(pem, inputName) {
    const label = /-----BEGIN ([A-Z0-9 ]+)-----/.exec(pem)?.[1] ?? '';
    if (label === 'PUBLIC KEY' || label === 'CERTIFICATE') {
        throw new errors_js_1.InputError(inputName, `holds a ${label.toLowerCase()}, not a private key; pass the private key`);
    }
    if (label === 'ENCRYPTED PRIVATE KEY') {
        throw new errors_js_1.InputError(inputName, 'is an encrypted private key; decrypt it first (openssl pkey -in key.pem)');
    }
    if (label === 'OPENSSH PRIVATE KEY') {
        throw new errors_js_1.InputError(inputName, 'is in OpenSSH format; convert it to PKCS#8 (ssh-keygen -p -m PKCS8 -f key) or create one with openssl genpkey -algorithm ed25519');
    }
    let key;
    try {
        key = (0, node_crypto_1.createPrivateKey)({ key: pem, format: 'pem' });
    }
    catch (err) {
        throw new errors_js_1.InputError(inputName, `holds a '${label}' PEM block that cannot be parsed as a private key`, {
            cause: err,
        });
    }
    return seedFromKeyObject(key, inputName);
}
function derPrivateKey(der, inputName) {
    for (const type of ['pkcs8', 'pkcs1', 'sec1']) {
        try {
            return (0, node_crypto_1.createPrivateKey)({ key: der, format: 'der', type });
        }
        catch {
            // Try the next container format.
        }
    }
    throw new errors_js_1.InputError(inputName, 'holds DER data that is not a private key; expected an Ed25519 PKCS#8 key');
}
function seedFromKeyObject(key, inputName) {
    if (key.asymmetricKeyType !== 'ed25519') {
        throw new errors_js_1.InputError(inputName, `is ${describeKeyType(key)}; Peridio needs Ed25519 (openssl genpkey -algorithm ed25519)`);
    }
    const der = key.export({ format: 'der', type: 'pkcs8' });
    return new Uint8Array(der.subarray(PKCS8_PREFIX.length));
}
/** "an RSA key", "an EC (P-256) key": the refusal must say what the user gave us. */
function describeKeyType(key) {
    const type = key.asymmetricKeyType ?? 'unknown';
    if (type === 'rsa' || type === 'rsa-pss')
        return `an RSA key (${key.asymmetricKeyDetails?.modulusLength ?? '?'} bits)`;
    if (type === 'ec') {
        const curve = key.asymmetricKeyDetails?.namedCurve ?? 'unknown curve';
        const names = { prime256v1: 'P-256', secp384r1: 'P-384', secp521r1: 'P-521' };
        return `an EC (${names[curve] ?? curve}) key`;
    }
    return `an ${type.toUpperCase()} key`;
}
function keyPairFromSeed(seed, original) {
    const publicKey = ed.getPublicKey(seed);
    return {
        publicKey,
        publicValue: publicKeyValue(publicKey),
        keyid: keyIdOf(publicKey),
        sign: (message) => ed.sign(message, seed),
        secretForms: () => {
            const der = Buffer.concat([PKCS8_PREFIX, seed]).toString('base64');
            const pem = `-----BEGIN PRIVATE KEY-----\n${der}\n-----END PRIVATE KEY-----\n`;
            const hex = Buffer.from(seed).toString('hex');
            const forms = [original.trim(), hex, hex.toUpperCase(), Buffer.from(seed).toString('base64'), der, pem];
            forms.push(Buffer.from(pem).toString('base64'), Buffer.from(pem.trimEnd()).toString('base64'));
            return [...new Set(forms.filter((f) => f.length > 0))];
        },
    };
}
/** Standard or URL-safe base64 (whitespace ignored), or undefined if the text is not base64. */
function decodeBase64(text) {
    const compact = text.replace(/\s+/g, '');
    if (!/^[A-Za-z0-9+/_-]+={0,2}$/.test(compact) || compact.replace(/=+$/, '').length % 4 === 1)
        return undefined;
    return Buffer.from(compact.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
}
/** A signing key `value`: base64 of the raw 32-byte key (the wire form), or an SPKI PEM / DER. */
function parsePublicKey(value, inputName = 'value') {
    const text = value.trim();
    if (!text)
        throw new errors_js_1.InputError(inputName, 'is empty; expected an Ed25519 public key (base64 of 32 bytes)');
    let raw;
    if (text.includes('-----BEGIN')) {
        if (/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(text)) {
            throw new errors_js_1.InputError(inputName, 'holds a PRIVATE key; give the public key only, and rotate this one');
        }
        let key;
        try {
            key = (0, node_crypto_1.createPublicKey)({ key: text, format: 'pem' });
        }
        catch (err) {
            throw new errors_js_1.InputError(inputName, 'is a PEM that cannot be parsed as a public key', { cause: err });
        }
        if (key.asymmetricKeyType !== 'ed25519') {
            throw new errors_js_1.InputError(inputName, `is ${describeKeyType(key)}; Peridio needs Ed25519`);
        }
        raw = new Uint8Array(key.export({ format: 'der', type: 'spki' }).subarray(SPKI_PREFIX.length));
    }
    else {
        const bytes = decodeBase64(text);
        if (bytes?.length === 32)
            raw = new Uint8Array(bytes);
        else if (bytes?.length === 44 && bytes.subarray(0, SPKI_PREFIX.length).equals(SPKI_PREFIX)) {
            raw = new Uint8Array(bytes.subarray(SPKI_PREFIX.length));
        }
        else {
            throw new errors_js_1.InputError(inputName, `is not an Ed25519 public key: expected base64 of 32 bytes or an SPKI PEM${bytes ? `, got ${bytes.length} bytes` : ''}`);
        }
    }
    try {
        ed.Point.fromBytes(raw);
    }
    catch {
        throw new errors_js_1.InputError(inputName, 'is 32 bytes but not a valid Ed25519 public key (not a curve point)');
    }
    return raw;
}
function publicKeyValue(raw) {
    return Buffer.from(raw).toString('base64');
}
function keyIdOf(raw) {
    return (0, node_crypto_1.createHash)('sha256').update(raw).digest('hex');
}
const HASH_HEX = /^[0-9a-fA-F]{64}$/;
const SIGNATURE_HEX = /^[0-9a-fA-F]{128}$/;
/**
 * Signs as the Peridio CLI does (protocol.md §6.1): the message is the 64 ASCII characters of the lowercase
 * hex SHA-256, not the raw digest; the signature goes out as uppercase hex.
 */
function signHash(hashHex, key) {
    if (!HASH_HEX.test(hashHex))
        throw new errors_js_1.InputError('hash', 'must be a SHA-256 in hex (64 characters)');
    const signature = key.sign(new TextEncoder().encode(hashHex.toLowerCase()));
    return Buffer.from(signature).toString('hex').toUpperCase();
}
/**
 * Verifies a Peridio signature. `allowRawDigest` also accepts a signature over the 32 raw digest bytes,
 * the form Avocado tooling and newer device agents use (protocol.md §6.7).
 */
function verifyHashSignature(hashHex, signatureHex, publicKey, options = {}) {
    if (!HASH_HEX.test(hashHex) || !SIGNATURE_HEX.test(signatureHex))
        return false;
    const raw = typeof publicKey === 'string' ? parsePublicKey(publicKey) : publicKey;
    const signature = Buffer.from(signatureHex, 'hex');
    const messages = [new TextEncoder().encode(hashHex.toLowerCase())];
    if (options.allowRawDigest)
        messages.push(Buffer.from(hashHex, 'hex'));
    return messages.some((message) => {
        try {
            return ed.verify(signature, message, raw);
        }
        catch {
            return false;
        }
    });
}


/***/ }),

/***/ 9157:
/***/ ((__unused_webpack_module, exports) => {


Object.defineProperty(exports, "__esModule", ({ value: true }));
exports.silentLogger = void 0;
exports.memoryLogger = memoryLogger;
exports.silentLogger = {
    debug() { },
    info() { },
    warning() { },
    error() { },
    group: (_name, fn) => fn(),
};
/** A logger that keeps every line, for tests that assert on what was logged. */
function memoryLogger() {
    const lines = [];
    return {
        lines,
        debug: (message) => void lines.push({ level: 'debug', message }),
        info: (message) => void lines.push({ level: 'info', message }),
        warning: (message) => void lines.push({ level: 'warning', message }),
        error: (message) => void lines.push({ level: 'error', message }),
        async group(name, fn) {
            lines.push({ level: 'group', message: name });
            try {
                return await fn();
            }
            finally {
                lines.push({ level: 'endgroup', message: name });
            }
        },
    };
}


/***/ }),

/***/ 2037:
/***/ ((__unused_webpack_module, exports, __webpack_require__) => {


Object.defineProperty(exports, "__esModule", ({ value: true }));
exports.BufferPool = void 0;
exports.inlinePartSink = inlinePartSink;
exports.workerPartSink = workerPartSink;
/**
 * Internals of hashFile: the read-buffer pool and the two ways of hashing parts alongside the whole file
 * (in the calling thread, or in a worker thread so both SHA-256 streams run in parallel).
 */
const node_crypto_1 = __webpack_require__(7598);
const node_worker_threads_1 = __webpack_require__(5919);
/**
 * Read buffers shared between the reader and the hashers; `take` waits until one is given back, and
 * everything waiting rejects once `fail` was called (worker crash, abort).
 */
class BufferPool {
    free;
    failure;
    wake;
    constructor(count, size) {
        this.free = Array.from({ length: count }, () => new ArrayBuffer(size));
    }
    async take() {
        let buffer;
        await this.until(() => (buffer = this.free.pop()) !== undefined);
        return buffer;
    }
    give(buffer) {
        this.free.push(buffer);
        this.notify();
    }
    fail(err) {
        this.failure ??= { err };
        this.notify();
    }
    /** Waits until `ready()` holds, re-checking whenever the pool is notified. */
    async until(ready) {
        for (;;) {
            if (this.failure)
                throw this.failure.err;
            if (ready())
                return;
            await new Promise((resolve) => (this.wake = resolve));
        }
    }
    notify() {
        const wake = this.wake;
        this.wake = undefined;
        wake?.();
    }
}
exports.BufferPool = BufferPool;
/**
 * Splits the byte stream at part boundaries. Self-contained on purpose: its source text also runs inside
 * the worker, so it may use only its parameters.
 */
function createPartHasher(partSize, newHash) {
    const digests = [];
    let hash = newHash();
    let inPart = 0;
    return {
        update(bytes) {
            for (let pos = 0; pos < bytes.length;) {
                const take = Math.min(partSize - inPart, bytes.length - pos);
                hash.update(bytes.subarray(pos, pos + take));
                pos += take;
                inPart += take;
                if (inPart === partSize) {
                    digests.push(hash.digest('hex'));
                    hash = newHash();
                    inPart = 0;
                }
            }
        },
        finish() {
            if (inPart > 0 || digests.length === 0)
                digests.push(hash.digest('hex'));
            return digests;
        },
    };
}
/** Hashes parts in the calling thread: cheaper than starting a worker for small files. */
function inlinePartSink(partSize, pool) {
    const hasher = createPartHasher(partSize, () => (0, node_crypto_1.createHash)('sha256'));
    return {
        consume(buffer, length) {
            hasher.update(new Uint8Array(buffer, 0, length));
            pool.give(buffer);
        },
        finish: async () => hasher.finish(),
        close: async () => { },
    };
}
// `__name` is what esbuild's keepNames (vitest, tsx) may wrap functions in; the worker has no such helper.
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const { createHash } = require('node:crypto');
const __name = (f) => f;
const hasher = (${createPartHasher.toString()})(workerData.partSize, () => createHash('sha256'));
parentPort.on('message', (msg) => {
  if (msg.done) return parentPort.postMessage({ digests: hasher.finish() });
  hasher.update(new Uint8Array(msg.buffer, 0, msg.length));
  parentPort.postMessage({ buffer: msg.buffer }, [msg.buffer]);
});
`;
/**
 * Hashes parts in a worker thread, so the whole-file and per-part SHA-256 (two hashes of every byte) run
 * in parallel. Buffers are transferred, not copied, and come back to the pool when hashed. The source is
 * inline so an ncc bundle needs no extra file.
 */
function workerPartSink(partSize, pool) {
    const worker = new node_worker_threads_1.Worker(WORKER_SOURCE, { eval: true, workerData: { partSize } });
    let digests;
    worker.on('message', (msg) => {
        if (msg.buffer)
            pool.give(msg.buffer);
        if (msg.digests) {
            digests = msg.digests;
            pool.notify();
        }
    });
    worker.on('error', (err) => pool.fail(err));
    worker.on('exit', (code) => pool.fail(new Error(`part-hashing worker exited early (code ${code})`)));
    return {
        consume(buffer, length) {
            worker.postMessage({ buffer, length }, [buffer]);
        },
        async finish() {
            worker.postMessage({ done: true });
            await pool.until(() => digests !== undefined);
            return digests ?? [];
        },
        async close() {
            worker.removeAllListeners('exit');
            await worker.terminate();
        },
    };
}


/***/ }),

/***/ 9067:
/***/ ((__unused_webpack_module, exports, __webpack_require__) => {


Object.defineProperty(exports, "__esModule", ({ value: true }));
exports.DEFAULT_PART_SIZE = exports.MAX_PARTS = exports.MAX_PART_SIZE = exports.MIN_PART_SIZE = void 0;
exports.planParts = planParts;
const errors_js_1 = __webpack_require__(7638);
/** S3 multipart limits, which Peridio's binary parts inherit (spec `binary-part-size`). */
exports.MIN_PART_SIZE = 5_242_880;
exports.MAX_PART_SIZE = 5_368_709_120;
exports.MAX_PARTS = 10_000;
exports.DEFAULT_PART_SIZE = 16 * 1024 * 1024;
const MIB = 1024 * 1024;
/**
 * Splits a file into upload parts. A part size that would need more than MAX_PARTS parts is grown
 * rather than refused, because the user asked for a part size, not for a failure on big files.
 */
function planParts(fileSize, options = {}) {
    if (!Number.isSafeInteger(fileSize) || fileSize < 0) {
        throw new errors_js_1.InputError('file', `size must be a non-negative integer, got ${fileSize}`);
    }
    const requested = options.partSize ?? exports.DEFAULT_PART_SIZE;
    if (!Number.isSafeInteger(requested) || requested < exports.MIN_PART_SIZE || requested > exports.MAX_PART_SIZE) {
        throw new errors_js_1.InputError('part-size', `must be an integer between ${exports.MIN_PART_SIZE} (5 MiB) and ${exports.MAX_PART_SIZE} (5 GiB) bytes, got ${requested}`);
    }
    if (fileSize > exports.MAX_PARTS * exports.MAX_PART_SIZE) {
        throw new errors_js_1.InputError('file', `is ${fileSize} bytes; the registry accepts at most ${exports.MAX_PARTS} parts of ${exports.MAX_PART_SIZE} bytes`);
    }
    // MAX_PART_SIZE is a whole number of MiB, so rounding up to a MiB never exceeds it here.
    const minimumForCount = Math.ceil(fileSize / exports.MAX_PARTS / MIB) * MIB;
    const partSize = Math.max(requested, minimumForCount);
    // S3 multipart needs at least one part, so an empty file is one empty part.
    const count = Math.max(1, Math.ceil(fileSize / partSize));
    const parts = [];
    for (let i = 0; i < count; i++) {
        const offset = i * partSize;
        parts.push({ index: i + 1, offset, size: Math.min(partSize, fileSize - offset) });
    }
    return { fileSize, partSize, parts };
}


/***/ }),

/***/ 3975:
/***/ ((__unused_webpack_module, exports) => {


Object.defineProperty(exports, "__esModule", ({ value: true }));
exports.runPool = runPool;
/**
 * A fixed number of workers pulling from one queue, so at most `limit` items are in flight however
 * many there are (10,000 parts must not become 10,000 open requests). The first failure stops the
 * queue and aborts the items in flight; the pool still waits for them to settle, so nothing keeps
 * running behind the caller's back once it has the error.
 */
async function runPool(items, limit, worker, signal) {
    signal?.throwIfAborted();
    const stop = new AbortController();
    const combined = signal ? AbortSignal.any([signal, stop.signal]) : stop.signal;
    let next = 0;
    let failure;
    const runWorker = async () => {
        while (!failure && !combined.aborted && next < items.length) {
            const item = items[next++];
            try {
                await worker(item, combined);
            }
            catch (error) {
                // Later errors are mostly the abort this one causes; the first is the cause.
                if (!failure) {
                    failure = { error };
                    stop.abort(error);
                }
            }
        }
    };
    const workers = Array.from({ length: Math.min(limit, items.length) }, runWorker);
    await Promise.all(workers);
    if (failure)
        throw failure.error;
    signal?.throwIfAborted();
}


/***/ }),

/***/ 6182:
/***/ ((__unused_webpack_module, exports) => {


/**
 * When a presigned URL stops working, read from the URL itself. A retry after a dropped connection
 * should not send a whole part to a URL that is certain to be refused: some storage front ends answer an
 * expired URL by closing the connection rather than with a 403, and the bytes would go for nothing.
 */
Object.defineProperty(exports, "__esModule", ({ value: true }));
exports.presignedUrlExpiresAt = presignedUrlExpiresAt;
exports.presignedUrlExpiring = presignedUrlExpiring;
/** Epoch ms at which the URL expires, if it says so (S3 SigV4, S3 SigV2, or `expires=<unix>`). */
function presignedUrlExpiresAt(url) {
    let query;
    try {
        query = new URL(url).searchParams;
    }
    catch {
        return undefined;
    }
    const amzDate = query.get('X-Amz-Date');
    const amzExpires = query.get('X-Amz-Expires');
    if (amzDate && amzExpires && /^\d+$/.test(amzExpires)) {
        const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(amzDate);
        if (!m)
            return undefined;
        const signedAt = Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6]);
        return signedAt + Number(amzExpires) * 1000;
    }
    const unix = query.get('Expires') ?? query.get('expires');
    if (unix && /^\d{1,12}$/.test(unix))
        return Number(unix) * 1000;
    return undefined;
}
/** True when the URL says it expires within `marginMs` of `nowMs`; unknown expiry counts as fresh. */
function presignedUrlExpiring(url, nowMs = Date.now(), marginMs = 5_000) {
    const expiresAt = presignedUrlExpiresAt(url);
    return expiresAt !== undefined && expiresAt - nowMs <= marginMs;
}


/***/ }),

/***/ 2633:
/***/ ((__unused_webpack_module, exports, __webpack_require__) => {


Object.defineProperty(exports, "__esModule", ({ value: true }));
exports.parsePrn = parsePrn;
exports.isPrn = isPrn;
exports.formatPrn = formatPrn;
exports.requirePrn = requirePrn;
const errors_js_1 = __webpack_require__(7638);
const TYPES = [
    'artifact',
    'artifact_version',
    'binary',
    'binary_part',
    'binary_signature',
    'signing_key',
];
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** `prn:1:<org-uuid>` or `prn:1:<org-uuid>:<type>:<uuid>` (protocol.md §1.5), as the Peridio CLI validates. */
function parsePrn(value) {
    const segments = value.split(':');
    if (segments[0] !== 'prn' || segments[1] !== '1')
        return undefined;
    const [, , org, type, id] = segments;
    if (!org || !UUID.test(org))
        return undefined;
    if (segments.length === 3)
        return { org };
    if (segments.length !== 5 || !TYPES.includes(type) || !id || !UUID.test(id))
        return undefined;
    return { org, type: type, id };
}
function isPrn(value, type) {
    const prn = parsePrn(value);
    return prn !== undefined && (type === undefined || prn.type === type);
}
function formatPrn(org, type, id) {
    return type === undefined ? `prn:1:${org}` : `prn:1:${org}:${type}:${id ?? ''}`;
}
/** Returns the trimmed PRN, or explains what shape was expected. */
function requirePrn(value, type, inputName) {
    const trimmed = value.trim();
    if (!trimmed)
        throw new errors_js_1.InputError(inputName, `is required (a ${type} PRN, prn:1:<org-uuid>:${type}:<uuid>)`);
    const prn = parsePrn(trimmed);
    if (prn?.type === type)
        return trimmed;
    const what = prn ? `a PRN of type '${prn.type ?? 'organization'}'` : 'not a PRN';
    throw new errors_js_1.InputError(inputName, `'${trimmed}' is ${what}; expected prn:1:<org-uuid>:${type}:<uuid>`);
}


/***/ }),

/***/ 796:
/***/ ((__unused_webpack_module, exports) => {


Object.defineProperty(exports, "__esModule", ({ value: true }));
exports.redactUrl = redactUrl;
exports.redactSecrets = redactSecrets;
/** A path segment this long made only of token characters is treated as a capability, not a name. */
const PATH_TOKEN = /^(?=.*\d)(?=.*[A-Za-z])[A-Za-z0-9_\-+=%~]{32,}$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/**
 * A presigned URL is a bearer capability: whoever reads it from a log can use it until it expires. Keep
 * what helps debugging (scheme, host, path) and mask query values, credentials and token-like segments.
 */
function redactUrl(url) {
    let parsed;
    try {
        parsed = new URL(url);
    }
    catch {
        const at = url.search(/[?#]/);
        return at === -1 ? url : `${url.slice(0, at)}?***`;
    }
    const auth = parsed.username || parsed.password ? '***@' : '';
    const path = parsed.pathname
        .split('/')
        .map((segment) => (PATH_TOKEN.test(segment) && !UUID.test(segment) ? '***' : segment))
        .join('/');
    const query = [...parsed.searchParams.keys()].map((key) => `${encodeURIComponent(key)}=***`).join('&');
    return `${parsed.protocol}//${auth}${parsed.host}${path}${query ? `?${query}` : ''}`;
}
/**
 * Masks every occurrence of each secret. A multi-line secret (a PEM) is also masked line by line, as the
 * runner does, because a log line may carry only part of it.
 */
function redactSecrets(text, secrets) {
    const needles = new Set();
    for (const secret of secrets) {
        if (!secret.trim())
            continue;
        needles.add(secret);
        if (/[\r\n]/.test(secret)) {
            for (const line of secret.split(/\r?\n/))
                if (line.trim().length >= 8)
                    needles.add(line.trim());
        }
    }
    // Longest first, so a secret that contains another is masked whole.
    let out = text;
    for (const needle of [...needles].sort((a, b) => b.length - a.length))
        out = out.split(needle).join('***');
    return out;
}


/***/ }),

/***/ 9899:
/***/ ((__unused_webpack_module, exports, __webpack_require__) => {


Object.defineProperty(exports, "__esModule", ({ value: true }));
exports.DEFAULT_RETRY_POLICY = void 0;
exports.isRetryable = isRetryable;
exports.parseRetryAfter = parseRetryAfter;
exports.backoffDelay = backoffDelay;
exports.withRetry = withRetry;
exports.abortableSleep = abortableSleep;
const errors_js_1 = __webpack_require__(7638);
const logger_js_1 = __webpack_require__(9157);
exports.DEFAULT_RETRY_POLICY = {
    maxAttempts: 8,
    baseDelayMs: 500,
    maxDelayMs: 30_000,
    deadlineMs: 10 * 60_000,
};
const RETRYABLE_STATUSES = new Set([408, 425, 429, 500, 502, 503, 504]);
/** Transient failures only: retrying a request the server refused on its merits cannot succeed. */
function isRetryable(err) {
    // InputError and ConflictError are UserErrors: the same request would fail the same way.
    if (err instanceof errors_js_1.UserError)
        return false;
    if (err instanceof errors_js_1.ApiError)
        return RETRYABLE_STATUSES.has(err.status);
    return err instanceof errors_js_1.NetworkError || err instanceof errors_js_1.TimeoutError;
}
/** Retry-After in ms: delta-seconds or an HTTP date (RFC 9110 §10.2.3); undefined when absent/garbled. */
function parseRetryAfter(value, nowMs = Date.now()) {
    const text = value?.trim();
    if (!text)
        return undefined;
    if (/^\d+$/.test(text))
        return Number(text) * 1000;
    // Date.parse also accepts bare numbers and other loose forms; an HTTP date always names a weekday or month.
    if (!/[a-z]/i.test(text))
        return undefined;
    const at = Date.parse(text);
    if (Number.isNaN(at))
        return undefined;
    return Math.max(0, at - nowMs);
}
/** Full jitter (AWS architecture blog): uniform in [0, min(maxDelay, base·2^(attempt-1))]. */
function backoffDelay(attempt, policy, random = Math.random) {
    const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.max(0, attempt - 1));
    return Math.floor(random() * (ceiling + 1));
}
/** Runs `fn` until it succeeds, the error is not retryable, attempts run out, or the deadline would pass. */
async function withRetry(fn, options) {
    const policy = { ...exports.DEFAULT_RETRY_POLICY, ...options.policy };
    const shouldRetry = options.shouldRetry ?? isRetryable;
    const sleep = options.sleep ?? abortableSleep;
    const now = options.now ?? Date.now;
    const logger = options.logger ?? logger_js_1.silentLogger;
    const deadline = now() + policy.deadlineMs;
    for (let attempt = 1;; attempt++) {
        options.signal?.throwIfAborted();
        try {
            return await fn(attempt);
        }
        catch (err) {
            options.signal?.throwIfAborted();
            if (attempt >= policy.maxAttempts || !shouldRetry(err))
                throw err;
            let delay = backoffDelay(attempt, policy, options.random);
            const retryAfter = err instanceof errors_js_1.ApiError ? err.retryAfterMs : undefined;
            if (retryAfter !== undefined)
                delay = Math.max(delay, retryAfter);
            if (now() + delay > deadline) {
                logger.debug(`${options.label}: attempt ${attempt}/${policy.maxAttempts} failed: ${messageOf(err)}; retry budget spent`);
                throw err;
            }
            logger.debug(`${options.label}: attempt ${attempt}/${policy.maxAttempts} failed: ${messageOf(err)}; retrying in ${delay} ms`);
            await sleep(delay, options.signal);
        }
    }
}
function messageOf(err) {
    return err instanceof Error ? err.message : String(err);
}
/** setTimeout that rejects with the signal's reason as soon as it aborts. */
function abortableSleep(ms, signal) {
    return new Promise((resolve, reject) => {
        if (signal?.aborted)
            return reject(signal.reason);
        const onAbort = () => {
            clearTimeout(timer);
            reject(signal?.reason);
        };
        const timer = setTimeout(() => {
            signal?.removeEventListener('abort', onAbort);
            resolve();
        }, ms);
        signal?.addEventListener('abort', onAbort, { once: true });
    });
}


/***/ }),

/***/ 6968:
/***/ ((__unused_webpack_module, exports) => {


Object.defineProperty(exports, "__esModule", ({ value: true }));
exports.BINARY_STATES = void 0;
exports.BINARY_STATES = [
    'uploadable',
    'hashable',
    'hashing',
    'signable',
    'signed',
    'destroyed',
];


/***/ }),

/***/ 1544:
/***/ ((__unused_webpack_module, exports, __webpack_require__) => {


Object.defineProperty(exports, "__esModule", ({ value: true }));
exports.PresignedUrlRefusedError = exports.PartStalledError = void 0;
exports.sendPart = sendPart;
exports.assertFileUnchanged = assertFileUnchanged;
exports.putPart = putPart;
/**
 * One part: ask the API for a presigned URL, then PUT the part's bytes there, streamed from disk.
 * Every attempt opens a fresh read stream (a consumed stream cannot be replayed), checks first that the
 * file is still the one that was hashed, and is aborted when nothing moves for `stallTimeoutMs`.
 */
const node_fs_1 = __webpack_require__(3024);
const promises_1 = __webpack_require__(1455);
const node_stream_1 = __webpack_require__(7075);
const undici_1 = __webpack_require__(5134);
const errors_js_1 = __webpack_require__(7638);
const presigned_expiry_js_1 = __webpack_require__(6182);
const redact_js_1 = __webpack_require__(796);
const retry_js_1 = __webpack_require__(9899);
const upload_storage_errors_js_1 = __webpack_require__(5414);
/** Nothing was accepted or answered for too long; the attempt is dropped and retried. */
class PartStalledError extends errors_js_1.TimeoutError {
    name = 'PartStalledError';
}
exports.PartStalledError = PartStalledError;
/**
 * The storage refused the presigned URL itself (expired, bad signature, forbidden). The part is
 * retried with a fresh URL from the API rather than hammering the dead one.
 */
class PresignedUrlRefusedError extends errors_js_1.ApiError {
    name = 'PresignedUrlRefusedError';
}
exports.PresignedUrlRefusedError = PresignedUrlRefusedError;
/** Reads per part stream: larger than the 64 KiB default to cut per-chunk overhead, small enough × 16 parts. */
const READ_CHUNK = 256 * 1024;
/**
 * Fresh URLs refused again and again are not expiry (clock skew, missing permission, a part that takes
 * longer than the URL lives): more attempts would only re-send the bytes.
 */
const MAX_URL_REFUSALS = 3;
async function sendPart(ctx, part, signal) {
    // The client already retried its own API calls; retrying them again here would multiply the attempts.
    const apiFailures = new WeakSet();
    let url;
    let refusals = 0;
    let lastError;
    let attempts = 0;
    await (0, retry_js_1.withRetry)(async (attempt) => {
        attempts = attempt;
        // A retry after a dropped connection may hold a URL that has run out meanwhile.
        if (url !== undefined && (0, presigned_expiry_js_1.presignedUrlExpiring)(url))
            url = undefined;
        if (url === undefined) {
            try {
                const created = await ctx.createBinaryPart(ctx.binaryPrn, {
                    index: part.index,
                    expected_binary_size: ctx.binarySize,
                    hash: part.sha256Hex,
                    size: part.size,
                });
                url = created.presigned_upload_url;
            }
            catch (err) {
                if (typeof err === 'object' && err !== null)
                    apiFailures.add(err);
                throw err;
            }
        }
        try {
            await putPart(ctx, part, url, signal);
        }
        catch (err) {
            lastError = err;
            if (err instanceof PresignedUrlRefusedError) {
                url = undefined;
                refusals += 1;
            }
            throw err;
        }
    }, {
        label: `part ${part.index}`,
        policy: ctx.retry,
        signal,
        logger: ctx.logger,
        shouldRetry: (err) => !(typeof err === 'object' && err !== null && apiFailures.has(err)) &&
            (err instanceof PresignedUrlRefusedError
                ? refusals < MAX_URL_REFUSALS
                : err instanceof PartStalledError || (0, retry_js_1.isRetryable)(err)),
    });
    // Retries are logged at debug by withRetry; a part that needed them is worth one visible line.
    if (attempts > 1) {
        const reason = lastError instanceof Error ? lastError.message : String(lastError);
        ctx.logger.info(`part ${part.index}: sent after ${attempts} attempts (last failure: ${reason})`);
    }
}
/** The file still has the size and mtime it had when hashed; otherwise its parts' hashes are stale. */
async function assertFileUnchanged(ctx, part) {
    const { filePath, digest } = ctx;
    const info = await (0, promises_1.stat)(filePath).catch((err) => {
        throw new errors_js_1.ConflictError(`${filePath}: file changed since it was hashed (${err.code ?? err.message})`);
    });
    if (info.size !== digest.size || info.mtimeMs !== digest.mtimeMs) {
        throw new errors_js_1.ConflictError(`${filePath}: file changed since it was hashed (size ${digest.size} → ${info.size}, ` +
            `modified ${new Date(digest.mtimeMs).toISOString()} → ${new Date(info.mtimeMs).toISOString()}); ` +
            `${part ? `part ${part.index} was not sent. ` : ''}Hash the file again and re-run.`);
    }
}
/** One attempt of the PUT to the presigned URL. Resolves on 200/201; throws a classified error otherwise. */
async function putPart(ctx, part, url, signal) {
    signal?.throwIfAborted();
    await assertFileUnchanged(ctx, part);
    const where = `part ${part.index} (${(0, redact_js_1.redactUrl)(url)})`;
    const stall = new AbortController();
    const requestSignal = signal ? AbortSignal.any([signal, stall.signal]) : stall.signal;
    let timer;
    const arm = () => {
        clearTimeout(timer);
        timer = setTimeout(() => {
            stall.abort(new PartStalledError(`${where}: no progress for ${ctx.stallTimeoutMs} ms; dropping the attempt`));
        }, ctx.stallTimeoutMs);
    };
    let bytesThisAttempt = 0;
    const file = part.size > 0
        ? (0, node_fs_1.createReadStream)(ctx.filePath, {
            start: part.offset,
            end: part.offset + part.size - 1,
            highWaterMark: READ_CHUNK,
        })
        : undefined;
    const counted = new node_stream_1.Transform({
        transform(chunk, _encoding, callback) {
            bytesThisAttempt += chunk.length;
            ctx.progress.bytesRead(chunk.length);
            arm();
            callback(null, chunk);
        },
    });
    if (file) {
        file.on('error', (err) => counted.destroy(err));
        file.pipe(counted);
    }
    let completed = false;
    try {
        arm();
        let response;
        try {
            response = await (0, undici_1.request)(url, {
                method: 'PUT',
                headers: {
                    'content-length': String(part.size),
                    'content-type': 'application/octet-stream',
                    'x-amz-checksum-sha256': part.sha256Base64,
                },
                body: file ? counted : Buffer.alloc(0),
                signal: requestSignal,
                dispatcher: ctx.dispatcher,
            });
        }
        catch (err) {
            throw transportError(err, where, stall.signal, signal);
        }
        arm();
        const { statusCode } = response;
        if (statusCode === 200 || statusCode === 201) {
            await drain(response, arm).catch((err) => {
                throw transportError(err, where, stall.signal, signal);
            });
            completed = true;
            ctx.progress.partDone();
            return;
        }
        const detail = await (0, upload_storage_errors_js_1.readDetail)(response, arm).catch(() => '(no readable body)');
        throw await refusal(ctx, part, where, statusCode, detail, response.headers['retry-after']);
    }
    finally {
        clearTimeout(timer);
        file?.destroy();
        counted.destroy();
        if (!completed)
            ctx.progress.attemptFailed(bytesThisAttempt);
    }
}
async function refusal(ctx, part, where, status, detail, retryAfter) {
    const kind = (0, upload_storage_errors_js_1.classifyRefusal)(status, detail);
    if (kind === 'url-refused')
        return new PresignedUrlRefusedError(status, 'PUT', where, detail);
    if (kind === 'transient') {
        // A short body can also mean the file shrank under us; that is not worth retrying.
        await assertFileUnchanged(ctx, part);
        return new errors_js_1.NetworkError(`${where}: the storage did not receive the whole body (HTTP ${status}: ${detail})`);
    }
    if (kind === 'content-mismatch') {
        // Say which of the two it is when we can: a stat change proves the file changed.
        await assertFileUnchanged(ctx, part);
        return new errors_js_1.ConflictError(`${where}: the storage says the bytes do not match the hash/size computed earlier (HTTP 400: ${detail}). ` +
            `${ctx.filePath} changed since it was hashed, or the bytes were corrupted on the way; ` +
            `hash the file again and re-run.`);
    }
    const header = Array.isArray(retryAfter) ? retryAfter[0] : retryAfter;
    return new errors_js_1.ApiError(status, 'PUT', where, detail, {}, (0, retry_js_1.parseRetryAfter)(header));
}
function transportError(err, where, stall, outer) {
    if (stall.aborted && !outer?.aborted)
        return stall.reason;
    if (outer?.aborted)
        return outer.reason ?? err;
    if (err instanceof errors_js_1.NetworkError || err instanceof errors_js_1.ApiError)
        return err;
    const e = err;
    const message = e?.message ? (0, upload_storage_errors_js_1.scrubUrls)(e.message) : String(err);
    return new errors_js_1.NetworkError(`${where}: PUT failed: ${message}`, e?.code, { cause: err });
}
async function drain(response, onData) {
    for await (const chunk of response.body) {
        void chunk;
        onData();
    }
}


/***/ }),

/***/ 7590:
/***/ ((__unused_webpack_module, exports) => {


Object.defineProperty(exports, "__esModule", ({ value: true }));
exports.ProgressTracker = void 0;
const RATE_WINDOW_MS = 5_000;
class ProgressTracker {
    onProgress;
    logger;
    now;
    bytesSent = 0;
    bytesToSend = 0;
    partsDone = 0;
    partsToSend = 0;
    moved = 0;
    samples = [];
    startedAt;
    callbackFailed = false;
    constructor(onProgress, logger, now = Date.now) {
        this.onProgress = onProgress;
        this.logger = logger;
        this.now = now;
        this.startedAt = now();
        this.samples.push({ at: this.startedAt, moved: 0 });
    }
    /** More work joined the run (the first batch, or parts re-sent after verification). */
    plan(bytes, parts) {
        this.bytesToSend += bytes;
        this.partsToSend += parts;
        this.emit();
    }
    bytesRead(bytes) {
        this.bytesSent += bytes;
        this.moved += bytes;
        this.emit();
    }
    /** A failed attempt: its bytes will be sent again. */
    attemptFailed(bytesOfAttempt) {
        this.bytesSent -= bytesOfAttempt;
        this.emit();
    }
    partDone() {
        this.partsDone += 1;
        this.emit();
    }
    snapshot() {
        return {
            bytesSent: this.bytesSent,
            bytesToSend: this.bytesToSend,
            partsDone: this.partsDone,
            partsToSend: this.partsToSend,
            bytesPerSecond: this.rate(),
        };
    }
    rate() {
        const at = this.now();
        // One sample per 100 ms keeps the window small however many chunks move.
        if (at - this.samples[this.samples.length - 1].at >= 100)
            this.samples.push({ at, moved: this.moved });
        while (this.samples.length > 2 && at - this.samples[1].at >= RATE_WINDOW_MS)
            this.samples.shift();
        const oldest = this.samples[0];
        const elapsedMs = at - oldest.at;
        // Too short a window gives absurd rates from the first chunk.
        if (elapsedMs < 200)
            return 0;
        return Math.round(((this.moved - oldest.moved) * 1000) / elapsedMs);
    }
    emit() {
        if (!this.onProgress)
            return;
        try {
            this.onProgress(this.snapshot());
        }
        catch (err) {
            // A broken progress display must not fail an upload, but it must not vanish either.
            if (!this.callbackFailed)
                this.logger.warning(`progress callback failed: ${err?.message ?? err}`);
            this.callbackFailed = true;
        }
    }
}
exports.ProgressTracker = ProgressTracker;


/***/ }),

/***/ 9950:
/***/ ((__unused_webpack_module, exports) => {


Object.defineProperty(exports, "__esModule", ({ value: true }));
exports.matchesServerPart = matchesServerPart;
exports.compareParts = compareParts;
exports.serverPartSize = serverPartSize;
exports.describeMissing = describeMissing;
exports.formatIndexes = formatIndexes;
function matchesServerPart(part, listed) {
    return (listed !== undefined &&
        listed.state === 'valid' &&
        listed.index === part.index &&
        listed.size === part.size &&
        typeof listed.hash === 'string' &&
        listed.hash.toLowerCase() === part.sha256Hex.toLowerCase());
}
function compareParts(planned, listed) {
    const byIndex = new Map();
    for (const part of listed) {
        const same = byIndex.get(part.index);
        if (same)
            same.push(part);
        else
            byIndex.set(part.index, [part]);
    }
    const present = [];
    const missing = [];
    for (const part of planned) {
        // Two records for one index should not happen; trust it only if every record matches.
        const records = byIndex.get(part.index) ?? [];
        if (records.length > 0 && records.every((record) => matchesServerPart(part, record)))
            present.push(part);
        else
            missing.push(part);
    }
    const plannedIndexes = new Set(planned.map((part) => part.index));
    const extra = [...byIndex.keys()].filter((index) => !plannedIndexes.has(index)).sort((a, b) => a - b);
    return { present, missing, extra };
}
/**
 * The part size an earlier upload used, when the server's parts show one (all but the last the same
 * size): the caller can plan with it and reuse those parts instead of starting over.
 */
function serverPartSize(listed) {
    const sorted = [...listed].sort((a, b) => a.index - b.index);
    if (sorted.length < 2)
        return undefined;
    const size = sorted[0].size;
    const uniform = sorted.slice(0, -1).every((part, i) => part.index === i + 1 && part.size === size);
    return uniform && size > 0 && sorted.at(-1).size <= size ? size : undefined;
}
/** Why the server's record of a part does not count, for error messages: `2 (missing), 3 (invalid_hash)`. */
function describeMissing(missing, listed, max = 20) {
    const reasons = missing.slice(0, max).map((part) => {
        const record = listed.find((candidate) => candidate.index === part.index);
        if (!record)
            return `${part.index} (missing)`;
        if (record.state !== 'valid')
            return `${part.index} (${record.state})`;
        if (record.size !== part.size)
            return `${part.index} (size ${record.size}, expected ${part.size})`;
        return `${part.index} (another hash)`;
    });
    return reasons.join(', ') + (missing.length > max ? ` and ${missing.length - max} more` : '');
}
/** `[1, 2, 3, 5, 8, 9]` → `1-3, 5, 8-9`; long lists are cut so a message stays readable. */
function formatIndexes(indexes, max = 20) {
    const sorted = [...new Set(indexes)].sort((a, b) => a - b);
    const ranges = [];
    for (let i = 0; i < sorted.length;) {
        let j = i;
        while (j + 1 < sorted.length && sorted[j + 1] === sorted[j] + 1)
            j++;
        ranges.push(i === j ? `${sorted[i]}` : `${sorted[i]}-${sorted[j]}`);
        i = j + 1;
    }
    if (ranges.length <= max)
        return ranges.join(', ');
    return `${ranges.slice(0, max).join(', ')} and ${ranges.length - max} more ranges`;
}


/***/ }),

/***/ 5414:
/***/ ((__unused_webpack_module, exports, __webpack_require__) => {


Object.defineProperty(exports, "__esModule", ({ value: true }));
exports.classifyRefusal = classifyRefusal;
exports.readDetail = readDetail;
exports.summarizeErrorBody = summarizeErrorBody;
exports.scrubUrls = scrubUrls;
const redact_js_1 = __webpack_require__(796);
/** S3 answers 400 to a body that stopped arriving; the AWS SDKs retry these. */
const TRANSIENT_400 = /RequestTimeout|IncompleteBody/;
const URL_REFUSED = /expired|signature/i;
const CONTENT_MISMATCH = /hash|checksum|digest|size|length|match/i;
const MAX_DETAIL_CHARS = 2_000;
/**
 * 403 is always the URL (S3 answers 403 for expiry, bad signatures and missing permissions alike);
 * a 400/401 only when it says so. A 400 about the bytes means they are not what was hashed.
 */
function classifyRefusal(status, detail) {
    if (status === 400 && TRANSIENT_400.test(detail))
        return 'transient';
    if (status === 403 || ((status === 400 || status === 401) && URL_REFUSED.test(detail)))
        return 'url-refused';
    if (status === 400 && CONTENT_MISMATCH.test(detail))
        return 'content-mismatch';
    return 'other';
}
/** The error body as one short line, without any URL's query. `onData` keeps a stall timer alive. */
async function readDetail(response, onData) {
    let text = '';
    for await (const chunk of response.body) {
        onData();
        // Keep reading (and discarding) past the cap, so the connection can be reused.
        if (text.length < MAX_DETAIL_CHARS)
            text += chunk.toString('utf8');
    }
    return summarizeErrorBody(text);
}
function summarizeErrorBody(body) {
    const text = body.trim();
    let summary = text;
    const code = /<Code>([^<]*)<\/Code>/.exec(text)?.[1];
    const message = /<Message>([^<]*)<\/Message>/.exec(text)?.[1];
    if (code || message) {
        summary = [code, message].filter(Boolean).join(': ');
    }
    else if (text.startsWith('{')) {
        try {
            const json = JSON.parse(text);
            const found = json.errors?.detail ?? json.message ?? json.error;
            if (typeof found === 'string')
                summary = found;
        }
        catch {
            // Not JSON after all: keep the text.
        }
    }
    summary = scrubUrls(summary.replace(/\s+/g, ' ')).slice(0, MAX_DETAIL_CHARS);
    return summary || '(empty body)';
}
/** Storage error bodies and transport messages can quote the request URL, signature included. */
function scrubUrls(text) {
    return text.replace(/https?:\/\/[^\s"'<>]+/g, (url) => (0, redact_js_1.redactUrl)(url));
}


/***/ }),

/***/ 3784:
/***/ ((__unused_webpack_module, exports, __webpack_require__) => {


Object.defineProperty(exports, "__esModule", ({ value: true }));
exports.IncompleteUploadError = exports.ExtraPartsError = exports.DEFAULT_STALL_TIMEOUT_MS = exports.MAX_UPLOAD_CONCURRENCY = exports.DEFAULT_UPLOAD_CONCURRENCY = exports.PresignedUrlRefusedError = exports.PartStalledError = void 0;
exports.uploadParts = uploadParts;
const errors_js_1 = __webpack_require__(7638);
const logger_js_1 = __webpack_require__(9157);
const pool_js_1 = __webpack_require__(3975);
const upload_part_js_1 = __webpack_require__(1544);
const upload_progress_js_1 = __webpack_require__(7590);
const upload_resume_js_1 = __webpack_require__(9950);
var upload_part_js_2 = __webpack_require__(1544);
Object.defineProperty(exports, "PartStalledError", ({ enumerable: true, get: function () { return upload_part_js_2.PartStalledError; } }));
Object.defineProperty(exports, "PresignedUrlRefusedError", ({ enumerable: true, get: function () { return upload_part_js_2.PresignedUrlRefusedError; } }));
exports.DEFAULT_UPLOAD_CONCURRENCY = 4;
exports.MAX_UPLOAD_CONCURRENCY = 16;
exports.DEFAULT_STALL_TIMEOUT_MS = 60_000;
/** After the first pass, parts the server does not list as valid are sent at most this many more times. */
const VERIFY_RESEND_ROUNDS = 1;
/**
 * The server lists parts beyond the ones this file needs, left over from a run with a smaller part
 * size. There is no API to delete one part, and they would end up in the content the server hashes, so
 * the caller must reset the binary (which deletes its parts) and upload again. Nothing was sent.
 */
class ExtraPartsError extends errors_js_1.ConflictError {
    indexes;
    serverPartSize;
    name = 'ExtraPartsError';
    constructor(indexes, plannedParts, 
    /** The part size the earlier upload used, when its parts show one: planning with it resumes that upload. */
    serverPartSize) {
        super(`the server holds parts ${(0, upload_resume_js_1.formatIndexes)(indexes)} beyond the ${plannedParts} this file needs ` +
            `(left over from an upload with a smaller part size` +
            (serverPartSize ? `: ${serverPartSize} bytes` : '') +
            `); upload with that part size, or delete the binary and upload it again`);
        this.indexes = indexes;
        this.serverPartSize = serverPartSize;
    }
}
exports.ExtraPartsError = ExtraPartsError;
/** After the upload and one more try, the server still does not list every part as valid. */
class IncompleteUploadError extends errors_js_1.PeridioError {
    indexes;
    name = 'IncompleteUploadError';
    constructor(indexes, detail) {
        super(`upload incomplete: the server does not hold valid parts ${(0, upload_resume_js_1.formatIndexes)(indexes)} (${detail})`);
        this.indexes = indexes;
    }
}
exports.IncompleteUploadError = IncompleteUploadError;
async function uploadParts(options) {
    const { api, binaryPrn, digest, signal } = options;
    const logger = options.logger ?? logger_js_1.silentLogger;
    const concurrency = options.concurrency ?? exports.DEFAULT_UPLOAD_CONCURRENCY;
    if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > exports.MAX_UPLOAD_CONCURRENCY) {
        throw new errors_js_1.InputError('concurrency', `must be a whole number from 1 to ${exports.MAX_UPLOAD_CONCURRENCY}, got ${concurrency}`);
    }
    const stallTimeoutMs = options.stallTimeoutMs ?? exports.DEFAULT_STALL_TIMEOUT_MS;
    if (!(stallTimeoutMs > 0))
        throw new errors_js_1.InputError('stall-timeout', `must be a positive number of ms, got ${stallTimeoutMs}`);
    if (options.binarySize !== digest.size) {
        throw new errors_js_1.ConflictError(`the binary record says ${options.binarySize} bytes but ${options.filePath} has ${digest.size}; ` +
            `the record must be reset to the file's hash and size before uploading`);
    }
    const startedAt = Date.now();
    const progress = new upload_progress_js_1.ProgressTracker(options.onProgress, logger);
    const ctx = {
        createBinaryPart: (prn, body) => api.createBinaryPart(prn, body),
        binaryPrn,
        binarySize: options.binarySize,
        filePath: options.filePath,
        digest,
        stallTimeoutMs,
        retry: options.retry,
        logger,
        progress,
        dispatcher: options.dispatcher,
    };
    // Fail before asking for anything if the file is no longer the one that was hashed.
    await (0, upload_part_js_1.assertFileUnchanged)(ctx);
    const listedAtStart = await api.listBinaryParts(binaryPrn);
    const initial = (0, upload_resume_js_1.compareParts)(digest.parts, listedAtStart);
    if (initial.extra.length > 0) {
        throw new ExtraPartsError(initial.extra, digest.parts.length, (0, upload_resume_js_1.serverPartSize)(listedAtStart));
    }
    const bytesSkipped = sum(initial.present);
    logger.info(`Uploading ${initial.missing.length} of ${digest.parts.length} parts (${sum(initial.missing)} bytes)` +
        (initial.present.length > 0
            ? `; ${initial.present.length} already on the server (${(0, upload_resume_js_1.formatIndexes)(initial.present.map((p) => p.index))})`
            : ''));
    let partsUploaded = 0;
    let bytesUploaded = 0;
    const send = async (parts) => {
        progress.plan(sum(parts), parts.length);
        await (0, pool_js_1.runPool)(parts, concurrency, async (part, poolSignal) => {
            await (0, upload_part_js_1.sendPart)(ctx, part, poolSignal);
            partsUploaded += 1;
            bytesUploaded += part.size;
            logger.debug(`part ${part.index}: sent ${part.size} bytes`);
        }, signal);
    };
    await send(initial.missing);
    for (let round = 0;; round++) {
        const listed = await api.listBinaryParts(binaryPrn);
        const check = (0, upload_resume_js_1.compareParts)(digest.parts, listed);
        if (check.missing.length === 0 && check.extra.length === 0)
            break;
        if (check.extra.length > 0) {
            // They were not there at the start: something else is uploading to this binary at the same time.
            throw new IncompleteUploadError(check.extra, 'parts beyond this file appeared during the upload');
        }
        const indexes = check.missing.map((p) => p.index);
        if (round >= VERIFY_RESEND_ROUNDS) {
            throw new IncompleteUploadError(indexes, `after sending them again: ${(0, upload_resume_js_1.describeMissing)(check.missing, listed)}`);
        }
        logger.warning(`The server does not hold valid parts ${(0, upload_resume_js_1.describeMissing)(check.missing, listed)}; sending them again`);
        await send(check.missing);
    }
    const durationMs = Date.now() - startedAt;
    return {
        partsUploaded,
        partsSkipped: initial.present.length,
        bytesUploaded,
        bytesSkipped,
        durationMs,
        bytesPerSecond: durationMs > 0 ? Math.round((bytesUploaded * 1000) / durationMs) : 0,
    };
}
function sum(parts) {
    return parts.reduce((total, part) => total + part.size, 0);
}


/***/ }),

/***/ 8109:
/***/ ((__unused_webpack_module, exports, __webpack_require__) => {


Object.defineProperty(exports, "__esModule", ({ value: true }));
exports.versionFromRef = versionFromRef;
exports.validateVersion = validateVersion;
const errors_js_1 = __webpack_require__(7638);
/** semver.org's recommended regex: pre-release and build metadata are kept, leading zeros refused. */
const SEMVER = /^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$/;
/**
 * The artifact version from a git ref: `refs/tags/v1.2.3` (or the bare tag `v1.2.3` / `1.2.3`) → `1.2.3`.
 * Anything else is refused rather than guessed, since a published version cannot be renamed.
 */
function versionFromRef(ref) {
    const value = ref?.trim() ?? '';
    if (!value) {
        throw new errors_js_1.InputError('version', 'no git ref to derive it from; pass `version` explicitly');
    }
    let tag = value;
    if (value.startsWith('refs/')) {
        if (!value.startsWith('refs/tags/')) {
            throw new errors_js_1.InputError('version', `the workflow ran for ${value}, which is not a tag; pass \`version\` explicitly or run on a tag like v1.2.3`);
        }
        tag = value.slice('refs/tags/'.length);
    }
    const candidate = tag.replace(/^v/, '');
    if (!SEMVER.test(candidate)) {
        throw new errors_js_1.InputError('version', `tag '${tag}' is not a semantic version (v1.2.3 or 1.2.3); pass \`version\` explicitly`);
    }
    return candidate;
}
/** Any registry version string: 1..128 characters, no control characters or surrounding spaces. */
function validateVersion(v) {
    if (v.length === 0)
        throw new errors_js_1.InputError('version', 'must not be empty');
    if (v.length > 128)
        throw new errors_js_1.InputError('version', `must be at most 128 characters, got ${v.length}`);
    if (/[\u0000-\u001f\u007f]/.test(v))
        throw new errors_js_1.InputError('version', 'must not contain control characters');
    if (v.trim() !== v)
        throw new errors_js_1.InputError('version', 'must not start or end with whitespace');
    return v;
}


/***/ }),

/***/ 1467:
/***/ ((__unused_webpack_module, exports, __webpack_require__) => {


Object.defineProperty(exports, "__esModule", ({ value: true }));
exports.stderrLogger = stderrLogger;
exports.runCli = runCli;
const node_fs_1 = __webpack_require__(3024);
const node_path_1 = __webpack_require__(6760);
const node_util_1 = __webpack_require__(7975);
const secrets_js_1 = __webpack_require__(2196);
const server_js_1 = __webpack_require__(8002);
const USAGE = `Usage: peridio-registry serve [--host 127.0.0.1] [--port 4000] [--data-dir .peridio-registry]
                              [--public-url URL] [--presign-ttl SECONDS]

A self-hosted registry speaking the binary-management subset of Peridio's Admin API.
Env: PERIDIO_REGISTRY_API_KEY (else a key is generated and stored in <data-dir>/api-key),
     PERIDIO_REGISTRY_HASHING_DELAY_MS (delay before the server-side hash check, for tests).`;
/** Log lines on stderr; stdout carries only the lines scripts parse (listening URL, generated key). */
function stderrLogger(debug = false) {
    const line = (level, message) => process.stderr.write(`${new Date().toISOString()} ${level} ${message}\n`);
    return {
        debug: (m) => debug && line('debug', m),
        info: (m) => line('info', m),
        warning: (m) => line('warn', m),
        error: (m) => line('error', m),
        group: (_name, fn) => fn(),
    };
}
function fail(message) {
    process.stderr.write(`peridio-registry: ${message}\n${USAGE}\n`);
    process.exit(2);
}
function integer(value, name, min, max) {
    const n = Number(value);
    if (!Number.isInteger(n) || n < min || n > max)
        fail(`--${name} must be an integer from ${min} to ${max}`);
    return n;
}
async function runCli(argv) {
    let parsed;
    try {
        parsed = (0, node_util_1.parseArgs)({
            args: argv,
            allowPositionals: true,
            options: {
                host: { type: 'string', default: '127.0.0.1' },
                port: { type: 'string', default: '4000' },
                'data-dir': { type: 'string', default: '.peridio-registry' },
                'public-url': { type: 'string' },
                'presign-ttl': { type: 'string', default: '3600' },
                help: { type: 'boolean', short: 'h' },
            },
        });
    }
    catch (err) {
        fail(err.message);
    }
    const { values, positionals } = parsed;
    if (values.help) {
        process.stdout.write(`${USAGE}\n`);
        return;
    }
    if (positionals[0] !== 'serve' || positionals.length > 1)
        fail('expected the command `serve`');
    const port = integer(values.port, 'port', 0, 65535);
    const presignTtlSeconds = integer(values['presign-ttl'], 'presign-ttl', 1, 7 * 24 * 3600);
    const publicUrl = values['public-url'];
    if (publicUrl !== undefined && !/^https?:\/\/[^/]+/.test(publicUrl))
        fail('--public-url must be an http(s) URL');
    const dataDir = (0, node_path_1.resolve)(values['data-dir']);
    const hashingDelayMs = Number(process.env.PERIDIO_REGISTRY_HASHING_DELAY_MS ?? 0) || 0;
    (0, node_fs_1.mkdirSync)(dataDir, { recursive: true });
    const envKey = process.env.PERIDIO_REGISTRY_API_KEY?.trim();
    const stored = envKey ? undefined : (0, secrets_js_1.loadApiKey)(dataDir);
    const apiKey = envKey || stored.apiKey;
    const logger = stderrLogger(process.env.PERIDIO_REGISTRY_DEBUG === '1');
    const registry = (0, server_js_1.createRegistry)({ dataDir, apiKey, publicUrl, presignTtlSeconds, hashingDelayMs, logger });
    let address;
    try {
        address = await registry.listen(port, values.host);
    }
    catch (err) {
        await registry.close();
        fail(`cannot listen on ${values.host}:${port}: ${err.message}`);
    }
    if (stored?.generated)
        process.stdout.write(`peridio-registry api key: ${apiKey} (stored in ${stored.path})\n`);
    process.stdout.write(`peridio-registry listening on ${address.url}\n`);
    logger.info(`data dir ${dataDir}; organization prn:1:${registry.context.org}`);
    let stopping = false;
    const shutdown = (signal) => {
        if (stopping) {
            logger.warning(`${signal} again: exiting without waiting for in-flight requests`);
            process.exit(1);
        }
        stopping = true;
        logger.info(`${signal}: finishing in-flight requests, then closing the database`);
        registry.close().then(() => process.exit(0), (err) => {
            logger.error(`shutdown failed: ${err.message}`);
            process.exit(1);
        });
    };
    process.on('SIGTERM', () => shutdown('SIGTERM'));
    process.on('SIGINT', () => shutdown('SIGINT'));
}


/***/ }),

/***/ 3920:
/***/ ((__unused_webpack_module, exports, __webpack_require__) => {


Object.defineProperty(exports, "__esModule", ({ value: true }));
exports.Database = void 0;
const node_sqlite_1 = __webpack_require__(99);
const migrations_js_1 = __webpack_require__(3708);
/** A thin wrapper over node:sqlite: cached statements, typed rows, and nested-safe transactions. */
class Database {
    db;
    statements = new Map();
    depth = 0;
    constructor(path) {
        this.db = new node_sqlite_1.DatabaseSync(path);
        // WAL lets readers run beside the writer; FULL sync makes every commit durable before we answer.
        this.db.exec('PRAGMA journal_mode = WAL');
        this.db.exec('PRAGMA synchronous = FULL');
        this.db.exec('PRAGMA foreign_keys = ON');
        this.db.exec('PRAGMA busy_timeout = 5000');
        this.migrate();
    }
    migrate() {
        const current = Number(this.db.prepare('PRAGMA user_version').get().user_version);
        if (current > migrations_js_1.MIGRATIONS.length) {
            throw new Error(`database schema version ${current} is newer than this peridio-registry supports (${migrations_js_1.MIGRATIONS.length})`);
        }
        for (let version = current; version < migrations_js_1.MIGRATIONS.length; version++) {
            this.transaction(() => {
                this.db.exec(migrations_js_1.MIGRATIONS[version]);
                this.db.exec(`PRAGMA user_version = ${version + 1}`);
            });
        }
    }
    statement(sql) {
        let stmt = this.statements.get(sql);
        if (!stmt) {
            stmt = this.db.prepare(sql);
            this.statements.set(sql, stmt);
        }
        return stmt;
    }
    get(sql, ...params) {
        return this.statement(sql).get(...params);
    }
    all(sql, ...params) {
        return this.statement(sql).all(...params);
    }
    run(sql, ...params) {
        const result = this.statement(sql).run(...params);
        return { changes: Number(result.changes) };
    }
    /** Runs fn atomically. Nested calls join the outer transaction. */
    transaction(fn) {
        if (this.depth > 0)
            return fn();
        this.db.exec('BEGIN IMMEDIATE');
        this.depth++;
        try {
            const result = fn();
            this.db.exec('COMMIT');
            return result;
        }
        catch (err) {
            this.db.exec('ROLLBACK');
            throw err;
        }
        finally {
            this.depth--;
        }
    }
    close() {
        if (!this.db.isOpen)
            return;
        this.statements.clear();
        // Fold the WAL back into the main file so the data dir is one self-contained database after shutdown.
        this.db.exec('PRAGMA wal_checkpoint(TRUNCATE)');
        this.db.close();
    }
}
exports.Database = Database;


/***/ }),

/***/ 865:
/***/ ((__unused_webpack_module, exports, __webpack_require__) => {


Object.defineProperty(exports, "__esModule", ({ value: true }));
exports.parseRange = parseRange;
exports.downloadRoutes = downloadRoutes;
const node_stream_1 = __webpack_require__(7075);
const promises_1 = __webpack_require__(6466);
const http_js_1 = __webpack_require__(7969);
const lifecycle_js_1 = __webpack_require__(3837);
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
/** One `bytes=` range → inclusive [start, end], `undefined` to serve it all, or 416. */
function parseRange(header, size) {
    if (!header)
        return undefined;
    const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
    if (!m)
        return undefined; // multiple ranges or another unit: answering with the whole body is allowed
    const [, a, b] = m;
    if (a === '' && b === '')
        return undefined;
    let start;
    let end;
    if (a === '') {
        start = Math.max(0, size - Number(b));
        end = size - 1;
    }
    else {
        start = Number(a);
        end = b === '' ? size - 1 : Math.min(Number(b), size - 1);
    }
    if (start > end || start >= size) {
        throw new http_js_1.HttpError(416, { errors: { detail: 'Range Not Satisfiable' } }, { 'content-range': `bytes */${size}` });
    }
    return [start, end];
}
/** The presigned download URL: a plain GET (or HEAD) with `Range` support, no API key. */
function downloadRoutes(ctx) {
    return [
        {
            method: 'GET',
            pattern: '/_presigned/download/:binary',
            auth: false,
            async handler({ req, res, params, query }) {
                const binaryId = params.binary;
                if (!UUID.test(binaryId))
                    throw (0, http_js_1.detailError)(404, 'Not Found');
                const binary = (0, lifecycle_js_1.findBinary)(ctx, binaryId);
                if (!binary?.blob_hash || (binary.state !== 'signable' && binary.state !== 'signed')) {
                    throw (0, http_js_1.detailError)(404, `Not Found: the binary has no content to download${binary ? ` (it is ${binary.state})` : ''}`);
                }
                const check = ctx.presigner.checkDownload(binaryId, binary.blob_hash, query);
                if (check === 'expired')
                    throw (0, http_js_1.detailError)(403, 'Presigned URL expired; ask for a new download_url');
                if (check !== 'ok')
                    throw (0, http_js_1.detailError)(403, 'Presigned URL signature does not match');
                const blob = binary.blob_hash;
                const size = binary.size;
                const range = parseRange(req.headers.range, size);
                const [start, end] = range ?? [0, size - 1];
                const headers = {
                    'content-type': 'application/octet-stream',
                    'content-length': String(size === 0 ? 0 : end - start + 1),
                    'accept-ranges': 'bytes',
                    etag: `"${blob}"`,
                };
                if (range)
                    headers['content-range'] = `bytes ${start}-${end}/${size}`;
                res.writeHead(range ? 206 : 200, headers);
                if (req.method === 'HEAD' || size === 0) {
                    res.end();
                    return undefined;
                }
                await (0, promises_1.pipeline)(node_stream_1.Readable.from(ctx.storage.readBlob(blob, start, end)), res);
                return undefined;
            },
        },
    ];
}


/***/ }),

/***/ 8884:
/***/ ((__unused_webpack_module, exports, __webpack_require__) => {


Object.defineProperty(exports, "__esModule", ({ value: true }));
exports.MAX_METADATA_BYTES = void 0;
exports.given = given;
exports.optionalString = optionalString;
exports.requiredString = requiredString;
exports.optionalMetadata = optionalMetadata;
exports.optionalInteger = optionalInteger;
exports.requiredInteger = requiredInteger;
exports.sha256Field = sha256Field;
exports.optionalId = optionalId;
exports.idFromPathPrn = idFromPathPrn;
exports.idFromBodyPrn = idFromBodyPrn;
exports.requiredBodyPrn = requiredBodyPrn;
const core_1 = __webpack_require__(893);
const http_js_1 = __webpack_require__(7969);
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const CONTROL = /[\u0000-\u001f\u007f]/;
function given(body, key) {
    return body[key] !== undefined && body[key] !== null;
}
function optionalString(body, key, max, opts = {}) {
    if (!given(body, key))
        return undefined;
    const value = body[key];
    if (typeof value !== 'string')
        throw (0, http_js_1.fieldError)(key, 'is invalid: must be a string');
    if (value.length < 1)
        throw (0, http_js_1.fieldError)(key, "can't be blank");
    if (value.length > max)
        throw (0, http_js_1.fieldError)(key, `should be at most ${max} character(s)`);
    if (!opts.allowControl && CONTROL.test(value))
        throw (0, http_js_1.fieldError)(key, 'must not contain control characters');
    return value;
}
function requiredString(body, key, max, opts = {}) {
    const value = optionalString(body, key, max, opts);
    if (value === undefined)
        throw (0, http_js_1.fieldError)(key, "can't be blank");
    return value;
}
exports.MAX_METADATA_BYTES = 1_000_000;
/** custom_metadata as stored JSON text, or undefined when not given. */
function optionalMetadata(body, key = 'custom_metadata') {
    if (!given(body, key))
        return undefined;
    const value = body[key];
    if (typeof value !== 'object' || Array.isArray(value))
        throw (0, http_js_1.fieldError)(key, 'is invalid: must be a JSON object');
    const text = JSON.stringify(value);
    if (Buffer.byteLength(text) > exports.MAX_METADATA_BYTES)
        throw (0, http_js_1.fieldError)(key, 'greater than 1MB');
    return text;
}
function optionalInteger(body, key, min, max) {
    if (!given(body, key))
        return undefined;
    const value = body[key];
    if (typeof value !== 'number' || !Number.isSafeInteger(value))
        throw (0, http_js_1.fieldError)(key, 'is invalid: must be an integer');
    if (value < min)
        throw (0, http_js_1.fieldError)(key, `must be greater than or equal to ${min}`);
    if (value > max)
        throw (0, http_js_1.fieldError)(key, `must be less than or equal to ${max}`);
    return value;
}
function requiredInteger(body, key, min, max) {
    const value = optionalInteger(body, key, min, max);
    if (value === undefined)
        throw (0, http_js_1.fieldError)(key, "can't be blank");
    return value;
}
function sha256Field(body, key, required) {
    if (!given(body, key)) {
        if (required)
            throw (0, http_js_1.fieldError)(key, "can't be blank");
        return undefined;
    }
    const value = body[key];
    const hex = typeof value === 'string' ? value.replace(/^sha256:/i, '').toLowerCase() : '';
    if (!/^[0-9a-f]{64}$/.test(hex))
        throw (0, http_js_1.fieldError)(key, 'is invalid: must be the lowercase hex SHA-256 (64 characters)');
    return hex;
}
/** The optional client-chosen record id (`id`), a UUID. */
function optionalId(body) {
    if (!given(body, 'id'))
        return undefined;
    const value = body.id;
    if (typeof value !== 'string' || !UUID.test(value))
        throw (0, http_js_1.fieldError)('id', 'is invalid: must be a UUID');
    return value.toLowerCase();
}
/**
 * The record id named by a PRN in a path. Anything that is not a PRN of this type in this organization is
 * simply not found, so no path segment ever reaches the filesystem unchecked.
 */
function idFromPathPrn(ctx, value, type) {
    const prn = (0, core_1.parsePrn)(value);
    if (!prn || prn.type !== type || !prn.id || prn.org.toLowerCase() !== ctx.org)
        throw (0, http_js_1.notFound)();
    return prn.id.toLowerCase();
}
/** The record id named by a PRN in a body field: malformed → 422; another organization → 404. */
function idFromBodyPrn(ctx, body, key, type) {
    if (!given(body, key))
        return undefined;
    const value = body[key];
    const prn = typeof value === 'string' ? (0, core_1.parsePrn)(value) : undefined;
    if (!prn || prn.type !== type || !prn.id)
        throw (0, http_js_1.fieldError)(key, `is invalid: must be a ${type} PRN`);
    if (prn.org.toLowerCase() !== ctx.org)
        throw (0, http_js_1.notFound)(`${key} ${String(value)}`);
    return prn.id.toLowerCase();
}
function requiredBodyPrn(ctx, body, key, type) {
    const id = idFromBodyPrn(ctx, body, key, type);
    if (id === undefined)
        throw (0, http_js_1.fieldError)(key, "can't be blank");
    return id;
}


/***/ }),

/***/ 5518:
/***/ ((__unused_webpack_module, exports, __webpack_require__) => {


Object.defineProperty(exports, "__esModule", ({ value: true }));
exports.Hasher = void 0;
const node_crypto_1 = __webpack_require__(7598);
const node_fs_1 = __webpack_require__(3024);
const promises_1 = __webpack_require__(8500);
const lifecycle_js_1 = __webpack_require__(3837);
const prefix_digest_js_1 = __webpack_require__(5450);
const time_js_1 = __webpack_require__(7360);
/**
 * The server's own check, `hashing → signable`: the SHA-256 of the parts in order (most of it computed while
 * they arrived, see prefix-digest.ts; otherwise in one pass now), and when it
 * and size match the record, publishes them as the content blob. On a mismatch (or missing content) the
 * binary goes back to `uploadable` with its parts deleted and the reason in `hash_error` and the log: a
 * client polling for `signable` sees `uploadable` and uploads again.
 *
 * One binary at a time, in the background. Binaries left in `hashing` by a stop or crash are re-queued on start.
 */
class Hasher {
    ctx;
    delayMs;
    queue = [];
    running;
    abort = new AbortController();
    /** Running hashes of the parts uploaded so far, so the check at `hashing` only reads the tail. */
    prefixes;
    constructor(ctx, delayMs = 0) {
        this.ctx = ctx;
        this.delayMs = delayMs;
        this.prefixes = new prefix_digest_js_1.PrefixDigests(ctx, this.abort.signal);
    }
    requeueInterrupted() {
        const rows = this.ctx.db.all("SELECT id FROM binaries WHERE state = 'hashing' ORDER BY updated_at");
        for (const row of rows)
            this.enqueue(row.id);
    }
    enqueue(binaryId) {
        if (this.abort.signal.aborted)
            return;
        if (!this.queue.includes(binaryId))
            this.queue.push(binaryId);
        this.running ??= this.drain().finally(() => (this.running = undefined));
    }
    /** Stops after the current read; a binary still in `hashing` is picked up again on the next start. */
    async close() {
        this.abort.abort();
        this.queue.length = 0;
        await this.running;
    }
    /** Resolves when the queue is empty (for tests). */
    async idle() {
        while (this.running)
            await this.running;
    }
    async drain() {
        while (this.queue.length > 0 && !this.abort.signal.aborted) {
            const id = this.queue.shift();
            try {
                await this.hash(id);
            }
            catch (err) {
                if (this.abort.signal.aborted)
                    return;
                this.ctx.logger.error(`hashing ${id} failed unexpectedly: ${err.message}`);
            }
        }
    }
    async hash(binaryId) {
        const { ctx } = this;
        if (this.delayMs > 0)
            await (0, promises_1.setTimeout)(this.delayMs, undefined, { signal: this.abort.signal });
        const binary = (0, lifecycle_js_1.findBinary)(ctx, binaryId);
        if (!binary || binary.state !== 'hashing')
            return;
        const generation = binary.upload_generation;
        const parts = (0, lifecycle_js_1.partsOf)(ctx, binaryId);
        let failure = (0, lifecycle_js_1.incompleteReason)(binary, parts);
        let digest = '';
        if (!failure) {
            const hash = (0, node_crypto_1.createHash)('sha256');
            let total = 0;
            try {
                const kept = await this.prefixes.digestOf(binaryId, parts.map((p) => p.file ?? ''));
                for (const part of kept ? [] : parts) {
                    const stream = (0, node_fs_1.createReadStream)(ctx.storage.partPath(binaryId, part.file ?? ''), {
                        signal: this.abort.signal,
                        highWaterMark: 1024 * 1024,
                    });
                    for await (const chunk of stream) {
                        hash.update(chunk);
                        total += chunk.length;
                    }
                }
                if (kept)
                    ctx.logger.debug(`binary ${binaryId}: content hashed while its parts arrived`);
                digest = kept?.digest ?? hash.digest('hex');
                total = kept?.bytes ?? total;
                if (total !== binary.size)
                    failure = `the content is ${total} bytes, the binary's size is ${binary.size}`;
                else if (digest !== binary.hash)
                    failure = `the content's SHA-256 is ${digest}, the binary's hash is ${binary.hash}`;
            }
            catch (err) {
                if (this.abort.signal.aborted)
                    throw err;
                failure = `the uploaded content could not be read (${err.code ?? 'error'})`;
            }
        }
        // Synchronous from here: the binary may have been reset while we read; then this result is stale.
        const current = (0, lifecycle_js_1.findBinary)(ctx, binaryId);
        if (!current || current.state !== 'hashing' || current.upload_generation !== generation)
            return;
        if (failure) {
            ctx.logger.warning(`binary ${binaryId}: server-side hash check failed, back to uploadable: ${failure}`);
            ctx.db.transaction(() => (0, lifecycle_js_1.resetToUploadable)(ctx, current, `server-side hash check failed: ${failure}`));
            return;
        }
        ctx.storage.publishBlobSync(digest, binaryId, parts.map((p) => p.file));
        ctx.db.run("UPDATE binaries SET state = 'signable', blob_hash = ?, hash_error = NULL, updated_at = ? WHERE id = ?", digest, (0, time_js_1.nowTimestamp)(), binaryId);
        // The blob holds its own links to the bytes; the part files are no longer needed.
        ctx.storage.removePartsSync(binaryId);
        ctx.logger.info(`binary ${binaryId}: content verified (${binary.size} bytes), signable`);
    }
}
exports.Hasher = Hasher;


/***/ }),

/***/ 7969:
/***/ ((__unused_webpack_module, exports) => {


Object.defineProperty(exports, "__esModule", ({ value: true }));
exports.MAX_JSON_BODY_BYTES = exports.HttpError = void 0;
exports.detailError = detailError;
exports.fieldError = fieldError;
exports.notFound = notFound;
exports.sendJson = sendJson;
exports.readJsonBody = readJsonBody;
/** An error answer; the router turns it into JSON in one of the shapes of protocol.md §2.4. */
class HttpError extends Error {
    status;
    body;
    headers;
    constructor(status, body, headers = {}) {
        super(`HTTP ${status}`);
        this.status = status;
        this.body = body;
        this.headers = headers;
    }
}
exports.HttpError = HttpError;
function detailError(status, detail) {
    return new HttpError(status, { errors: { detail } });
}
/** 422 in the Phoenix/Ecto validation shape: `{"errors": {"field": ["message"]}}`. */
function fieldError(field, message) {
    return new HttpError(422, { errors: { [field]: [message] } });
}
function notFound(what) {
    return detailError(404, what ? `Not Found: ${what}` : 'Not Found');
}
function sendJson(res, status, body, headers = {}) {
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
exports.MAX_JSON_BODY_BYTES = 2 * 1024 * 1024;
/** Reads a JSON object body (≤ 2 MiB: custom_metadata may hold 1 MB). Empty body → `{}`. */
async function readJsonBody(req) {
    const declared = Number(req.headers['content-length'] ?? 0);
    if (declared > exports.MAX_JSON_BODY_BYTES) {
        req.resume();
        throw new HttpError(413, { errors: { detail: `Request body larger than ${exports.MAX_JSON_BODY_BYTES} bytes` } }, {
            connection: 'close',
        });
    }
    const chunks = [];
    let total = 0;
    for await (const chunk of req) {
        total += chunk.length;
        if (total > exports.MAX_JSON_BODY_BYTES) {
            throw new HttpError(413, { errors: { detail: `Request body larger than ${exports.MAX_JSON_BODY_BYTES} bytes` } }, {
                connection: 'close',
            });
        }
        chunks.push(chunk);
    }
    const text = Buffer.concat(chunks).toString('utf8').trim();
    if (text === '')
        return {};
    let parsed;
    try {
        parsed = JSON.parse(text);
    }
    catch {
        throw detailError(400, 'Request body is not valid JSON');
    }
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
        throw detailError(400, 'Request body must be a JSON object');
    }
    return parsed;
}


/***/ }),

/***/ 3837:
/***/ ((__unused_webpack_module, exports, __webpack_require__) => {


Object.defineProperty(exports, "__esModule", ({ value: true }));
exports.MAX_PARTS = exports.MAX_PART_SIZE = exports.MIN_PART_SIZE = exports.BINARY_STATES = void 0;
exports.findBinary = findBinary;
exports.partsOf = partsOf;
exports.incompleteReason = incompleteReason;
exports.releaseBlob = releaseBlob;
exports.resetToUploadable = resetToUploadable;
exports.destroy = destroy;
exports.signatureCount = signatureCount;
exports.transition = transition;
const http_js_1 = __webpack_require__(7969);
const time_js_1 = __webpack_require__(7360);
/**
 * The binary state machine of protocol.md §7:
 *
 *   uploadable → hashable → hashing → signable → signed → destroyed
 *                    ↘          ↘          ↘  (reset to uploadable, parts deleted)
 *   signable → destroyed
 *
 * `hashing → signable` is the server's own (hasher.ts); `signable → signed` also happens when a valid
 * signature is attached. A same-state PATCH is a no-op; every other change is a 422 naming both states.
 * Each function here runs inside the caller's transaction and touches the filesystem only synchronously,
 * so no other request can interleave between the record change and the content change.
 */
exports.BINARY_STATES = [
    'uploadable',
    'hashable',
    'hashing',
    'signable',
    'signed',
    'destroyed',
];
exports.MIN_PART_SIZE = 5_242_880;
exports.MAX_PART_SIZE = 5_368_709_120;
exports.MAX_PARTS = 10_000;
function findBinary(ctx, id) {
    return ctx.db.get('SELECT * FROM binaries WHERE id = ? AND org = ?', id, ctx.org);
}
function partsOf(ctx, binaryId) {
    return ctx.db.all('SELECT * FROM binary_parts WHERE binary_id = ? ORDER BY idx', binaryId);
}
/** Why the parts do not make up the binary's content, or undefined when they do. */
function incompleteReason(binary, parts) {
    if (parts.length === 0)
        return 'no binary parts have been uploaded';
    let total = 0;
    for (let i = 0; i < parts.length; i++) {
        const part = parts[i];
        if (part.idx !== i + 1)
            return `part ${i + 1} is missing`;
        if (part.state !== 'valid')
            return `part ${part.idx} is ${part.state}`;
        if (i < parts.length - 1 && part.size < exports.MIN_PART_SIZE) {
            return `part ${part.idx} is ${part.size} bytes; every part but the last needs at least ${exports.MIN_PART_SIZE}`;
        }
        total += part.size;
    }
    if (total !== binary.size)
        return `the parts add up to ${total} bytes, the binary's size is ${binary.size}`;
    return undefined;
}
/** Deletes a blob once no signable or signed binary refers to it (blobs are shared between binaries). */
function releaseBlob(ctx, blobHash) {
    if (!blobHash)
        return;
    if (ctx.db.get('SELECT 1 FROM binaries WHERE blob_hash = ?', blobHash))
        return;
    ctx.storage.removeBlobSync(blobHash);
}
function dropParts(ctx, binary) {
    ctx.db.run('DELETE FROM binary_parts WHERE binary_id = ?', binary.id);
    ctx.storage.removePartsSync(binary.id);
}
/** Back to `uploadable`: parts and any published content go; a new upload may start. */
function resetToUploadable(ctx, binary, hashError = null) {
    dropParts(ctx, binary);
    ctx.db.run(`UPDATE binaries SET state = 'uploadable', blob_hash = NULL, hash_error = ?,
     upload_generation = upload_generation + 1, updated_at = ? WHERE id = ?`, hashError, (0, time_js_1.nowTimestamp)(), binary.id);
    releaseBlob(ctx, binary.blob_hash);
}
/** Content deleted for good; the record stays as `destroyed` and frees its target. */
function destroy(ctx, binary) {
    dropParts(ctx, binary);
    ctx.db.run("UPDATE binaries SET state = 'destroyed', blob_hash = NULL, updated_at = ? WHERE id = ?", (0, time_js_1.nowTimestamp)(), binary.id);
    releaseBlob(ctx, binary.blob_hash);
}
function signatureCount(ctx, binaryId) {
    return Number(ctx.db.get('SELECT count(*) AS n FROM binary_signatures WHERE binary_id = ?', binaryId).n);
}
function refuse(from, to, why) {
    throw (0, http_js_1.fieldError)('state', `invalid transition from ${from} to ${to}${why ? `: ${why}` : ''}`);
}
/** Applies a client-requested state change. Returns true when the binary entered `hashing`. */
function transition(ctx, binary, to) {
    const from = binary.state;
    if (from === to)
        return false;
    const set = (state, extra = '') => ctx.db.run(`UPDATE binaries SET state = ?, updated_at = ?${extra} WHERE id = ?`, state, (0, time_js_1.nowTimestamp)(), binary.id);
    switch (`${from}->${to}`) {
        case 'uploadable->hashable': {
            const reason = incompleteReason(binary, partsOf(ctx, binary.id));
            if (reason)
                refuse(from, to, reason);
            set('hashable', ', hash_error = NULL');
            return false;
        }
        case 'hashable->hashing':
            set('hashing');
            return true;
        case 'hashable->uploadable':
        case 'hashing->uploadable':
        case 'signable->uploadable':
            resetToUploadable(ctx, binary);
            return false;
        case 'signable->signed':
            if (signatureCount(ctx, binary.id) === 0) {
                refuse(from, to, 'the binary has no signature yet; create a binary signature first');
            }
            set('signed');
            return false;
        case 'signable->destroyed':
        case 'signed->destroyed':
            destroy(ctx, binary);
            return false;
        default:
            return refuse(from, to);
    }
}


/***/ }),

/***/ 9369:
/***/ ((__unused_webpack_module, exports, __webpack_require__) => {


Object.defineProperty(exports, "__esModule", ({ value: true }));
exports.MAX_LIMIT = exports.DEFAULT_LIMIT = void 0;
exports.listRows = listRows;
const http_js_1 = __webpack_require__(7969);
const search_js_1 = __webpack_require__(7389);
/**
 * `limit` (1..100, default 10), `order` by insertion (`asc` default), `search`, and an opaque `page` cursor
 * that carries the position, the order and the search, so following `next_page` alone continues the listing.
 */
exports.DEFAULT_LIMIT = 10;
exports.MAX_LIMIT = 100;
function encodeCursor(cursor) {
    return Buffer.from(JSON.stringify(cursor)).toString('base64url');
}
function decodeCursor(page) {
    try {
        const cursor = JSON.parse(Buffer.from(page, 'base64url').toString('utf8'));
        if (Number.isSafeInteger(cursor.s) && (cursor.o === 'asc' || cursor.o === 'desc')) {
            return { s: cursor.s, o: cursor.o, q: typeof cursor.q === 'string' ? cursor.q : null };
        }
    }
    catch {
        /* fall through */
    }
    throw (0, http_js_1.fieldError)('page', 'is invalid: pass the next_page value of a previous response');
}
function parseLimit(value) {
    if (value === null || value === '')
        return exports.DEFAULT_LIMIT;
    const limit = Number(value);
    if (!Number.isInteger(limit) || limit < 1 || limit > exports.MAX_LIMIT) {
        throw (0, http_js_1.fieldError)('limit', `must be an integer from 1 to ${exports.MAX_LIMIT}`);
    }
    return limit;
}
function listRows(ctx, query, table, fields, scope = { sql: '1', params: [] }) {
    const limit = parseLimit(query.get('limit'));
    const page = query.get('page');
    let cursor;
    if (page) {
        cursor = decodeCursor(page);
    }
    else {
        const order = query.get('order') ?? 'asc';
        if (order !== 'asc' && order !== 'desc')
            throw (0, http_js_1.fieldError)('order', 'must be asc or desc');
        cursor = { s: order === 'asc' ? 0 : Number.MAX_SAFE_INTEGER, o: order, q: query.get('search') };
    }
    const search = (0, search_js_1.compileSearch)(cursor.q, fields);
    const rows = ctx.db.all(`SELECT t.* FROM ${table} t WHERE t.org = ? AND (${scope.sql}) AND (${search.sql}) AND t.seq ${cursor.o === 'asc' ? '>' : '<'} ?
     ORDER BY t.seq ${cursor.o === 'asc' ? 'ASC' : 'DESC'} LIMIT ?`, ctx.org, ...scope.params, ...search.params, cursor.s, limit + 1);
    const more = rows.length > limit;
    const pageRows = more ? rows.slice(0, limit) : rows;
    const last = pageRows[pageRows.length - 1];
    return {
        rows: pageRows,
        next_page: more && last ? encodeCursor({ s: last.seq, o: cursor.o, q: cursor.q }) : null,
    };
}


/***/ }),

/***/ 3708:
/***/ ((__unused_webpack_module, exports) => {


Object.defineProperty(exports, "__esModule", ({ value: true }));
exports.MIGRATIONS = void 0;
/**
 * Versioned schema. Each entry runs once, in order, inside a transaction; `PRAGMA user_version` records
 * how many have run. Never edit a shipped entry: append a new one.
 *
 * `seq` is the insertion order (what `order` and the `page` cursor use); `id` is the UUID in the PRN.
 */
exports.MIGRATIONS = [
    `
  CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);

  CREATE TABLE artifacts (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    org TEXT NOT NULL,
    name TEXT NOT NULL,
    description TEXT,
    custom_metadata TEXT,
    inserted_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    UNIQUE (org, name)
  );

  CREATE TABLE artifact_versions (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    org TEXT NOT NULL,
    artifact_id TEXT NOT NULL REFERENCES artifacts (id),
    version TEXT NOT NULL,
    description TEXT,
    custom_metadata TEXT,
    inserted_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    UNIQUE (artifact_id, version)
  );

  CREATE TABLE binaries (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    org TEXT NOT NULL,
    artifact_version_id TEXT NOT NULL REFERENCES artifact_versions (id) ON DELETE CASCADE,
    target TEXT NOT NULL,
    hash TEXT NOT NULL,
    size INTEGER NOT NULL,
    state TEXT NOT NULL,
    description TEXT,
    custom_metadata TEXT,
    revision INTEGER NOT NULL DEFAULT 0,
    upload_generation INTEGER NOT NULL DEFAULT 0,
    blob_hash TEXT,
    hash_error TEXT,
    inserted_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
  );
  CREATE UNIQUE INDEX binaries_one_live_per_target ON binaries (artifact_version_id, target)
    WHERE state <> 'destroyed';
  CREATE INDEX binaries_state ON binaries (state);
  CREATE INDEX binaries_blob ON binaries (blob_hash);

  CREATE TABLE binary_parts (
    binary_id TEXT NOT NULL REFERENCES binaries (id) ON DELETE CASCADE,
    idx INTEGER NOT NULL,
    id TEXT NOT NULL UNIQUE,
    org TEXT NOT NULL,
    hash TEXT NOT NULL,
    size INTEGER NOT NULL,
    state TEXT NOT NULL,
    file TEXT,
    inserted_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (binary_id, idx)
  );

  CREATE TABLE signing_keys (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    org TEXT NOT NULL,
    name TEXT NOT NULL,
    value TEXT NOT NULL,
    keyid TEXT NOT NULL,
    inserted_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    UNIQUE (org, keyid)
  );

  CREATE TABLE binary_signatures (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    org TEXT NOT NULL,
    binary_id TEXT NOT NULL REFERENCES binaries (id) ON DELETE CASCADE,
    signing_key_id TEXT NOT NULL REFERENCES signing_keys (id),
    signature TEXT NOT NULL,
    inserted_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    UNIQUE (binary_id, signing_key_id)
  );
  `,
];


/***/ }),

/***/ 5450:
/***/ ((__unused_webpack_module, exports, __webpack_require__) => {


Object.defineProperty(exports, "__esModule", ({ value: true }));
exports.PrefixDigests = void 0;
const node_crypto_1 = __webpack_require__(7598);
const node_fs_1 = __webpack_require__(3024);
const lifecycle_js_1 = __webpack_require__(3837);
/** Binaries in upload at once whose running hash is kept; the oldest is dropped beyond that. */
const MAX_TRACKED = 64;
/**
 * The whole-content SHA-256 computed while the parts arrive: as soon as parts 1..k are valid, their files
 * are read in order into a running hash, in the background. When the client asks for `hashing`, the
 * server's own check then only has to finish the tail instead of reading the whole content again, which on
 * a multi-GB binary is most of the wait. Part files are named by index and SHA-256 and never change once
 * in place, so a prefix stays right as long as the same files make it up; any other file restarts it.
 * A file written to since it was read (a failing disk, a tampering process) changes its ctime, and then
 * the check reads everything again, as it would without this shortcut.
 */
class PrefixDigests {
    ctx;
    signal;
    prefixes = new Map();
    constructor(ctx, signal) {
        this.ctx = ctx;
        this.signal = signal;
    }
    /** A part of this binary just became valid: hash on as far as the valid parts are contiguous. */
    partValid(binaryId) {
        const prefix = this.prefixFor(binaryId);
        prefix.busy = prefix.busy
            .then(() => this.advance(binaryId, prefix))
            .catch((err) => {
            // A failed read only costs the shortcut: the check reads everything itself.
            this.prefixes.delete(binaryId);
            if (!this.signal.aborted)
                this.ctx.logger.debug(`prefix hash of ${binaryId} dropped: ${String(err)}`);
        });
    }
    /**
     * The SHA-256 and byte count of exactly these part files, hashing whatever the background work has not
     * reached yet. Undefined when nothing useful is kept; the caller then reads every part itself.
     */
    async digestOf(binaryId, files) {
        const prefix = this.prefixes.get(binaryId);
        if (!prefix)
            return undefined;
        await prefix.busy;
        this.prefixes.delete(binaryId);
        if (prefix.files.length === 0 || !samePrefix(prefix.files, files))
            return undefined;
        const unchanged = prefix.files.every((file, i) => stampOf(this.ctx.storage.partPath(binaryId, file)) === prefix.stamps[i]);
        if (!unchanged) {
            this.ctx.logger.warning(`binary ${binaryId}: a part changed on disk after it arrived; reading it all again`);
            return undefined;
        }
        for (const file of files.slice(prefix.files.length))
            await this.hashFileInto(binaryId, file, prefix);
        return { digest: prefix.hash.digest('hex'), bytes: prefix.bytes };
    }
    prefixFor(binaryId) {
        let prefix = this.prefixes.get(binaryId);
        if (!prefix) {
            if (this.prefixes.size >= MAX_TRACKED) {
                const oldest = [...this.prefixes.entries()].sort((a, b) => a[1].touched - b[1].touched)[0];
                this.prefixes.delete(oldest[0]);
            }
            prefix = {
                files: [],
                keys: [],
                stamps: [],
                bytes: 0,
                hash: (0, node_crypto_1.createHash)('sha256'),
                busy: Promise.resolve(),
                touched: 0,
            };
            this.prefixes.set(binaryId, prefix);
        }
        prefix.touched = Date.now();
        return prefix;
    }
    async advance(binaryId, prefix) {
        if (this.prefixes.get(binaryId) !== prefix)
            return;
        const parts = (0, lifecycle_js_1.partsOf)(this.ctx, binaryId);
        // A re-upload of a part under the same name gets a new row time: that, too, restarts the prefix.
        const keys = parts.map((p) => (p.state === 'valid' ? `${p.file}@${p.updated_at}` : null));
        if (!samePrefix(prefix.keys, keys)) {
            // A hashed part was replaced (re-upload, reset to other content): start over.
            prefix.files = [];
            prefix.keys = [];
            prefix.stamps = [];
            prefix.bytes = 0;
            prefix.hash = (0, node_crypto_1.createHash)('sha256');
        }
        for (let i = prefix.files.length; i < parts.length; i++) {
            const part = parts[i];
            if (part.idx !== i + 1 || part.state !== 'valid' || !part.file)
                return;
            await this.hashFileInto(binaryId, part.file, prefix);
            prefix.keys.push(keys[i]);
        }
    }
    async hashFileInto(binaryId, file, prefix) {
        const path = this.ctx.storage.partPath(binaryId, file);
        const stamp = stampOf(path);
        const stream = (0, node_fs_1.createReadStream)(path, {
            signal: this.signal,
            highWaterMark: 1024 * 1024,
        });
        for await (const chunk of stream) {
            prefix.hash.update(chunk);
            prefix.bytes += chunk.length;
        }
        prefix.files.push(file);
        prefix.stamps.push(stamp);
    }
}
exports.PrefixDigests = PrefixDigests;
function samePrefix(prefix, files) {
    if (prefix.length > files.length)
        return false;
    return prefix.every((file, i) => files[i] === file);
}
function stampOf(path) {
    const info = (0, node_fs_1.statSync)(path, { bigint: true });
    return `${info.dev}:${info.ino}:${info.size}:${info.mtimeNs}:${info.ctimeNs}`;
}


/***/ }),

/***/ 2665:
/***/ ((__unused_webpack_module, exports, __webpack_require__) => {


Object.defineProperty(exports, "__esModule", ({ value: true }));
exports.Presigner = void 0;
const node_crypto_1 = __webpack_require__(7598);
/**
 * Capability URLs in the style of S3 presigned URLs: whoever holds the URL may PUT that one part (or GET
 * that one binary) until it expires. The HMAC covers everything that decides what the URL grants, so a
 * changed index, expiry or part hash is a bad signature.
 */
class Presigner {
    secret;
    ttlSeconds;
    now;
    constructor(secret, ttlSeconds, now = () => Date.now()) {
        this.secret = secret;
        this.ttlSeconds = ttlSeconds;
        this.now = now;
    }
    sign(fields) {
        return (0, node_crypto_1.createHmac)('sha256', this.secret).update(fields.join('\n')).digest('hex');
    }
    expiry() {
        return Math.floor(this.now() / 1000) + this.ttlSeconds;
    }
    partUrl(base, binaryId, index, partHash) {
        const expires = this.expiry();
        const sig = this.sign(['part', binaryId, index, partHash, expires]);
        return `${base}/_presigned/parts/${binaryId}/${index}?expires=${expires}&sig=${sig}`;
    }
    downloadUrl(base, binaryId, blobHash) {
        const expires = this.expiry();
        const sig = this.sign(['download', binaryId, blobHash, expires]);
        return `${base}/_presigned/download/${binaryId}?expires=${expires}&sig=${sig}`;
    }
    checkPart(binaryId, index, partHash, query) {
        return this.check(['part', binaryId, index, partHash], query);
    }
    checkDownload(binaryId, blobHash, query) {
        return this.check(['download', binaryId, blobHash], query);
    }
    check(fields, query) {
        const expires = query.get('expires') ?? '';
        const sig = query.get('sig') ?? '';
        if (!/^\d{1,12}$/.test(expires) || !/^[0-9a-f]{64}$/.test(sig))
            return 'signature';
        const expected = Buffer.from(this.sign([...fields, expires]), 'hex');
        if (!(0, node_crypto_1.timingSafeEqual)(expected, Buffer.from(sig, 'hex')))
            return 'signature';
        return Number(expires) * 1000 < this.now() ? 'expired' : 'ok';
    }
}
exports.Presigner = Presigner;


/***/ }),

/***/ 7099:
/***/ ((__unused_webpack_module, exports, __webpack_require__) => {


Object.defineProperty(exports, "__esModule", ({ value: true }));
exports.artifactJson = artifactJson;
exports.artifactVersionJson = artifactVersionJson;
exports.publicKeyPem = publicKeyPem;
exports.binaryJson = binaryJson;
exports.partJson = partJson;
exports.signingKeyJson = signingKeyJson;
exports.signatureJson = signatureJson;
const core_1 = __webpack_require__(893);
/** Rows → wire objects with the field names and nullability of protocol.md §3. */
function metadata(text) {
    return text === null ? null : JSON.parse(text);
}
function artifactJson(ctx, row) {
    return {
        custom_metadata: metadata(row.custom_metadata),
        description: row.description,
        inserted_at: row.inserted_at,
        name: row.name,
        organization_prn: (0, core_1.formatPrn)(row.org),
        prn: (0, core_1.formatPrn)(row.org, 'artifact', row.id),
        updated_at: row.updated_at,
    };
}
function artifactVersionJson(ctx, row) {
    return {
        artifact_prn: (0, core_1.formatPrn)(row.org, 'artifact', row.artifact_id),
        custom_metadata: metadata(row.custom_metadata),
        description: row.description,
        inserted_at: row.inserted_at,
        organization_prn: (0, core_1.formatPrn)(row.org),
        prn: (0, core_1.formatPrn)(row.org, 'artifact_version', row.id),
        updated_at: row.updated_at,
        version: row.version,
    };
}
const SPKI_ED25519_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');
function publicKeyPem(rawBase64) {
    const der = Buffer.concat([SPKI_ED25519_PREFIX, Buffer.from(rawBase64, 'base64')]);
    return `-----BEGIN PUBLIC KEY-----\n${der.toString('base64')}\n-----END PUBLIC KEY-----\n`;
}
function binaryJson(ctx, row) {
    const signatures = ctx.db.all(`SELECT s.signature, s.signing_key_id, k.keyid, k.value FROM binary_signatures s
     JOIN signing_keys k ON k.id = s.signing_key_id WHERE s.binary_id = ? ORDER BY s.seq`, row.id);
    return {
        artifact_version_prn: (0, core_1.formatPrn)(row.org, 'artifact_version', row.artifact_version_id),
        custom_metadata: metadata(row.custom_metadata),
        description: row.description,
        hash: row.hash,
        inserted_at: row.inserted_at,
        organization_prn: (0, core_1.formatPrn)(row.org),
        prn: (0, core_1.formatPrn)(row.org, 'binary', row.id),
        revision: row.revision,
        signatures: signatures.map((s) => ({
            signature: s.signature,
            signing_key_prn: (0, core_1.formatPrn)(row.org, 'signing_key', s.signing_key_id),
            keyid: s.keyid,
            public_value: publicKeyPem(s.value),
        })),
        size: row.size,
        state: row.state,
        target: row.target,
        updated_at: row.updated_at,
        // Not in Peridio's schema (clients ignore unknown keys): why the server sent the binary back to
        // `uploadable` after its own hash check failed. Present only after such a failure.
        ...(row.hash_error ? { hash_error: row.hash_error } : {}),
    };
}
function partJson(ctx, row) {
    return {
        binary_prn: (0, core_1.formatPrn)(row.org, 'binary', row.binary_id),
        hash: row.hash,
        index: row.idx,
        inserted_at: row.inserted_at,
        organization_prn: (0, core_1.formatPrn)(row.org),
        prn: (0, core_1.formatPrn)(row.org, 'binary_part', row.id),
        size: row.size,
        state: row.state,
        updated_at: row.updated_at,
    };
}
function signingKeyJson(ctx, row) {
    return {
        inserted_at: row.inserted_at,
        keyid: row.keyid,
        name: row.name,
        organization_prn: (0, core_1.formatPrn)(row.org),
        prn: (0, core_1.formatPrn)(row.org, 'signing_key', row.id),
        updated_at: row.updated_at,
        value: row.value,
    };
}
function signatureJson(ctx, row) {
    const key = ctx.db.get('SELECT keyid FROM signing_keys WHERE id = ?', row.signing_key_id);
    return {
        binary_prn: (0, core_1.formatPrn)(row.org, 'binary', row.binary_id),
        inserted_at: row.inserted_at,
        keyid: key?.keyid ?? '',
        organization_prn: (0, core_1.formatPrn)(row.org),
        prn: (0, core_1.formatPrn)(row.org, 'binary_signature', row.id),
        signature: row.signature,
        signing_key_prn: (0, core_1.formatPrn)(row.org, 'signing_key', row.signing_key_id),
        updated_at: row.updated_at,
    };
}


/***/ }),

/***/ 6356:
/***/ ((__unused_webpack_module, exports, __webpack_require__) => {


Object.defineProperty(exports, "__esModule", ({ value: true }));
exports.Router = void 0;
exports.makeRequest = makeRequest;
const http_js_1 = __webpack_require__(7969);
class Router {
    routes;
    constructor(routes) {
        this.routes = routes.map((route) => ({ ...route, segments: route.pattern.split('/').filter(Boolean) }));
    }
    /**
     * Finds the route for a path. Empty segments are dropped (the SDK turns a base URL with a trailing slash
     * into `//binaries`); segments are percent-decoded, and PRNs keep their colons.
     */
    match(method, pathname) {
        let segments;
        try {
            segments = pathname.split('/').filter(Boolean).map(decodeURIComponent);
        }
        catch {
            throw (0, http_js_1.detailError)(400, 'Malformed path');
        }
        const allowed = new Set();
        for (const route of this.routes) {
            const params = matchSegments(route.segments, segments);
            if (!params)
                continue;
            if (route.method === method || (method === 'HEAD' && route.method === 'GET'))
                return { route, params };
            allowed.add(route.method);
        }
        if (allowed.size > 0) {
            throw new http_js_1.HttpError(405, { errors: { detail: 'Method Not Allowed' } }, { allow: [...allowed].join(', ') });
        }
        throw (0, http_js_1.detailError)(404, 'Not Found');
    }
}
exports.Router = Router;
function matchSegments(pattern, segments) {
    if (pattern.length !== segments.length)
        return undefined;
    const params = {};
    for (let i = 0; i < pattern.length; i++) {
        const p = pattern[i];
        if (p.startsWith(':'))
            params[p.slice(1)] = segments[i];
        else if (p !== segments[i])
            return undefined;
    }
    return params;
}
function makeRequest(req, res, params, query, baseUrl) {
    let cached;
    return { req, res, params, query, baseUrl, body: () => (cached ??= (0, http_js_1.readJsonBody)(req)) };
}


/***/ }),

/***/ 8584:
/***/ ((__unused_webpack_module, exports, __webpack_require__) => {


Object.defineProperty(exports, "__esModule", ({ value: true }));
exports.findArtifactVersion = findArtifactVersion;
exports.artifactVersionRoutes = artifactVersionRoutes;
const node_crypto_1 = __webpack_require__(7598);
const fields_js_1 = __webpack_require__(8884);
const http_js_1 = __webpack_require__(7969);
const list_js_1 = __webpack_require__(9369);
const records_js_1 = __webpack_require__(7099);
const search_js_1 = __webpack_require__(7389);
const time_js_1 = __webpack_require__(7360);
const artifacts_js_1 = __webpack_require__(8351);
const SEARCH = {
    artifact_prn: (0, search_js_1.prnField)('t.artifact_id', 'artifact'),
    description: (0, search_js_1.stringField)('t.description', [':', '~']),
    inserted_at: (0, search_js_1.dateField)('t.inserted_at'),
    prn: (0, search_js_1.prnField)('t.id', 'artifact_version'),
    updated_at: (0, search_js_1.dateField)('t.updated_at'),
    version: (0, search_js_1.stringField)('t.version', [':', '~', '-']),
};
function findArtifactVersion(ctx, id) {
    return ctx.db.get('SELECT * FROM artifact_versions WHERE id = ? AND org = ?', id, ctx.org);
}
function getVersion(ctx, prn) {
    const row = findArtifactVersion(ctx, (0, fields_js_1.idFromPathPrn)(ctx, prn, 'artifact_version'));
    if (!row)
        throw (0, http_js_1.notFound)();
    return row;
}
function artifactVersionRoutes(ctx) {
    return [
        {
            method: 'POST',
            pattern: '/artifact_versions',
            auth: true,
            async handler({ body }) {
                const input = await body();
                const artifactId = (0, fields_js_1.requiredBodyPrn)(ctx, input, 'artifact_prn', 'artifact');
                const version = (0, fields_js_1.requiredString)(input, 'version', 128);
                const description = (0, fields_js_1.optionalString)(input, 'description', 256, { allowControl: true }) ?? null;
                const metadata = (0, fields_js_1.optionalMetadata)(input) ?? null;
                const id = (0, fields_js_1.optionalId)(input) ?? (0, node_crypto_1.randomUUID)();
                const row = ctx.db.transaction(() => {
                    if (!(0, artifacts_js_1.findArtifact)(ctx, artifactId))
                        throw (0, http_js_1.notFound)(`artifact_prn ${String(input.artifact_prn)}`);
                    if (ctx.db.get('SELECT 1 FROM artifact_versions WHERE artifact_id = ? AND version = ?', artifactId, version)) {
                        throw (0, http_js_1.fieldError)('version', 'has already been taken');
                    }
                    if (ctx.db.get('SELECT 1 FROM artifact_versions WHERE id = ?', id))
                        throw (0, http_js_1.fieldError)('id', 'has already been taken');
                    const now = (0, time_js_1.nowTimestamp)();
                    ctx.db.run(`INSERT INTO artifact_versions (id, org, artifact_id, version, description, custom_metadata, inserted_at, updated_at)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, id, ctx.org, artifactId, version, description, metadata, now, now);
                    return findArtifactVersion(ctx, id);
                });
                return { status: 201, body: { artifact_version: (0, records_js_1.artifactVersionJson)(ctx, row) } };
            },
        },
        {
            method: 'GET',
            pattern: '/artifact_versions',
            auth: true,
            handler({ query }) {
                const page = (0, list_js_1.listRows)(ctx, query, 'artifact_versions', SEARCH);
                return {
                    status: 200,
                    body: {
                        artifact_versions: page.rows.map((r) => (0, records_js_1.artifactVersionJson)(ctx, r)),
                        next_page: page.next_page,
                    },
                };
            },
        },
        {
            method: 'GET',
            pattern: '/artifact_versions/:prn',
            auth: true,
            handler({ params }) {
                return {
                    status: 200,
                    body: { artifact_version: (0, records_js_1.artifactVersionJson)(ctx, getVersion(ctx, params.prn)) },
                };
            },
        },
        {
            method: 'PATCH',
            pattern: '/artifact_versions/:prn',
            auth: true,
            async handler({ params, body }) {
                const existing = getVersion(ctx, params.prn);
                const input = await body();
                const version = (0, fields_js_1.optionalString)(input, 'version', 128);
                if (version !== undefined && version !== existing.version)
                    throw (0, http_js_1.fieldError)('version', 'cannot be changed');
                const description = (0, fields_js_1.optionalString)(input, 'description', 256, { allowControl: true });
                const metadata = (0, fields_js_1.optionalMetadata)(input);
                ctx.db.run(`UPDATE artifact_versions SET description = coalesce(?, description),
           custom_metadata = coalesce(?, custom_metadata), updated_at = ? WHERE id = ?`, description ?? null, metadata ?? null, (0, time_js_1.nowTimestamp)(), existing.id);
                return {
                    status: 200,
                    body: { artifact_version: (0, records_js_1.artifactVersionJson)(ctx, findArtifactVersion(ctx, existing.id)) },
                };
            },
        },
        {
            method: 'DELETE',
            pattern: '/artifact_versions/:prn',
            auth: true,
            handler({ params }) {
                const existing = getVersion(ctx, params.prn);
                ctx.db.transaction(() => {
                    const live = ctx.db.get("SELECT 1 FROM binaries WHERE artifact_version_id = ? AND state <> 'destroyed'", existing.id);
                    if (live)
                        throw (0, http_js_1.fieldError)('artifact_version', 'has binaries that are not destroyed; destroy or delete them first');
                    // Destroyed binaries hold no content; their records (and signatures) go with the version.
                    ctx.db.run('DELETE FROM artifact_versions WHERE id = ?', existing.id);
                });
                return { status: 204 };
            },
        },
    ];
}


/***/ }),

/***/ 8351:
/***/ ((__unused_webpack_module, exports, __webpack_require__) => {


Object.defineProperty(exports, "__esModule", ({ value: true }));
exports.findArtifact = findArtifact;
exports.artifactRoutes = artifactRoutes;
const node_crypto_1 = __webpack_require__(7598);
const fields_js_1 = __webpack_require__(8884);
const http_js_1 = __webpack_require__(7969);
const list_js_1 = __webpack_require__(9369);
const records_js_1 = __webpack_require__(7099);
const search_js_1 = __webpack_require__(7389);
const time_js_1 = __webpack_require__(7360);
const SEARCH = {
    description: (0, search_js_1.stringField)('t.description', [':', '~']),
    inserted_at: (0, search_js_1.dateField)('t.inserted_at'),
    name: (0, search_js_1.stringField)('t.name', [':', '~', '-']),
    prn: (0, search_js_1.prnField)('t.id', 'artifact'),
    updated_at: (0, search_js_1.dateField)('t.updated_at'),
};
function findArtifact(ctx, id) {
    return ctx.db.get('SELECT * FROM artifacts WHERE id = ? AND org = ?', id, ctx.org);
}
function getArtifact(ctx, prn) {
    const row = findArtifact(ctx, (0, fields_js_1.idFromPathPrn)(ctx, prn, 'artifact'));
    if (!row)
        throw (0, http_js_1.notFound)();
    return row;
}
function assertNameFree(ctx, name, exceptId) {
    const clash = ctx.db.get('SELECT id FROM artifacts WHERE org = ? AND name = ? AND id <> ?', ctx.org, name, exceptId ?? '');
    if (clash)
        throw (0, http_js_1.fieldError)('name', 'has already been taken');
}
function artifactRoutes(ctx) {
    return [
        {
            method: 'POST',
            pattern: '/artifacts',
            auth: true,
            async handler({ body }) {
                const input = await body();
                const name = (0, fields_js_1.requiredString)(input, 'name', 128);
                const description = (0, fields_js_1.optionalString)(input, 'description', 256, { allowControl: true }) ?? null;
                const metadata = (0, fields_js_1.optionalMetadata)(input) ?? null;
                const id = (0, fields_js_1.optionalId)(input) ?? (0, node_crypto_1.randomUUID)();
                const row = ctx.db.transaction(() => {
                    assertNameFree(ctx, name);
                    if (ctx.db.get('SELECT 1 FROM artifacts WHERE id = ?', id))
                        throw (0, http_js_1.fieldError)('id', 'has already been taken');
                    const now = (0, time_js_1.nowTimestamp)();
                    ctx.db.run(`INSERT INTO artifacts (id, org, name, description, custom_metadata, inserted_at, updated_at)
             VALUES (?, ?, ?, ?, ?, ?, ?)`, id, ctx.org, name, description, metadata, now, now);
                    return findArtifact(ctx, id);
                });
                return { status: 201, body: { artifact: (0, records_js_1.artifactJson)(ctx, row) } };
            },
        },
        {
            method: 'GET',
            pattern: '/artifacts',
            auth: true,
            handler({ query }) {
                const page = (0, list_js_1.listRows)(ctx, query, 'artifacts', SEARCH);
                return {
                    status: 200,
                    body: { artifacts: page.rows.map((r) => (0, records_js_1.artifactJson)(ctx, r)), next_page: page.next_page },
                };
            },
        },
        {
            method: 'GET',
            pattern: '/artifacts/:prn',
            auth: true,
            handler({ params }) {
                return { status: 200, body: { artifact: (0, records_js_1.artifactJson)(ctx, getArtifact(ctx, params.prn)) } };
            },
        },
        {
            method: 'PATCH',
            pattern: '/artifacts/:prn',
            auth: true,
            async handler({ params, body }) {
                const existing = getArtifact(ctx, params.prn);
                const input = await body();
                const name = (0, fields_js_1.optionalString)(input, 'name', 128);
                const description = (0, fields_js_1.optionalString)(input, 'description', 256, { allowControl: true });
                const metadata = (0, fields_js_1.optionalMetadata)(input);
                const row = ctx.db.transaction(() => {
                    if (name !== undefined)
                        assertNameFree(ctx, name, existing.id);
                    ctx.db.run(`UPDATE artifacts SET name = coalesce(?, name), description = coalesce(?, description),
             custom_metadata = coalesce(?, custom_metadata), updated_at = ? WHERE id = ?`, name ?? null, description ?? null, metadata ?? null, (0, time_js_1.nowTimestamp)(), existing.id);
                    return findArtifact(ctx, existing.id);
                });
                return { status: 200, body: { artifact: (0, records_js_1.artifactJson)(ctx, row) } };
            },
        },
        {
            method: 'DELETE',
            pattern: '/artifacts/:prn',
            auth: true,
            handler({ params }) {
                const existing = getArtifact(ctx, params.prn);
                ctx.db.transaction(() => {
                    if (ctx.db.get('SELECT 1 FROM artifact_versions WHERE artifact_id = ?', existing.id)) {
                        throw (0, http_js_1.fieldError)('artifact', 'has artifact versions; delete them first');
                    }
                    ctx.db.run('DELETE FROM artifacts WHERE id = ?', existing.id);
                });
                return { status: 204 };
            },
        },
    ];
}


/***/ }),

/***/ 3051:
/***/ ((__unused_webpack_module, exports, __webpack_require__) => {


Object.defineProperty(exports, "__esModule", ({ value: true }));
exports.MAX_BINARY_SIZE = void 0;
exports.getBinary = getBinary;
exports.binaryRoutes = binaryRoutes;
const node_crypto_1 = __webpack_require__(7598);
const fields_js_1 = __webpack_require__(8884);
const http_js_1 = __webpack_require__(7969);
const lifecycle_js_1 = __webpack_require__(3837);
const list_js_1 = __webpack_require__(9369);
const records_js_1 = __webpack_require__(7099);
const search_js_1 = __webpack_require__(7389);
const time_js_1 = __webpack_require__(7360);
const artifact_versions_js_1 = __webpack_require__(8584);
exports.MAX_BINARY_SIZE = 53_687_091_200_000;
const SEARCH = {
    artifact_version_prn: (0, search_js_1.prnField)('t.artifact_version_id', 'artifact_version'),
    description: (0, search_js_1.stringField)('t.description', [':', '~']),
    hash: (0, search_js_1.stringField)('t.hash'),
    inserted_at: (0, search_js_1.dateField)('t.inserted_at'),
    prn: (0, search_js_1.prnField)('t.id', 'binary'),
    size: (0, search_js_1.integerField)('t.size'),
    state: (0, search_js_1.stringField)('t.state'),
    target: (0, search_js_1.stringField)('t.target', [':', '~']),
    updated_at: (0, search_js_1.dateField)('t.updated_at'),
};
function getBinary(ctx, prn) {
    const row = (0, lifecycle_js_1.findBinary)(ctx, (0, fields_js_1.idFromPathPrn)(ctx, prn, 'binary'));
    if (!row)
        throw (0, http_js_1.notFound)();
    return row;
}
function assertTargetFree(ctx, versionId, target) {
    const clash = ctx.db.get("SELECT 1 FROM binaries WHERE artifact_version_id = ? AND target = ? AND state <> 'destroyed'", versionId, target);
    if (clash)
        throw (0, http_js_1.fieldError)('target', 'has already been taken');
}
function requestedState(input) {
    if (!(0, fields_js_1.given)(input, 'state'))
        return undefined;
    const state = input.state;
    if (!lifecycle_js_1.BINARY_STATES.includes(state))
        throw (0, http_js_1.fieldError)('state', `is invalid: must be one of ${lifecycle_js_1.BINARY_STATES.join(', ')}`);
    return state;
}
function binaryRoutes(ctx) {
    return [
        {
            method: 'POST',
            pattern: '/binaries',
            auth: true,
            async handler({ body }) {
                const input = await body();
                const versionId = (0, fields_js_1.requiredBodyPrn)(ctx, input, 'artifact_version_prn', 'artifact_version');
                const hash = (0, fields_js_1.sha256Field)(input, 'hash', true);
                const size = (0, fields_js_1.requiredInteger)(input, 'size', 0, exports.MAX_BINARY_SIZE);
                const target = (0, fields_js_1.requiredString)(input, 'target', 128);
                const description = (0, fields_js_1.optionalString)(input, 'description', 256, { allowControl: true }) ?? null;
                const metadata = (0, fields_js_1.optionalMetadata)(input) ?? null;
                const id = (0, fields_js_1.optionalId)(input) ?? (0, node_crypto_1.randomUUID)();
                const row = ctx.db.transaction(() => {
                    if (!(0, artifact_versions_js_1.findArtifactVersion)(ctx, versionId)) {
                        throw (0, http_js_1.notFound)(`artifact_version_prn ${String(input.artifact_version_prn)}`);
                    }
                    assertTargetFree(ctx, versionId, target);
                    if (ctx.db.get('SELECT 1 FROM binaries WHERE id = ?', id))
                        throw (0, http_js_1.fieldError)('id', 'has already been taken');
                    const now = (0, time_js_1.nowTimestamp)();
                    ctx.db.run(`INSERT INTO binaries (id, org, artifact_version_id, target, hash, size, state, description,
             custom_metadata, inserted_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, 'uploadable', ?, ?, ?, ?)`, id, ctx.org, versionId, target, hash, size, description, metadata, now, now);
                    return (0, lifecycle_js_1.findBinary)(ctx, id);
                });
                return { status: 201, body: { binary: (0, records_js_1.binaryJson)(ctx, row) } };
            },
        },
        {
            method: 'GET',
            pattern: '/binaries',
            auth: true,
            handler({ query }) {
                const page = (0, list_js_1.listRows)(ctx, query, 'binaries', SEARCH);
                return {
                    status: 200,
                    body: { binaries: page.rows.map((r) => (0, records_js_1.binaryJson)(ctx, r)), next_page: page.next_page },
                };
            },
        },
        {
            method: 'GET',
            pattern: '/binaries/:prn',
            auth: true,
            handler({ params }) {
                return { status: 200, body: { binary: (0, records_js_1.binaryJson)(ctx, getBinary(ctx, params.prn)) } };
            },
        },
        {
            method: 'PATCH',
            pattern: '/binaries/:prn',
            auth: true,
            async handler({ params, body }) {
                const existing = getBinary(ctx, params.prn);
                const input = await body();
                const state = requestedState(input);
                const hash = (0, fields_js_1.sha256Field)(input, 'hash', false);
                const size = (0, fields_js_1.optionalInteger)(input, 'size', 0, exports.MAX_BINARY_SIZE);
                const description = (0, fields_js_1.optionalString)(input, 'description', 256, { allowControl: true });
                const metadata = (0, fields_js_1.optionalMetadata)(input);
                let startHashing = false;
                const row = ctx.db.transaction(() => {
                    // The state first, so `{state: "uploadable", hash, size}` resets and then takes the new content's hash.
                    if (state !== undefined)
                        startHashing = (0, lifecycle_js_1.transition)(ctx, existing, state);
                    const current = (0, lifecycle_js_1.findBinary)(ctx, existing.id);
                    const contentChanges = (hash !== undefined && hash !== current.hash) || (size !== undefined && size !== current.size);
                    if (contentChanges && current.state !== 'uploadable') {
                        throw (0, http_js_1.fieldError)(hash !== undefined && hash !== current.hash ? 'hash' : 'size', `can only change while the binary is uploadable (it is ${current.state}); reset it to uploadable first`);
                    }
                    if (contentChanges || description !== undefined || metadata !== undefined) {
                        ctx.db.run(`UPDATE binaries SET hash = coalesce(?, hash), size = coalesce(?, size), description = coalesce(?, description),
               custom_metadata = coalesce(?, custom_metadata), updated_at = ? WHERE id = ?`, hash ?? null, size ?? null, description ?? null, metadata ?? null, (0, time_js_1.nowTimestamp)(), existing.id);
                    }
                    return (0, lifecycle_js_1.findBinary)(ctx, existing.id);
                });
                if (startHashing)
                    ctx.enqueueHashing(row.id);
                return { status: 200, body: { binary: (0, records_js_1.binaryJson)(ctx, row) } };
            },
        },
        {
            method: 'DELETE',
            pattern: '/binaries/:prn',
            auth: true,
            handler({ params }) {
                const existing = getBinary(ctx, params.prn);
                ctx.db.transaction(() => {
                    if (existing.state === 'signable' || existing.state === 'signed') {
                        (0, lifecycle_js_1.destroy)(ctx, existing);
                    }
                    else if (existing.state !== 'destroyed') {
                        // Never verified, never signed: nothing worth keeping a record of.
                        ctx.db.run('DELETE FROM binaries WHERE id = ?', existing.id);
                        ctx.storage.removePartsSync(existing.id);
                    }
                });
                return { status: 204 };
            },
        },
        {
            method: 'GET',
            pattern: '/binaries/:prn/download_url',
            auth: true,
            handler({ params, baseUrl }) {
                const binary = getBinary(ctx, params.prn);
                if ((binary.state !== 'signable' && binary.state !== 'signed') || !binary.blob_hash) {
                    throw (0, http_js_1.fieldError)('state', `a download URL needs a signable or signed binary; this one is ${binary.state}`);
                }
                return {
                    status: 200,
                    body: { download_url: ctx.presigner.downloadUrl(baseUrl, binary.id, binary.blob_hash) },
                };
            },
        },
    ];
}


/***/ }),

/***/ 6938:
/***/ ((__unused_webpack_module, exports, __webpack_require__) => {


Object.defineProperty(exports, "__esModule", ({ value: true }));
exports.parseIndex = parseIndex;
exports.partRoutes = partRoutes;
const node_crypto_1 = __webpack_require__(7598);
const fields_js_1 = __webpack_require__(8884);
const http_js_1 = __webpack_require__(7969);
const lifecycle_js_1 = __webpack_require__(3837);
const records_js_1 = __webpack_require__(7099);
const time_js_1 = __webpack_require__(7360);
const binaries_js_1 = __webpack_require__(3051);
function parseIndex(value) {
    if (!/^\d{1,5}$/.test(value))
        return undefined;
    const index = Number(value);
    return index >= 1 && index <= lifecycle_js_1.MAX_PARTS ? index : undefined;
}
function partRoutes(ctx) {
    return [
        {
            method: 'PUT',
            pattern: '/binaries/:prn/parts/:index',
            auth: true,
            async handler({ params, body, baseUrl }) {
                const binary = (0, binaries_js_1.getBinary)(ctx, params.prn);
                const index = parseIndex(params.index);
                if (index === undefined)
                    throw (0, http_js_1.fieldError)('index', `must be an integer from 1 to ${lifecycle_js_1.MAX_PARTS}`);
                // `binary_prn`, `index` and the `content-range` header repeat the path (the SDK sends them); ignored.
                const input = await body();
                const hash = (0, fields_js_1.sha256Field)(input, 'hash', true);
                const size = (0, fields_js_1.requiredInteger)(input, 'size', 0, lifecycle_js_1.MAX_PART_SIZE);
                const expected = (0, fields_js_1.optionalInteger)(input, 'expected_binary_size', 0, binaries_js_1.MAX_BINARY_SIZE);
                const row = ctx.db.transaction(() => {
                    const current = (0, binaries_js_1.getBinary)(ctx, params.prn);
                    if (current.state !== 'uploadable') {
                        throw (0, http_js_1.fieldError)('state', `parts can only be uploaded while the binary is uploadable; it is ${current.state}`);
                    }
                    if (expected !== undefined && expected !== current.size) {
                        throw (0, http_js_1.fieldError)('expected_binary_size', `is ${expected} but the binary's size is ${current.size}`);
                    }
                    if (size > current.size)
                        throw (0, http_js_1.fieldError)('size', `is larger than the binary (${current.size} bytes)`);
                    const later = ctx.db.get('SELECT 1 FROM binary_parts WHERE binary_id = ? AND idx > ?', binary.id, index);
                    if (size < lifecycle_js_1.MIN_PART_SIZE && later) {
                        throw (0, http_js_1.fieldError)('size', `must be at least ${lifecycle_js_1.MIN_PART_SIZE} bytes for a part that is not the last`);
                    }
                    const old = ctx.db.get('SELECT * FROM binary_parts WHERE binary_id = ? AND idx = ?', binary.id, index);
                    const now = (0, time_js_1.nowTimestamp)();
                    if (old) {
                        // Overwrite: the part waits for new bytes. A file named by another hash can no longer become valid.
                        if (old.hash !== hash)
                            ctx.storage.removePartFileSync(binary.id, old.file);
                        ctx.db.run(`UPDATE binary_parts SET hash = ?, size = ?, state = 'uploadable', file = ?, updated_at = ?
               WHERE binary_id = ? AND idx = ?`, hash, size, old.hash === hash ? old.file : null, now, binary.id, index);
                    }
                    else {
                        ctx.db.run(`INSERT INTO binary_parts (binary_id, idx, id, org, hash, size, state, inserted_at, updated_at)
               VALUES (?, ?, ?, ?, ?, ?, 'uploadable', ?, ?)`, binary.id, index, (0, node_crypto_1.randomUUID)(), ctx.org, hash, size, now, now);
                    }
                    return ctx.db.get('SELECT * FROM binary_parts WHERE binary_id = ? AND idx = ?', binary.id, index);
                });
                return {
                    status: 201,
                    body: {
                        binary_part: {
                            ...(0, records_js_1.partJson)(ctx, row),
                            presigned_upload_url: ctx.presigner.partUrl(baseUrl, binary.id, index, row.hash),
                        },
                    },
                };
            },
        },
        {
            method: 'GET',
            pattern: '/binaries/:prn/parts',
            auth: true,
            handler({ params }) {
                const binary = (0, binaries_js_1.getBinary)(ctx, params.prn);
                // Never paginated: a resuming client needs every part at once (protocol.md §3.4).
                return {
                    status: 200,
                    body: { binary_parts: (0, lifecycle_js_1.partsOf)(ctx, binary.id).map((p) => (0, records_js_1.partJson)(ctx, p)), next_page: null },
                };
            },
        },
    ];
}


/***/ }),

/***/ 5038:
/***/ ((__unused_webpack_module, exports, __webpack_require__) => {


Object.defineProperty(exports, "__esModule", ({ value: true }));
exports.signatureRoutes = signatureRoutes;
const core_1 = __webpack_require__(893);
const node_crypto_1 = __webpack_require__(7598);
const fields_js_1 = __webpack_require__(8884);
const http_js_1 = __webpack_require__(7969);
const lifecycle_js_1 = __webpack_require__(3837);
const list_js_1 = __webpack_require__(9369);
const records_js_1 = __webpack_require__(7099);
const search_js_1 = __webpack_require__(7389);
const time_js_1 = __webpack_require__(7360);
const signing_keys_js_1 = __webpack_require__(1528);
const SEARCH = {
    binary_prn: (0, search_js_1.prnField)('t.binary_id', 'binary'),
    inserted_at: (0, search_js_1.dateField)('t.inserted_at'),
    prn: (0, search_js_1.prnField)('t.id', 'binary_signature'),
    signing_key_prn: (0, search_js_1.prnField)('t.signing_key_id', 'signing_key'),
    // Undocumented, but the Peridio CLI de-duplicates pre-computed signatures with it.
    'signature.signing_key.keyid': (0, search_js_1.stringField)('(SELECT k.keyid FROM signing_keys k WHERE k.id = t.signing_key_id)'),
    updated_at: (0, search_js_1.dateField)('t.updated_at'),
};
function findSignature(ctx, id) {
    return ctx.db.get('SELECT * FROM binary_signatures WHERE id = ? AND org = ?', id, ctx.org);
}
function resolveKey(ctx, input) {
    const byPrn = (0, fields_js_1.idFromBodyPrn)(ctx, input, 'signing_key_prn', 'signing_key');
    const keyid = (0, fields_js_1.given)(input, 'signing_key_keyid') ? input.signing_key_keyid : undefined;
    if (keyid !== undefined && typeof keyid !== 'string')
        throw (0, http_js_1.fieldError)('signing_key_keyid', 'is invalid: must be a string');
    if (byPrn === undefined && keyid === undefined) {
        throw (0, http_js_1.fieldError)('signing_key_prn', "can't be blank: give signing_key_prn or signing_key_keyid");
    }
    const key = byPrn !== undefined ? (0, signing_keys_js_1.findSigningKey)(ctx, byPrn) : (0, signing_keys_js_1.findSigningKeyByKeyid)(ctx, keyid);
    if (!key) {
        if (byPrn !== undefined)
            throw (0, http_js_1.notFound)(`signing_key_prn ${String(input.signing_key_prn)}`);
        throw (0, http_js_1.fieldError)('signing_key_keyid', 'does not match a signing key');
    }
    if (byPrn !== undefined && keyid !== undefined && (0, signing_keys_js_1.findSigningKeyByKeyid)(ctx, keyid)?.id !== key.id) {
        throw (0, http_js_1.fieldError)('signing_key_keyid', 'does not match the key of signing_key_prn');
    }
    return key;
}
function signatureRoutes(ctx) {
    return [
        {
            method: 'POST',
            pattern: '/binary_signatures',
            auth: true,
            async handler({ body }) {
                const input = await body();
                const binaryId = (0, fields_js_1.requiredBodyPrn)(ctx, input, 'binary_prn', 'binary');
                const signature = input.signature;
                if (typeof signature !== 'string' || !/^[0-9a-fA-F]{128}$/.test(signature)) {
                    throw (0, http_js_1.fieldError)('signature', 'is invalid: must be the 64-byte Ed25519 signature as 128 hex characters');
                }
                const key = resolveKey(ctx, input);
                const result = ctx.db.transaction(() => {
                    const binary = (0, lifecycle_js_1.findBinary)(ctx, binaryId);
                    if (!binary)
                        throw (0, http_js_1.notFound)(`binary_prn ${String(input.binary_prn)}`);
                    if (binary.state !== 'signable' && binary.state !== 'signed') {
                        throw (0, http_js_1.fieldError)('binary', `must be signable to be signed; it is ${binary.state}`);
                    }
                    // What the Peridio CLI signs (the 64 ASCII hex characters) or, as peridiod also accepts, the raw digest.
                    if (!(0, core_1.verifyHashSignature)(binary.hash, signature, key.value, { allowRawDigest: true })) {
                        throw (0, http_js_1.fieldError)('signature', `Invalid signature: it does not verify with signing key ${key.keyid}; sign the hash of the binary (its 64 lowercase hex characters)`);
                    }
                    const existing = ctx.db.get('SELECT * FROM binary_signatures WHERE binary_id = ? AND signing_key_id = ?', binary.id, key.id);
                    // Signed by this key already: the same answer again, not a second signature.
                    if (existing)
                        return { status: 200, row: existing };
                    const id = (0, node_crypto_1.randomUUID)();
                    const now = (0, time_js_1.nowTimestamp)();
                    ctx.db.run(`INSERT INTO binary_signatures (id, org, binary_id, signing_key_id, signature, inserted_at, updated_at)
             VALUES (?, ?, ?, ?, ?, ?, ?)`, id, ctx.org, binary.id, key.id, signature, now, now);
                    if (binary.state === 'signable') {
                        ctx.db.run("UPDATE binaries SET state = 'signed', updated_at = ? WHERE id = ?", now, binary.id);
                    }
                    return { status: 201, row: findSignature(ctx, id) };
                });
                return { status: result.status, body: { binary_signature: (0, records_js_1.signatureJson)(ctx, result.row) } };
            },
        },
        {
            method: 'GET',
            pattern: '/binary_signatures',
            auth: true,
            handler({ query }) {
                const page = (0, list_js_1.listRows)(ctx, query, 'binary_signatures', SEARCH);
                return {
                    status: 200,
                    body: { binary_signatures: page.rows.map((r) => (0, records_js_1.signatureJson)(ctx, r)), next_page: page.next_page },
                };
            },
        },
        {
            method: 'GET',
            pattern: '/binary_signatures/:prn',
            auth: true,
            handler({ params }) {
                const row = findSignature(ctx, (0, fields_js_1.idFromPathPrn)(ctx, params.prn, 'binary_signature'));
                if (!row)
                    throw (0, http_js_1.notFound)();
                return { status: 200, body: { binary_signature: (0, records_js_1.signatureJson)(ctx, row) } };
            },
        },
        {
            method: 'DELETE',
            pattern: '/binary_signatures/:prn',
            auth: true,
            handler({ params }) {
                const row = findSignature(ctx, (0, fields_js_1.idFromPathPrn)(ctx, params.prn, 'binary_signature'));
                if (!row)
                    throw (0, http_js_1.notFound)();
                ctx.db.transaction(() => {
                    const binary = (0, lifecycle_js_1.findBinary)(ctx, row.binary_id);
                    if (binary?.state === 'signed' && (0, lifecycle_js_1.signatureCount)(ctx, binary.id) === 1) {
                        throw (0, http_js_1.fieldError)('binary_signature', 'is the only signature of a signed binary, which stays signed; destroy the binary instead');
                    }
                    ctx.db.run('DELETE FROM binary_signatures WHERE id = ?', row.id);
                });
                return { status: 204 };
            },
        },
    ];
}


/***/ }),

/***/ 1528:
/***/ ((__unused_webpack_module, exports, __webpack_require__) => {


Object.defineProperty(exports, "__esModule", ({ value: true }));
exports.findSigningKey = findSigningKey;
exports.findSigningKeyByKeyid = findSigningKeyByKeyid;
exports.signingKeyRoutes = signingKeyRoutes;
const core_1 = __webpack_require__(893);
const node_crypto_1 = __webpack_require__(7598);
const fields_js_1 = __webpack_require__(8884);
const http_js_1 = __webpack_require__(7969);
const list_js_1 = __webpack_require__(9369);
const records_js_1 = __webpack_require__(7099);
const search_js_1 = __webpack_require__(7389);
const time_js_1 = __webpack_require__(7360);
/** Long enough for any PEM public key, so a key of the wrong algorithm is named, not refused by length. */
const MAX_KEY_INPUT = 4096;
const SEARCH = {
    inserted_at: (0, search_js_1.dateField)('t.inserted_at'),
    keyid: (0, search_js_1.stringField)('t.keyid'),
    name: (0, search_js_1.stringField)('t.name', [':', '~']),
    prn: (0, search_js_1.prnField)('t.id', 'signing_key'),
    updated_at: (0, search_js_1.dateField)('t.updated_at'),
    value: (0, search_js_1.stringField)('t.value'),
};
function findSigningKey(ctx, id) {
    return ctx.db.get('SELECT * FROM signing_keys WHERE id = ? AND org = ?', id, ctx.org);
}
/** By full keyid (hex SHA-256 of the raw key) or Avocado's short form `sha256-<first 16 hex>`. */
function findSigningKeyByKeyid(ctx, keyid) {
    const k = keyid.trim().toLowerCase();
    const short = /^sha256-([0-9a-f]{16})$/.exec(k);
    if (short) {
        return ctx.db.get('SELECT * FROM signing_keys WHERE org = ? AND substr(keyid, 1, 16) = ? ORDER BY seq LIMIT 1', ctx.org, short[1]);
    }
    return ctx.db.get('SELECT * FROM signing_keys WHERE org = ? AND keyid = ?', ctx.org, k);
}
function getKey(ctx, prn) {
    const row = findSigningKey(ctx, (0, fields_js_1.idFromPathPrn)(ctx, prn, 'signing_key'));
    if (!row)
        throw (0, http_js_1.notFound)();
    return row;
}
/** A PEM (SPKI) or raw base64 Ed25519 public key → stored raw base64 and its keyid. */
function normaliseValue(value) {
    let raw;
    try {
        raw = (0, core_1.parsePublicKey)(value, 'value');
    }
    catch (err) {
        // Core names the algorithm of a key that is not Ed25519 ("is an RSA key …"): pass that on.
        const named = err instanceof core_1.InputError ? /^Input 'value': (is an? .*)$/.exec(err.message)?.[1] : undefined;
        throw (0, http_js_1.fieldError)('value', named ?? 'is invalid: must be an Ed25519 public key, as base64 of the raw 32 bytes or as a PEM');
    }
    return { value: (0, core_1.publicKeyValue)(raw), keyid: (0, core_1.keyIdOf)(raw) };
}
function assertKeyFree(ctx, keyid, exceptId = '') {
    if (ctx.db.get('SELECT 1 FROM signing_keys WHERE org = ? AND keyid = ? AND id <> ?', ctx.org, keyid, exceptId)) {
        throw (0, http_js_1.fieldError)('value', 'has already been taken');
    }
}
function signingKeyRoutes(ctx) {
    return [
        {
            method: 'POST',
            pattern: '/signing_keys',
            auth: true,
            async handler({ body }) {
                const input = await body();
                const name = (0, fields_js_1.requiredString)(input, 'name', 128);
                const key = normaliseValue((0, fields_js_1.requiredString)(input, 'value', MAX_KEY_INPUT, { allowControl: true }));
                const row = ctx.db.transaction(() => {
                    assertKeyFree(ctx, key.keyid);
                    const id = (0, node_crypto_1.randomUUID)();
                    const now = (0, time_js_1.nowTimestamp)();
                    ctx.db.run(`INSERT INTO signing_keys (id, org, name, value, keyid, inserted_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)`, id, ctx.org, name, key.value, key.keyid, now, now);
                    return findSigningKey(ctx, id);
                });
                return { status: 201, body: { signing_key: (0, records_js_1.signingKeyJson)(ctx, row) } };
            },
        },
        {
            method: 'GET',
            pattern: '/signing_keys',
            auth: true,
            handler({ query }) {
                const page = (0, list_js_1.listRows)(ctx, query, 'signing_keys', SEARCH);
                return {
                    status: 200,
                    body: { signing_keys: page.rows.map((r) => (0, records_js_1.signingKeyJson)(ctx, r)), next_page: page.next_page },
                };
            },
        },
        {
            method: 'GET',
            pattern: '/signing_keys/:prn',
            auth: true,
            handler({ params }) {
                return { status: 200, body: { signing_key: (0, records_js_1.signingKeyJson)(ctx, getKey(ctx, params.prn)) } };
            },
        },
        {
            method: 'PATCH',
            pattern: '/signing_keys/:prn',
            auth: true,
            async handler({ params, body }) {
                const existing = getKey(ctx, params.prn);
                const input = await body();
                const name = (0, fields_js_1.optionalString)(input, 'name', 128);
                const given = (0, fields_js_1.optionalString)(input, 'value', MAX_KEY_INPUT, { allowControl: true });
                const key = given === undefined ? undefined : normaliseValue(given);
                const row = ctx.db.transaction(() => {
                    if (key && key.keyid !== existing.keyid) {
                        assertKeyFree(ctx, key.keyid, existing.id);
                        if (ctx.db.get('SELECT 1 FROM binary_signatures WHERE signing_key_id = ?', existing.id)) {
                            throw (0, http_js_1.fieldError)('value', 'cannot change: binary signatures were made with this key');
                        }
                    }
                    ctx.db.run(`UPDATE signing_keys SET name = coalesce(?, name), value = coalesce(?, value), keyid = coalesce(?, keyid),
             updated_at = ? WHERE id = ?`, name ?? null, key?.value ?? null, key?.keyid ?? null, (0, time_js_1.nowTimestamp)(), existing.id);
                    return findSigningKey(ctx, existing.id);
                });
                return { status: 200, body: { signing_key: (0, records_js_1.signingKeyJson)(ctx, row) } };
            },
        },
        {
            method: 'DELETE',
            pattern: '/signing_keys/:prn',
            auth: true,
            handler({ params }) {
                const existing = getKey(ctx, params.prn);
                ctx.db.transaction(() => {
                    if (ctx.db.get('SELECT 1 FROM binary_signatures WHERE signing_key_id = ?', existing.id)) {
                        throw (0, http_js_1.fieldError)('signing_key', 'is used by binary signatures; delete them first');
                    }
                    ctx.db.run('DELETE FROM signing_keys WHERE id = ?', existing.id);
                });
                return { status: 204 };
            },
        },
    ];
}


/***/ }),

/***/ 7389:
/***/ ((__unused_webpack_module, exports, __webpack_require__) => {


Object.defineProperty(exports, "__esModule", ({ value: true }));
exports.MAX_CLAUSES = exports.prnField = exports.stringField = exports.integerField = exports.dateField = void 0;
exports.compileSearch = compileSearch;
const core_1 = __webpack_require__(893);
const http_js_1 = __webpack_require__(7969);
const CMP = [':', '<', '<=', '>', '>='];
const dateField = (column) => ({ column, kind: 'date', ops: CMP });
exports.dateField = dateField;
const integerField = (column) => ({ column, kind: 'integer', ops: CMP });
exports.integerField = integerField;
const stringField = (column, ops = [':']) => ({
    column,
    kind: 'string',
    ops,
});
exports.stringField = stringField;
const prnField = (column, prnType) => ({
    column,
    kind: 'prn',
    ops: [':'],
    prnType,
});
exports.prnField = prnField;
function unsupported(message) {
    return new http_js_1.HttpError(422, { errors: { search: [message] } });
}
const CLAUSE = /^\s*([A-Za-z_][A-Za-z0-9_.]*)\s*(<=|>=|:|~|-|<|>)\s*(.*?)\s*$/s;
/** Splits on ` and ` outside quotes. */
function splitClauses(query) {
    const clauses = [];
    let current = '';
    let quoted = false;
    for (let i = 0; i < query.length; i++) {
        const ch = query[i];
        if (quoted && ch === '\\' && i + 1 < query.length) {
            current += ch + query[i + 1];
            i++;
            continue;
        }
        if (ch === "'")
            quoted = !quoted;
        if (!quoted && query.startsWith(' and ', i)) {
            clauses.push(current);
            current = '';
            i += 4;
            continue;
        }
        current += ch;
    }
    if (quoted)
        throw unsupported('unterminated quoted value');
    clauses.push(current);
    return clauses;
}
function parseClause(text) {
    const match = CLAUSE.exec(text);
    if (!match)
        throw unsupported(`cannot parse search clause "${text.trim()}"`);
    const [, field, op, raw] = match;
    if (raw.startsWith("'")) {
        let value = '';
        let i = 1;
        for (; i < raw.length && raw[i] !== "'"; i++) {
            if (raw[i] === '\\' && i + 1 < raw.length)
                i++;
            value += raw[i];
        }
        if (i >= raw.length)
            throw unsupported(`unterminated quoted value in "${text.trim()}"`);
        if (i !== raw.length - 1) {
            throw unsupported(`unexpected text after the quoted value in "${text.trim()}" (clauses are joined by "and")`);
        }
        return { field, op, value, quoted: true };
    }
    if (!/^(-?\d+(\.\d+)?|true|false)$/.test(raw)) {
        throw unsupported(`value of "${field}" must be single-quoted (strings and dates) or a bare number or boolean`);
    }
    return { field, op, value: raw, quoted: false };
}
const DATE = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d{1,6}))?Z$/;
function compileClause(clause, fields) {
    const spec = fields[clause.field];
    const known = Object.keys(fields).join(', ');
    if (!spec)
        throw unsupported(`search on "${clause.field}" is not supported here (supported fields: ${known})`);
    if (!spec.ops.includes(clause.op)) {
        throw unsupported(`operator "${clause.op}" is not supported for "${clause.field}" (supported: ${spec.ops.join(' ')})`);
    }
    const col = spec.column;
    const sqlOp = clause.op === ':' ? '=' : clause.op;
    switch (spec.kind) {
        case 'prn': {
            const prn = (0, core_1.parsePrn)(clause.value);
            // A PRN of another type or organization can match nothing here; that is an empty result, not an error.
            if (!prn?.id || prn.type !== spec.prnType)
                return { sql: '0', params: [] };
            return { sql: `(t.org = ? AND ${col} = ?)`, params: [prn.org.toLowerCase(), prn.id.toLowerCase()] };
        }
        case 'integer': {
            if (!/^-?\d+$/.test(clause.value))
                throw unsupported(`value of "${clause.field}" must be an integer`);
            return { sql: `${col} ${sqlOp} ?`, params: [Number(clause.value)] };
        }
        case 'date': {
            const m = DATE.exec(clause.value);
            if (!m)
                throw unsupported(`value of "${clause.field}" must be a quoted date-time 'YYYY-MM-DDTHH:MM:SSZ'`);
            const [, seconds, fraction] = m;
            if (clause.op === ':' && fraction === undefined)
                return { sql: `substr(${col}, 1, 19) = ?`, params: [seconds] };
            return { sql: `${col} ${sqlOp} ?`, params: [`${seconds}.${(fraction ?? '').padEnd(6, '0')}Z`] };
        }
        default: {
            if (clause.op === '~')
                return { sql: `instr(${col}, ?) > 0`, params: [clause.value] };
            if (clause.op === '-')
                return { sql: `instr(lower(${col}), lower(?)) > 0`, params: [clause.value] };
            return { sql: `${col} ${sqlOp} ?`, params: [clause.value] };
        }
    }
}
exports.MAX_CLAUSES = 5;
function compileSearch(query, fields) {
    if (query === null || query.trim() === '')
        return { sql: '1', params: [] };
    const clauses = splitClauses(query);
    if (clauses.length > exports.MAX_CLAUSES)
        throw unsupported(`at most ${exports.MAX_CLAUSES} clauses joined by "and"`);
    const compiled = clauses.map((text) => compileClause(parseClause(text), fields));
    return { sql: compiled.map((c) => `(${c.sql})`).join(' AND '), params: compiled.flatMap((c) => c.params) };
}


/***/ }),

/***/ 2196:
/***/ ((__unused_webpack_module, exports, __webpack_require__) => {


Object.defineProperty(exports, "__esModule", ({ value: true }));
exports.loadApiKey = loadApiKey;
exports.loadPresignSecret = loadPresignSecret;
exports.loadOrganization = loadOrganization;
const node_crypto_1 = __webpack_require__(7598);
const node_fs_1 = __webpack_require__(3024);
const node_path_1 = __webpack_require__(6760);
/** A secret kept in a 0600 file of the data dir, created on first use. */
function fileSecret(dataDir, name, make) {
    const path = (0, node_path_1.join)(dataDir, name);
    if ((0, node_fs_1.existsSync)(path)) {
        const value = (0, node_fs_1.readFileSync)(path, 'utf8').trim();
        if (value)
            return { value, created: false };
    }
    const value = make();
    (0, node_fs_1.writeFileSync)(path, `${value}\n`, { mode: 0o600 });
    return { value, created: true };
}
/** The API key: given (env), else stored in <data-dir>/api-key, else generated there. */
function loadApiKey(dataDir) {
    const { value, created } = fileSecret(dataDir, 'api-key', () => `prk_${(0, node_crypto_1.randomBytes)(24).toString('base64url')}`);
    return { apiKey: value, generated: created, path: (0, node_path_1.join)(dataDir, 'api-key') };
}
/** The HMAC key of presigned URLs; kept across restarts so URLs handed out stay valid until they expire. */
function loadPresignSecret(dataDir) {
    return Buffer.from(fileSecret(dataDir, 'presign-secret', () => (0, node_crypto_1.randomBytes)(32).toString('hex')).value, 'hex');
}
/** The registry's one organization, created with the database. */
function loadOrganization(db) {
    const row = db.get("SELECT value FROM meta WHERE key = 'organization'");
    if (row)
        return row.value;
    const org = (0, node_crypto_1.randomUUID)();
    db.run("INSERT INTO meta (key, value) VALUES ('organization', ?)", org);
    return org;
}


/***/ }),

/***/ 8002:
/***/ ((__unused_webpack_module, exports, __webpack_require__) => {


Object.defineProperty(exports, "__esModule", ({ value: true }));
exports.createRegistry = createRegistry;
const node_crypto_1 = __webpack_require__(7598);
const node_fs_1 = __webpack_require__(3024);
const node_http_1 = __webpack_require__(7067);
const node_path_1 = __webpack_require__(6760);
const core_1 = __webpack_require__(893);
const db_js_1 = __webpack_require__(3920);
const download_js_1 = __webpack_require__(865);
const hasher_js_1 = __webpack_require__(5518);
const http_js_1 = __webpack_require__(7969);
const lifecycle_js_1 = __webpack_require__(3837);
const presign_js_1 = __webpack_require__(2665);
const router_js_1 = __webpack_require__(6356);
const artifact_versions_js_1 = __webpack_require__(8584);
const artifacts_js_1 = __webpack_require__(8351);
const binaries_js_1 = __webpack_require__(3051);
const parts_js_1 = __webpack_require__(6938);
const signatures_js_1 = __webpack_require__(5038);
const signing_keys_js_1 = __webpack_require__(1528);
const secrets_js_1 = __webpack_require__(2196);
const storage_js_1 = __webpack_require__(9752);
const uploads_js_1 = __webpack_require__(6239);
const digest = (value) => (0, node_crypto_1.createHash)('sha256').update(value).digest();
function authenticate(req, expected) {
    const match = /^(?:Token|Bearer)\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '');
    if (!match || !(0, node_crypto_1.timingSafeEqual)(digest(match[1]), expected)) {
        throw new http_js_1.HttpError(401, {
            errors: {
                detail: "Unauthorized: send the registry's API key as 'Authorization: Token <key>' (or Bearer)",
            },
        });
    }
}
function checkApiVersion(req) {
    const version = req.headers['x-api-version'];
    if (version !== undefined && version !== '1' && version !== '2') {
        throw (0, http_js_1.detailError)(400, `Unsupported x-api-version '${String(version)}'; this registry speaks 1 and 2`);
    }
}
/** The path for the request log: presigned query strings (the capability) are never logged. */
function loggablePath(url) {
    const [path, query] = url.split('?', 2);
    if (path.includes('/_presigned/'))
        return query === undefined ? path : `${path}?***`;
    return url;
}
/** Part directories that no binary in an upload state owns: left by a crash between two steps. */
function sweepOrphanParts(ctx) {
    for (const name of (0, node_fs_1.readdirSync)(ctx.storage.partsDir)) {
        const binary = /^[0-9a-f-]{36}$/.test(name) ? (0, lifecycle_js_1.findBinary)(ctx, name) : undefined;
        if (!binary || !['uploadable', 'hashable', 'hashing'].includes(binary.state))
            ctx.storage.removePartsSync(name);
    }
}
function createRegistry(options) {
    const logger = options.logger ?? core_1.silentLogger;
    (0, node_fs_1.mkdirSync)(options.dataDir, { recursive: true });
    const db = new db_js_1.Database((0, node_path_1.join)(options.dataDir, 'registry.db'));
    const storage = new storage_js_1.Storage(options.dataDir);
    const presigner = new presign_js_1.Presigner((0, secrets_js_1.loadPresignSecret)(options.dataDir), options.presignTtlSeconds ?? 3600);
    const publicUrl = options.publicUrl?.replace(/\/+$/, '');
    let hasher;
    const context = {
        db,
        storage,
        presigner,
        logger,
        org: (0, secrets_js_1.loadOrganization)(db),
        publicUrl,
        enqueueHashing: (id) => hasher.enqueue(id),
        partValid: (id) => hasher.prefixes.partValid(id),
    };
    hasher = new hasher_js_1.Hasher(context, options.hashingDelayMs ?? 0);
    sweepOrphanParts(context);
    const router = new router_js_1.Router([
        ...(0, artifacts_js_1.artifactRoutes)(context),
        ...(0, artifact_versions_js_1.artifactVersionRoutes)(context),
        ...(0, binaries_js_1.binaryRoutes)(context),
        ...(0, parts_js_1.partRoutes)(context),
        ...(0, signatures_js_1.signatureRoutes)(context),
        ...(0, signing_keys_js_1.signingKeyRoutes)(context),
        ...(0, uploads_js_1.uploadRoutes)(context),
        ...(0, download_js_1.downloadRoutes)(context),
        {
            method: 'GET',
            pattern: '/health',
            auth: false,
            handler: () => ({ status: 200, body: { status: 'ok' } }),
        },
    ]);
    const apiKeyDigest = digest(options.apiKey);
    let listening = { host: '127.0.0.1', port: 0 };
    let shuttingDown = false;
    const inFlight = new Set();
    async function handle(req, res) {
        const started = performance.now();
        const method = req.method ?? 'GET';
        inFlight.add(res);
        if (shuttingDown)
            res.setHeader('connection', 'close');
        res.on('close', () => {
            inFlight.delete(res);
            // Once shutting down, a connection whose last request just finished must not idle on keep-alive.
            if (shuttingDown)
                server.closeIdleConnections();
            const ms = Math.round(performance.now() - started);
            const status = res.writableFinished ? res.statusCode : `${res.statusCode} aborted`;
            logger.info(`request method=${method} path=${loggablePath(req.url ?? '/')} status=${status} ms=${ms}`);
        });
        try {
            // Not `new URL(...)`: it would read the SDK's `//binaries` as a host name.
            const [pathname, search = ''] = (req.url ?? '/').split('?', 2);
            const { route, params } = router.match(method, pathname);
            if (route.auth) {
                authenticate(req, apiKeyDigest);
                checkApiVersion(req);
            }
            const baseUrl = publicUrl ?? `http://${req.headers.host ?? `${listening.host}:${listening.port}`}`;
            const result = await route.handler((0, router_js_1.makeRequest)(req, res, params, new URLSearchParams(search), baseUrl));
            if (result)
                (0, http_js_1.sendJson)(res, result.status, result.body, result.headers);
        }
        catch (err) {
            if (res.headersSent) {
                res.destroy();
                return;
            }
            if (err instanceof http_js_1.HttpError) {
                (0, http_js_1.sendJson)(res, err.status, err.body, err.headers);
            }
            else if (err?.code === 'ERR_STREAM_PREMATURE_CLOSE' || req.destroyed) {
                res.destroy(); // the client went away mid-request
            }
            else {
                logger.error(`${method} ${loggablePath(req.url ?? '/')}: ${err?.stack ?? String(err)}`);
                (0, http_js_1.sendJson)(res, 500, { errors: { detail: 'Internal Server Error' } });
            }
        }
    }
    const server = (0, node_http_1.createServer)({ requestTimeout: 3_600_000, headersTimeout: 60_000 }, (req, res) => {
        void handle(req, res);
    });
    hasher.requeueInterrupted();
    let closing;
    return {
        server,
        context,
        hasher,
        listen(port, host = '127.0.0.1') {
            return new Promise((resolve, reject) => {
                server.once('error', reject);
                server.listen(port, host, () => {
                    server.off('error', reject);
                    const address = server.address();
                    listening = { host, port: address.port };
                    const shownHost = host.includes(':') ? `[${host}]` : host;
                    resolve({ url: `http://${shownHost}:${address.port}`, port: address.port });
                });
            });
        },
        close() {
            closing ??= (async () => {
                shuttingDown = true;
                for (const res of inFlight)
                    if (!res.headersSent)
                        res.setHeader('connection', 'close');
                await new Promise((resolve) => {
                    if (!server.listening)
                        return resolve();
                    // In-flight requests finish; idle keep-alive connections are closed; stragglers get 30 s.
                    const force = setTimeout(() => server.closeAllConnections(), 30_000);
                    server.close(() => {
                        clearTimeout(force);
                        resolve();
                    });
                    server.closeIdleConnections();
                });
                await hasher.close();
                db.close();
            })();
            return closing;
        },
    };
}


/***/ }),

/***/ 9752:
/***/ ((__unused_webpack_module, exports, __webpack_require__) => {


Object.defineProperty(exports, "__esModule", ({ value: true }));
exports.Storage = void 0;
exports.fsyncDir = fsyncDir;
const node_crypto_1 = __webpack_require__(7598);
const node_fs_1 = __webpack_require__(3024);
const promises_1 = __webpack_require__(1455);
const node_path_1 = __webpack_require__(6760);
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const SHA256 = /^[0-9a-f]{64}$/;
/**
 * Content on the filesystem. Parts live under parts/<binary-uuid>/<index>-<sha256>: the name carries the
 * hash of its bytes, so a name can never stand for other bytes. Verified content lives in content-addressed
 * blobs/<aa>/<sha256>/ as hard links to the parts (segments 1..N): identical content is stored once, and
 * publishing a blob copies nothing. Everything is written to tmp/ first, fsynced, then renamed into place.
 */
class Storage {
    dataDir;
    partsDir;
    blobsDir;
    tmpDir;
    constructor(dataDir) {
        this.dataDir = dataDir;
        this.partsDir = (0, node_path_1.join)(dataDir, 'parts');
        this.blobsDir = (0, node_path_1.join)(dataDir, 'blobs');
        this.tmpDir = (0, node_path_1.join)(dataDir, 'tmp');
        for (const dir of [this.partsDir, this.blobsDir])
            (0, node_fs_1.mkdirSync)(dir, { recursive: true });
        // Leftovers of uploads or hashing interrupted by a crash: never referenced by the database.
        (0, node_fs_1.rmSync)(this.tmpDir, { recursive: true, force: true });
        (0, node_fs_1.mkdirSync)(this.tmpDir, { recursive: true });
    }
    tmpPath() {
        return (0, node_path_1.join)(this.tmpDir, (0, node_crypto_1.randomUUID)());
    }
    partDir(binaryId) {
        if (!UUID.test(binaryId))
            throw new Error('invalid binary id');
        return (0, node_path_1.join)(this.partsDir, binaryId);
    }
    partFileName(index, sha256Hex) {
        if (!Number.isInteger(index) || index < 1 || index > 10_000 || !SHA256.test(sha256Hex)) {
            throw new Error('invalid part file name');
        }
        return `${index}-${sha256Hex}`;
    }
    partPath(binaryId, file) {
        if (!/^\d{1,5}-[0-9a-f]{64}$/.test(file))
            throw new Error('invalid part file name');
        return (0, node_path_1.join)(this.partDir(binaryId), file);
    }
    /** Moves a fully written and fsynced temp file into place as a part. Synchronous on purpose (see hasher). */
    commitPartSync(tmp, binaryId, file) {
        (0, node_fs_1.mkdirSync)(this.partDir(binaryId), { recursive: true });
        (0, node_fs_1.renameSync)(tmp, this.partPath(binaryId, file));
    }
    removePartFileSync(binaryId, file) {
        if (file)
            (0, node_fs_1.rmSync)(this.partPath(binaryId, file), { force: true });
    }
    removePartsSync(binaryId) {
        (0, node_fs_1.rmSync)(this.partDir(binaryId), { recursive: true, force: true });
    }
    blobPath(sha256Hex) {
        if (!SHA256.test(sha256Hex))
            throw new Error('invalid blob hash');
        return (0, node_path_1.join)(this.blobsDir, sha256Hex.slice(0, 2), sha256Hex);
    }
    hasBlob(sha256Hex) {
        return (0, node_fs_1.existsSync)(this.blobPath(sha256Hex));
    }
    /**
     * Publishes parts (already verified to hash to sha256Hex) as the blob: hard links into a temp dir, then
     * one rename. When the blob exists already, nothing is written: that is the deduplication.
     */
    publishBlobSync(sha256Hex, binaryId, files) {
        const target = this.blobPath(sha256Hex);
        if ((0, node_fs_1.existsSync)(target))
            return;
        const staging = this.tmpPath();
        (0, node_fs_1.mkdirSync)(staging);
        files.forEach((file, i) => (0, node_fs_1.linkSync)(this.partPath(binaryId, file), (0, node_path_1.join)(staging, String(i + 1))));
        (0, node_fs_1.mkdirSync)((0, node_path_1.join)(this.blobsDir, sha256Hex.slice(0, 2)), { recursive: true });
        (0, node_fs_1.renameSync)(staging, target);
    }
    removeBlobSync(sha256Hex) {
        (0, node_fs_1.rmSync)(this.blobPath(sha256Hex), { recursive: true, force: true });
    }
    /** The blob's segments in order, with their sizes. */
    blobSegments(sha256Hex) {
        const dir = this.blobPath(sha256Hex);
        return (0, node_fs_1.readdirSync)(dir)
            .filter((name) => /^\d+$/.test(name))
            .sort((a, b) => Number(a) - Number(b))
            .map((name) => ({ path: (0, node_path_1.join)(dir, name), size: (0, node_fs_1.statSync)((0, node_path_1.join)(dir, name)).size }));
    }
    /** Streams bytes [start, end] (inclusive) of the blob, segment after segment. */
    async *readBlob(sha256Hex, start, end) {
        let offset = 0;
        for (const segment of this.blobSegments(sha256Hex)) {
            const segStart = offset;
            const segEnd = offset + segment.size - 1;
            offset += segment.size;
            if (segment.size === 0 || segEnd < start || segStart > end)
                continue;
            const stream = (0, node_fs_1.createReadStream)(segment.path, {
                start: Math.max(0, start - segStart),
                end: Math.min(segment.size - 1, end - segStart),
            });
            for await (const chunk of stream)
                yield chunk;
        }
    }
}
exports.Storage = Storage;
/** fsyncs a directory so a rename into it survives a power loss. Best effort: some filesystems refuse. */
async function fsyncDir(path) {
    try {
        const handle = await (0, promises_1.open)(path, 'r');
        try {
            await handle.sync();
        }
        finally {
            await handle.close();
        }
    }
    catch {
        /* not supported here; the rename itself is still atomic */
    }
}


/***/ }),

/***/ 7360:
/***/ ((__unused_webpack_module, exports) => {


Object.defineProperty(exports, "__esModule", ({ value: true }));
exports.nowTimestamp = nowTimestamp;
/**
 * Timestamps as Peridio writes them: ISO-8601 UTC with microseconds and `Z`. Strictly increasing within
 * the process, so `inserted_at` never ties and ordering by it agrees with insertion order.
 */
let lastMicros = 0;
function nowTimestamp() {
    let micros = Date.now() * 1000 + Math.floor((performance.now() % 1) * 1000);
    if (micros <= lastMicros)
        micros = lastMicros + 1;
    lastMicros = micros;
    const ms = Math.floor(micros / 1000);
    const iso = new Date(ms).toISOString(); // YYYY-MM-DDTHH:MM:SS.mmmZ
    return `${iso.slice(0, 23)}${String(micros % 1000).padStart(3, '0')}Z`;
}


/***/ }),

/***/ 6239:
/***/ ((__unused_webpack_module, exports, __webpack_require__) => {


Object.defineProperty(exports, "__esModule", ({ value: true }));
exports.uploadRoutes = uploadRoutes;
const node_crypto_1 = __webpack_require__(7598);
const node_fs_1 = __webpack_require__(3024);
const node_stream_1 = __webpack_require__(7075);
const promises_1 = __webpack_require__(6466);
const http_js_1 = __webpack_require__(7969);
const lifecycle_js_1 = __webpack_require__(3837);
const parts_js_1 = __webpack_require__(6938);
const time_js_1 = __webpack_require__(7360);
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
class TooLarge extends Error {
}
function partRow(ctx, binaryId, index) {
    return ctx.db.get('SELECT * FROM binary_parts WHERE binary_id = ? AND idx = ?', binaryId, index);
}
function rejectPart(state, message, close = false) {
    return new http_js_1.HttpError(400, { errors: { detail: `${state}: ${message}` } }, close ? { connection: 'close' } : {});
}
/**
 * The presigned part upload, S3 UploadPart style: no API key, the URL is the capability. The body streams to
 * a temp file while its size and SHA-256 are computed; only bytes that match the part's registered hash are
 * fsynced, renamed into place and then marked `valid`, so a crash at any point leaves the part not valid.
 */
function uploadRoutes(ctx) {
    return [
        {
            method: 'PUT',
            pattern: '/_presigned/parts/:binary/:index',
            auth: false,
            async handler({ req, params, query }) {
                const binaryId = params.binary;
                const index = (0, parts_js_1.parseIndex)(params.index);
                if (!UUID.test(binaryId) || index === undefined)
                    throw (0, http_js_1.detailError)(404, 'Not Found');
                const part = partRow(ctx, binaryId, index);
                const check = part ? ctx.presigner.checkPart(binaryId, index, part.hash, query) : 'signature';
                if (check === 'expired')
                    throw (0, http_js_1.detailError)(403, 'Presigned URL expired; create the binary part again for a new URL');
                if (check !== 'ok' || !part)
                    throw (0, http_js_1.detailError)(403, 'Presigned URL signature does not match');
                const binary = (0, lifecycle_js_1.findBinary)(ctx, binaryId);
                if (!binary || binary.state !== 'uploadable') {
                    throw (0, http_js_1.detailError)(409, `the binary is ${binary?.state ?? 'gone'}; parts can only be uploaded while it is uploadable`);
                }
                const mark = (state) => ctx.db.run(`UPDATE binary_parts SET state = ?, updated_at = ? WHERE binary_id = ? AND idx = ? AND hash = ? AND size = ?`, state, (0, time_js_1.nowTimestamp)(), binaryId, index, part.hash, part.size);
                const declared = req.headers['content-length'];
                if (declared !== undefined && Number(declared) > part.size) {
                    mark('invalid_size');
                    throw rejectPart('invalid_size', `the body is ${declared} bytes, the part's size is ${part.size}`, true);
                }
                const tmp = ctx.storage.tmpPath();
                const hash = (0, node_crypto_1.createHash)('sha256');
                let received = 0;
                const meter = new node_stream_1.Transform({
                    transform(chunk, _encoding, callback) {
                        received += chunk.length;
                        if (received > part.size)
                            return callback(new TooLarge());
                        hash.update(chunk);
                        callback(null, chunk);
                    },
                });
                try {
                    // `flush` fsyncs the file before it is closed: the bytes are durable before the rename below.
                    await (0, promises_1.pipeline)(req, meter, (0, node_fs_1.createWriteStream)(tmp, { flags: 'wx', flush: true }));
                }
                catch (err) {
                    (0, node_fs_1.rmSync)(tmp, { force: true });
                    if (err instanceof TooLarge) {
                        mark('invalid_size');
                        throw rejectPart('invalid_size', `the body is larger than the part's size (${part.size} bytes)`, true);
                    }
                    throw err; // the client went away mid-body: the part stays as it was
                }
                const digest = hash.digest();
                const hex = digest.toString('hex');
                const checksum = req.headers['x-amz-checksum-sha256'];
                let failure;
                if (received !== part.size)
                    failure = ['invalid_size', `the body is ${received} bytes, the part's size is ${part.size}`];
                else if (hex !== part.hash)
                    failure = ['invalid_hash', `the body's SHA-256 is ${hex}, the part's hash is ${part.hash}`];
                else if (typeof checksum === 'string' && checksum !== digest.toString('base64')) {
                    failure = ['invalid_hash', 'the body does not match its x-amz-checksum-sha256 header'];
                }
                if (failure) {
                    (0, node_fs_1.rmSync)(tmp, { force: true });
                    mark(failure[0]);
                    throw rejectPart(failure[0], failure[1]);
                }
                // Synchronous from here on: no reset or re-registration can slip between the rename and the update.
                const now = partRow(ctx, binaryId, index);
                const still = (0, lifecycle_js_1.findBinary)(ctx, binaryId);
                if (!now || now.hash !== part.hash || now.size !== part.size || still?.state !== 'uploadable') {
                    (0, node_fs_1.rmSync)(tmp, { force: true });
                    throw (0, http_js_1.detailError)(409, 'the part was re-created or the binary left uploadable while this upload ran; upload again');
                }
                const file = ctx.storage.partFileName(index, hex);
                ctx.storage.commitPartSync(tmp, binaryId, file);
                const dir = (0, node_fs_1.openSync)(ctx.storage.partDir(binaryId), 'r');
                try {
                    (0, node_fs_1.fsyncSync)(dir);
                }
                catch {
                    /* some filesystems cannot fsync a directory; the rename is still atomic */
                }
                finally {
                    (0, node_fs_1.closeSync)(dir);
                }
                ctx.db.run(`UPDATE binary_parts SET state = 'valid', file = ?, updated_at = ? WHERE binary_id = ? AND idx = ?`, file, (0, time_js_1.nowTimestamp)(), binaryId, index);
                ctx.partValid(binaryId);
                return { status: 200, headers: { etag: `"${hex}"` } };
            },
        },
    ];
}


/***/ })

};
