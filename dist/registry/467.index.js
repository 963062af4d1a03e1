export const id = 467;
export const ids = [467];
export const modules = {

/***/ 2444:
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
/**
 * The part of core that needs no HTTP client: errors, logging, PRNs, keys and signatures, hashing. The
 * registry imports this entry (`@peridio-actions/core/base`) so its bundle carries no client code.
 */
__exportStar(__webpack_require__(7638), exports);
__exportStar(__webpack_require__(9157), exports);
__exportStar(__webpack_require__(6968), exports);
__exportStar(__webpack_require__(9067), exports);
__exportStar(__webpack_require__(7889), exports);
__exportStar(__webpack_require__(8109), exports);
__exportStar(__webpack_require__(2633), exports);
__exportStar(__webpack_require__(796), exports);
__exportStar(__webpack_require__(1589), exports);
__exportStar(__webpack_require__(3869), exports);


/***/ }),

/***/ 7638:
/***/ ((__unused_webpack_module, exports) => {


Object.defineProperty(exports, "__esModule", ({ value: true }));
exports.TimeoutError = exports.NetworkError = exports.ConflictError = exports.ApiError = exports.InputError = exports.UserError = exports.PeridioError = void 0;
exports.notFoundAsInput = notFoundAsInput;
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
/**
 * An action input or a function argument a user supplied is wrong. `input` is its kebab-case name and
 * `reason` what is wrong with it, so callers can use either without taking the message apart.
 */
class InputError extends UserError {
    input;
    reason;
    name = 'InputError';
    constructor(input, reason, options) {
        super(`Input '${input}': ${reason}`, options);
        this.input = input;
        this.reason = reason;
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
/**
 * For a lookup of something the user named: a 404 becomes an InputError on that input, saying `reason`;
 * any other error is returned as it is. Use as `catch (err) { throw notFoundAsInput(err, ...) }`.
 */
function notFoundAsInput(err, input, reason) {
    return err instanceof ApiError && err.status === 404 ? new InputError(input, reason, { cause: err }) : err;
}
/** True when the user, not the code, must act: input errors, conflicts, and 4xx API answers. */
function isUserError(err) {
    if (err instanceof UserError)
        return true;
    if (err instanceof ApiError)
        return err.isClientError;
    return false;
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
    options.logger?.debug(inline
        ? `hashing ${plan.parts.length} parts in this thread (file up to ${INLINE_PARTS_LIMIT} bytes)`
        : `hashing ${plan.parts.length} parts in a worker thread (file over ${INLINE_PARTS_LIMIT} bytes)`);
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
const sha2_js_1 = __webpack_require__(5108);
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
    let point;
    try {
        // Strict RFC 8032 decoding: a y coordinate ≥ p or a "negative zero" x is refused here.
        point = ed.Point.fromBytes(raw, false);
    }
    catch {
        throw new errors_js_1.InputError(inputName, 'is 32 bytes but not a valid Ed25519 public key (not a curve point)');
    }
    // A small-order key (e.g. AQAA…A=, the identity) makes a forged signature verify for every message.
    if (point.isSmallOrder()) {
        throw new errors_js_1.InputError(inputName, 'is a small-order Ed25519 point, which any signature can match; use a real key');
    }
    if (!Buffer.from(point.toBytes()).equals(Buffer.from(raw))) {
        throw new errors_js_1.InputError(inputName, 'is a non-canonical encoding of an Ed25519 point; use the key as generated');
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
 * Signs as the Peridio CLI does, so that Peridio and devices verify it: the message is the 64 ASCII characters of the lowercase
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
 * the form Avocado tooling and newer device agents produce, which Peridio also accepts.
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
            // zip215: false is RFC 8032 strict: non-canonical R, S ≥ L and small-order keys do not verify.
            return ed.verify(signature, message, raw, { zip215: false });
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
        finish: () => Promise.resolve(hasher.finish()),
        close: () => Promise.resolve(),
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
exports.DEFAULT_PART_SIZE = exports.MAX_BINARY_SIZE = exports.MAX_PARTS = exports.MAX_PART_SIZE = exports.MIN_PART_SIZE = void 0;
exports.planParts = planParts;
const errors_js_1 = __webpack_require__(7638);
/** S3 multipart limits, which Peridio's binary parts inherit (spec `binary-part-size`). */
exports.MIN_PART_SIZE = 5_242_880;
exports.MAX_PART_SIZE = 5_368_709_120;
exports.MAX_PARTS = 10_000;
/** The largest binary the part limits allow (spec `binary-size`: 53_687_091_200_000). */
exports.MAX_BINARY_SIZE = exports.MAX_PARTS * exports.MAX_PART_SIZE;
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

/***/ 2633:
/***/ ((__unused_webpack_module, exports, __webpack_require__) => {


Object.defineProperty(exports, "__esModule", ({ value: true }));
exports.UUID_PATTERN = void 0;
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
/** A UUID in its 8-4-4-4-12 hex form, either case: the id inside every PRN. */
exports.UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** `prn:1:<org-uuid>` or `prn:1:<org-uuid>:<type>:<uuid>`: the forms the Peridio CLI accepts and the API issues. */
function parsePrn(value) {
    const segments = value.split(':');
    if (segments[0] !== 'prn' || segments[1] !== '1')
        return undefined;
    const [, , org, type, id] = segments;
    if (!org || !exports.UUID_PATTERN.test(org))
        return undefined;
    if (segments.length === 3)
        return { org };
    if (segments.length !== 5 || !TYPES.includes(type) || !id || !exports.UUID_PATTERN.test(id))
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
/***/ ((__unused_webpack_module, exports, __webpack_require__) => {


Object.defineProperty(exports, "__esModule", ({ value: true }));
exports.redactUrl = redactUrl;
exports.redactSecrets = redactSecrets;
const prn_js_1 = __webpack_require__(2633);
/** A path segment this long made only of token characters is treated as a capability, not a name. */
const PATH_TOKEN = /^(?=.*\d)(?=.*[A-Za-z])[A-Za-z0-9_\-+=%~]{32,}$/;
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
        .map((segment) => (PATH_TOKEN.test(segment) && !prn_js_1.UUID_PATTERN.test(segment) ? '***' : segment))
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

/***/ 6039:
/***/ ((__unused_webpack_module, exports, __webpack_require__) => {


Object.defineProperty(exports, "__esModule", ({ value: true }));
exports.commandSigner = commandSigner;
/**
 * An external program signs: it reads the message on stdin (see messageFor) and prints the signature in
 * hex or base64 on stdout. Its output and stderr are never logged or quoted in errors: a wrapper around a
 * KMS or an HSM may print tokens or key material there.
 */
const node_child_process_1 = __webpack_require__(1421);
const errors_js_1 = __webpack_require__(7638);
const keys_js_1 = __webpack_require__(5349);
const signer_js_1 = __webpack_require__(8915);
const verify_js_1 = __webpack_require__(8756);
function commandSigner(config) {
    const input = config.commandInput ?? 'signing-command';
    const publicKey = (0, keys_js_1.parseSigningPublicKey)(config.publicKey, config.publicKeyInput ?? 'signing-public-key');
    return {
        publicKey,
        input,
        description: `the command in ${input}`,
        secretForms: () => [],
        async signHash(hashHex, signal) {
            const stdout = await runCommand(config.command, (0, signer_js_1.messageFor)(publicKey.algorithm, hashHex), {
                input,
                timeoutMs: config.timeoutMs ?? 120_000,
                env: { PERIDIO_SIGN_HASH: hashHex.toLowerCase(), PERIDIO_SIGN_ALGORITHM: publicKey.algorithm },
                signal,
            });
            const signature = (0, verify_js_1.decodeSignature)(stdout.toString('latin1'));
            if (!signature || signature.length === 0) {
                throw new errors_js_1.InputError(input, `printed ${stdout.length} bytes that are not a signature in hex or base64 (the output is not shown); ` +
                    `print only the signature, e.g. openssl pkeyutl -sign … | base64`);
            }
            return signature.toString('hex').toUpperCase();
        },
    };
}
async function runCommand(command, stdin, options) {
    return new Promise((resolve, reject) => {
        const child = (0, node_child_process_1.spawn)(command, {
            shell: true,
            stdio: ['pipe', 'pipe', 'pipe'],
            env: { ...process.env, ...options.env },
            timeout: options.timeoutMs,
            signal: options.signal,
        });
        const out = [];
        let errBytes = 0;
        child.stdout.on('data', (chunk) => out.push(chunk));
        child.stderr.on('data', (chunk) => (errBytes += chunk.length));
        child.stdin.on('error', () => { }); // a command that ignores stdin and exits early is judged by its exit code
        child.on('error', (err) => reject(new errors_js_1.InputError(options.input, `could not be started (${err.code ?? err.name})`)));
        child.on('close', (code, sig) => {
            if (code === 0)
                return resolve(Buffer.concat(out));
            const how = sig
                ? `was stopped by ${sig}${sig === 'SIGTERM' ? ` (timeout ${options.timeoutMs / 1000} s?)` : ''}`
                : `exited with code ${code}`;
            reject(new errors_js_1.InputError(options.input, `${how}; nothing was signed or created. Its output is not shown (it may hold secrets: ${errBytes} bytes on stderr); run it by hand to see why.`));
        });
        child.stdin.end(stdin);
    });
}


/***/ }),

/***/ 9319:
/***/ ((__unused_webpack_module, exports, __webpack_require__) => {


Object.defineProperty(exports, "__esModule", ({ value: true }));
exports.createSigner = createSigner;
/** Which signer a step uses, as read from its inputs: exactly one of the three kinds. */
const command_signer_js_1 = __webpack_require__(6039);
const pkcs11_js_1 = __webpack_require__(2408);
const signer_js_1 = __webpack_require__(8915);
async function createSigner(config) {
    switch (config.kind) {
        case 'private-key':
            return (0, signer_js_1.privateKeySigner)(config.privateKey, config.input);
        case 'pkcs11':
            return (0, pkcs11_js_1.pkcs11Signer)(config);
        case 'command':
            return (0, command_signer_js_1.commandSigner)({ command: config.command, publicKey: config.publicKey });
    }
}


/***/ }),

/***/ 3869:
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
__exportStar(__webpack_require__(5349), exports);
__exportStar(__webpack_require__(8756), exports);
__exportStar(__webpack_require__(8915), exports);
__exportStar(__webpack_require__(6039), exports);
__exportStar(__webpack_require__(2408), exports);
__exportStar(__webpack_require__(8469), exports);
__exportStar(__webpack_require__(9319), exports);


/***/ }),

/***/ 5349:
/***/ ((__unused_webpack_module, exports, __webpack_require__) => {


Object.defineProperty(exports, "__esModule", ({ value: true }));
exports.ALGORITHM_NAMES = exports.MIN_RSA_BITS = void 0;
exports.parseSigningPublicKey = parseSigningPublicKey;
exports.fromKeyObject = fromKeyObject;
exports.sameKey = sameKey;
/**
 * Signing public keys of every type the registry accepts: Ed25519 (Peridio's only type), RSA ≥ 2048 bits
 * and ECDSA P-256 (this registry's documented extension), bare or inside an X.509 certificate chain.
 * Key ids: Ed25519 keeps Peridio's rule (SHA-256 of the raw 32 bytes) so existing keyids stay valid; the
 * others use the SHA-256 of the DER SubjectPublicKeyInfo, which any tool can recompute from the key.
 */
const node_crypto_1 = __webpack_require__(7598);
const errors_js_1 = __webpack_require__(7638);
const keys_js_1 = __webpack_require__(1589);
exports.MIN_RSA_BITS = 2048;
const CURVE_NAMES = {
    prime256v1: 'P-256',
    secp384r1: 'P-384',
    secp521r1: 'P-521',
    secp256k1: 'secp256k1',
};
/**
 * A public key from `value` text: Ed25519 as raw base64 or SPKI PEM, an RSA/EC SPKI PEM, or one or more
 * PEM certificates (leaf first). Errors name the input and say which types are accepted.
 */
function parseSigningPublicKey(value, inputName = 'value') {
    const text = value.trim();
    if (text.includes('-----BEGIN CERTIFICATE-----'))
        return fromCertificates(text, inputName);
    if (!text.includes('-----BEGIN') || isEd25519Pem(text))
        return ed25519Key((0, keys_js_1.parsePublicKey)(text, inputName));
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
    return fromKeyObject(key, inputName);
}
function isEd25519Pem(text) {
    try {
        return (0, node_crypto_1.createPublicKey)({ key: text, format: 'pem' }).asymmetricKeyType === 'ed25519';
    }
    catch {
        return false;
    }
}
function ed25519Key(raw) {
    return { algorithm: 'ed25519', keyid: (0, keys_js_1.keyIdOf)(raw), value: (0, keys_js_1.publicKeyValue)(raw), raw };
}
/** A KeyObject of an accepted type, or an InputError saying what it is and what is accepted. */
function fromKeyObject(key, inputName) {
    const type = key.asymmetricKeyType;
    if (type === 'ed25519') {
        const spki = key.export({ format: 'der', type: 'spki' });
        return ed25519Key((0, keys_js_1.parsePublicKey)(spki.subarray(12).toString('base64'), inputName));
    }
    const spki = key.export({ format: 'der', type: 'spki' });
    const keyid = (0, node_crypto_1.createHash)('sha256').update(spki).digest('hex');
    const value = key.export({ format: 'pem', type: 'spki' }).toString();
    if (type === 'rsa') {
        const bits = key.asymmetricKeyDetails?.modulusLength ?? 0;
        if (bits < exports.MIN_RSA_BITS) {
            throw new errors_js_1.InputError(inputName, `is an RSA key of ${bits} bits; RSA signing keys need at least ${exports.MIN_RSA_BITS} bits (openssl genpkey -algorithm rsa -pkeyopt rsa_keygen_bits:3072)`);
        }
        return { algorithm: 'rsa', keyid, value, key };
    }
    if (type === 'ec') {
        const curve = key.asymmetricKeyDetails?.namedCurve ?? 'unknown';
        if (curve !== 'prime256v1') {
            throw new errors_js_1.InputError(inputName, `is an EC key on ${CURVE_NAMES[curve] ?? curve}; only P-256 (prime256v1) is accepted for ECDSA, or use Ed25519`);
        }
        return { algorithm: 'ecdsa-p256', keyid, value, key };
    }
    throw new errors_js_1.InputError(inputName, `is a ${String(type).toUpperCase()} key; accepted are Ed25519, RSA (≥ ${exports.MIN_RSA_BITS} bits) and ECDSA P-256`);
}
function fromCertificates(text, inputName) {
    const blocks = text.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
    const certificates = blocks.map((pem, i) => {
        try {
            return new node_crypto_1.X509Certificate(pem);
        }
        catch (err) {
            throw new errors_js_1.InputError(inputName, `holds certificate #${i + 1} that cannot be parsed`, { cause: err });
        }
    });
    const leaf = certificates[0];
    const key = fromKeyObject(leaf.publicKey, inputName);
    return { ...key, value: certificates.map((c) => c.toString().trim()).join('\n') + '\n', certificates };
}
/** Two keys are the same key when their keyids are. */
function sameKey(a, b) {
    return a.keyid === b.keyid;
}
exports.ALGORITHM_NAMES = {
    ed25519: 'Ed25519',
    rsa: 'RSA',
    'ecdsa-p256': 'ECDSA P-256',
};


/***/ }),

/***/ 2408:
/***/ ((__unused_webpack_module, exports, __webpack_require__) => {


Object.defineProperty(exports, "__esModule", ({ value: true }));
exports.pkcs11Signer = pkcs11Signer;
/**
 * Signing with a key inside a PKCS#11 token through OpenSC's `pkcs11-tool`, run as a child process.
 * Why a child process and not a native binding: an action's bundled dist runs unchanged on every runner
 * (Linux x64/arm64, macOS, Windows), which a compiled addon does not; pkcs11-tool ships with OpenSC on all
 * of them (apt, brew, the Windows installer). The private key never leaves the token; the PIN reaches the
 * tool through its environment (`--pin env:VAR`), never its command line, so `ps` does not show it.
 */
const node_child_process_1 = __webpack_require__(1421);
const node_crypto_1 = __webpack_require__(7598);
const node_fs_1 = __webpack_require__(3024);
const promises_1 = __webpack_require__(1455);
const node_os_1 = __webpack_require__(8161);
const node_path_1 = __webpack_require__(6760);
const errors_js_1 = __webpack_require__(7638);
const keys_js_1 = __webpack_require__(5349);
const signer_js_1 = __webpack_require__(8915);
const verify_js_1 = __webpack_require__(8756);
const PIN_ENV = 'PERIDIO_PKCS11_PIN';
const TOOL_TIMEOUT_MS = 120_000;
async function pkcs11Signer(config) {
    if (!(0, node_fs_1.existsSync)(config.module) || !(0, node_fs_1.statSync)(config.module).isFile()) {
        throw new errors_js_1.InputError('pkcs11-module', `no file at ${config.module}; give the path of the token's PKCS#11 library (e.g. /usr/lib/softhsm/libsofthsm2.so)`);
    }
    const tool = config.tool ?? findTool();
    const base = ['--module', config.module, ...tokenArgs(config)];
    const listed = await run(tool, [...base, '--list-objects', '--type', 'pubkey'], config);
    const objects = parseObjects(listed.stdout);
    const keyInput = config.keyId !== undefined ? 'pkcs11-key-id' : 'pkcs11-key-label';
    const match = objects.find((o) => config.keyId !== undefined ? o.id === config.keyId.toLowerCase() : o.label === config.keyLabel);
    if (!match) {
        const names = objects.map((o) => `'${o.label ?? '(no label)'}'${o.id ? ` (id ${o.id})` : ''}`).join(', ');
        throw new errors_js_1.InputError(keyInput, `no public key ${config.keyId ?? `'${config.keyLabel}'`} on the token; it holds ${names || 'no public keys'}`);
    }
    if (!match.id) {
        // pkcs11-tool --sign selects the private key by CKA_ID only: with --label it takes the first key.
        throw new errors_js_1.InputError(keyInput, `key '${match.label}' has no CKA_ID, which pkcs11-tool needs to select it for signing; create it with --id`);
    }
    const publicKey = await readPublicKey(tool, base, match.id, config, keyInput);
    const what = `PKCS#11 ${keys_js_1.ALGORITHM_NAMES[publicKey.algorithm]} key ${match.label ? `'${match.label}'` : `id ${match.id}`}`;
    return {
        publicKey,
        input: keyInput,
        description: `${what} on ${config.tokenLabel ? `token '${config.tokenLabel}'` : `slot ${config.slot}`}`,
        secretForms: () => [config.pin],
        signHash: (hashHex) => signOnToken(tool, base, match.id, publicKey, hashHex, config),
    };
}
function tokenArgs(config) {
    if (config.tokenLabel !== undefined)
        return ['--token-label', config.tokenLabel];
    if (config.slot !== undefined)
        return ['--slot', config.slot];
    return [];
}
function findTool() {
    const candidates = process.platform === 'win32'
        ? ['C:\\Program Files\\OpenSC Project\\OpenSC\\tools\\pkcs11-tool.exe']
        : ['/usr/bin/pkcs11-tool', '/usr/local/bin/pkcs11-tool', '/opt/homebrew/bin/pkcs11-tool'];
    return candidates.find((c) => (0, node_fs_1.existsSync)(c)) ?? 'pkcs11-tool';
}
async function readPublicKey(tool, base, id, config, keyInput) {
    const dir = await (0, promises_1.mkdtemp)((0, node_path_1.join)((0, node_os_1.tmpdir)(), 'peridio-p11-'));
    try {
        const out = (0, node_path_1.join)(dir, 'pub');
        await run(tool, [...base, '--read-object', '--type', 'pubkey', '--id', id, '-o', out], config);
        const bytes = await (0, promises_1.readFile)(out);
        // pkcs11-tool writes RSA and EC keys as DER SPKI and EdDSA keys as PEM.
        const text = bytes.toString('latin1');
        const key = text.startsWith('-----BEGIN')
            ? (0, node_crypto_1.createPublicKey)({ key: text, format: 'pem' })
            : (0, node_crypto_1.createPublicKey)({ key: bytes, format: 'der', type: 'spki' });
        return (0, keys_js_1.fromKeyObject)(key, keyInput);
    }
    finally {
        await (0, promises_1.rm)(dir, { recursive: true, force: true });
    }
}
async function signOnToken(tool, base, id, publicKey, hashHex, config) {
    const message = (0, signer_js_1.messageFor)(publicKey.algorithm, hashHex);
    const mechanism = {
        ed25519: ['EDDSA'],
        rsa: ['RSA-PKCS'],
        'ecdsa-p256': ['ECDSA', '--signature-format', 'openssl'],
    }[publicKey.algorithm];
    // RSA-PKCS signs DigestInfo‖H as given: the same bytes as `openssl dgst -sha256 -sign`.
    const input = publicKey.algorithm === 'rsa' ? Buffer.concat([verify_js_1.SHA256_DIGEST_INFO, message]) : message;
    const dir = await (0, promises_1.mkdtemp)((0, node_path_1.join)((0, node_os_1.tmpdir)(), 'peridio-p11-'));
    try {
        const inFile = (0, node_path_1.join)(dir, 'in');
        const outFile = (0, node_path_1.join)(dir, 'sig');
        await (0, promises_1.writeFile)(inFile, input);
        await run(tool, [
            ...base,
            '--login',
            '--pin',
            `env:${PIN_ENV}`,
            '--sign',
            '--id',
            id,
            '--mechanism',
            ...mechanism,
            '-i',
            inFile,
            '-o',
            outFile,
        ], config);
        return (await (0, promises_1.readFile)(outFile)).toString('hex').toUpperCase();
    }
    finally {
        await (0, promises_1.rm)(dir, { recursive: true, force: true });
    }
}
async function run(tool, args, config) {
    const result = await new Promise((resolve, reject) => {
        const child = (0, node_child_process_1.spawn)(tool, args, {
            stdio: ['ignore', 'pipe', 'pipe'],
            env: { ...process.env, [PIN_ENV]: config.pin },
            // A token that stops answering (unplugged, waiting for a touch) must not hang the job.
            timeout: TOOL_TIMEOUT_MS,
        });
        let stdout = '';
        let stderr = '';
        child.stdout.on('data', (c) => (stdout += c.toString()));
        child.stderr.on('data', (c) => (stderr += c.toString()));
        child.on('error', (err) => reject(new errors_js_1.InputError('pkcs11-module', err.code === 'ENOENT'
            ? `needs OpenSC's pkcs11-tool, which is not installed (apt-get install opensc, brew install opensc, or the OpenSC installer on Windows)`
            : `pkcs11-tool could not be started (${err.code ?? err.message})`)));
        child.on('close', (code, signal) => resolve({
            code,
            stdout,
            stderr: signal
                ? `${stderr}\nerror: pkcs11-tool was stopped by ${signal} (no answer within ${TOOL_TIMEOUT_MS / 1000} s)`
                : stderr,
        }));
    });
    if (result.code !== 0)
        throw toolError(result, config);
    return result;
}
/** pkcs11-tool's messages mapped to the input that is wrong; its text never carries the PIN (it is in env). */
function toolError(result, config) {
    const text = `${result.stderr}\n${result.stdout}`.split(config.pin).join('***');
    const line = text
        .split('\n')
        .find((l) => /error|failed|not found|No slot/i.test(l))
        ?.trim() ?? `exit code ${result.code}`;
    if (/CKR_PIN_INCORRECT/.test(text))
        return new errors_js_1.InputError('pkcs11-pin', 'the token refused the PIN (CKR_PIN_INCORRECT); a few more wrong tries lock it');
    if (/CKR_PIN_LOCKED/.test(text))
        return new errors_js_1.InputError('pkcs11-pin', 'the token is locked after too many wrong PINs (CKR_PIN_LOCKED); unlock it with the SO PIN');
    if (/CKR_PIN_LEN_RANGE|CKR_PIN_INVALID/.test(text))
        return new errors_js_1.InputError('pkcs11-pin', `is not a valid PIN for this token (${line})`);
    if (/Failed to load pkcs11 module|sc_dlopen|C_GetFunctionList/.test(text)) {
        return new errors_js_1.InputError('pkcs11-module', `${config.module} is not a PKCS#11 library pkcs11-tool can load (${line})`);
    }
    if (/No slot with token|token not present|No slot with/i.test(text)) {
        return config.tokenLabel !== undefined
            ? new errors_js_1.InputError('pkcs11-token-label', `no token labelled '${config.tokenLabel}' is present (${line}); pkcs11-tool --module ${config.module} -L lists them`)
            : new errors_js_1.InputError('pkcs11-slot', `no token in slot ${config.slot} (${line}); pkcs11-tool --module ${config.module} -L lists them`);
    }
    if (/object not found/.test(text))
        return new errors_js_1.InputError(config.keyId !== undefined ? 'pkcs11-key-id' : 'pkcs11-key-label', `the key is not on the token (${line})`);
    return new errors_js_1.InputError('pkcs11-module', `pkcs11-tool failed: ${line}`);
}
/** Blocks of `pkcs11-tool --list-objects` output: "Public Key Object; …" followed by indented fields. */
function parseObjects(listing) {
    const objects = [];
    for (const line of listing.split(/\r?\n/)) {
        if (/^\S.*Object;/.test(line))
            objects.push({});
        const current = objects.at(-1);
        if (!current)
            continue;
        const label = /^\s+label:\s+(.*)$/.exec(line);
        if (label)
            current.label = label[1].trim();
        const id = /^\s+ID:\s+([0-9a-fA-F]+)\s*$/.exec(line);
        if (id)
            current.id = id[1].toLowerCase();
    }
    return objects;
}


/***/ }),

/***/ 8915:
/***/ ((__unused_webpack_module, exports, __webpack_require__) => {


Object.defineProperty(exports, "__esModule", ({ value: true }));
exports.messageFor = messageFor;
exports.privateKeySigner = privateKeySigner;
exports.ed25519Signer = ed25519Signer;
exports.asSigner = asSigner;
exports.proveSigner = proveSigner;
/**
 * A Signer signs a binary's SHA-256 with a key the caller may never see (a PKCS#11 token, an external
 * command) or with a private key from a secret. Every signer is proven before anything is created: it
 * signs a probe hash and the signature must verify against the signer's own public key.
 */
const node_crypto_1 = __webpack_require__(7598);
const nist_js_1 = __webpack_require__(3410);
const errors_js_1 = __webpack_require__(7638);
const keys_js_1 = __webpack_require__(1589);
const keys_js_2 = __webpack_require__(5349);
const verify_js_1 = __webpack_require__(8756);
/**
 * What a key signs for a content hash: Ed25519 the 64 ASCII hex characters (Peridio's CLI); RSA and
 * ECDSA the 32-byte digest, which a tool signs with `openssl pkeyutl -sign -pkeyopt digest:sha256`.
 */
function messageFor(algorithm, hashHex) {
    return algorithm === 'ed25519' ? Buffer.from(hashHex.toLowerCase(), 'ascii') : Buffer.from(hashHex, 'hex');
}
/** A private key from a secret: Ed25519 (PEM, base64, raw seed), RSA ≥ 2048 or ECDSA P-256 PEM. */
function privateKeySigner(input, inputName = 'signing-key-private') {
    const pem = pemOf(input);
    let key;
    if (pem) {
        try {
            key = (0, node_crypto_1.createPrivateKey)({ key: pem, format: 'pem' });
        }
        catch {
            key = undefined; // parsePrivateKey below names what is wrong with it
        }
    }
    if (!key || key.asymmetricKeyType === 'ed25519')
        return ed25519Signer((0, keys_js_1.parsePrivateKey)(input, inputName), inputName);
    const publicKey = (0, keys_js_2.fromKeyObject)((0, node_crypto_1.createPublicKey)(key), inputName);
    const forms = [input.trim(), pem];
    return {
        publicKey,
        input: inputName,
        description: `${keys_js_2.ALGORITHM_NAMES[publicKey.algorithm]} key from ${inputName}`,
        signHash: async (hashHex) => signDigestLocally(key, publicKey, hashHex),
        secretForms: () => forms,
    };
}
/** An Ed25519 key pair (parsePrivateKey) as a Signer. */
function ed25519Signer(pair, inputName = 'signing-key-private') {
    const spki = Buffer.concat([Buffer.from('302a300506032b6570032100', 'hex'), pair.publicKey]);
    return {
        publicKey: (0, keys_js_2.fromKeyObject)((0, node_crypto_1.createPublicKey)({ key: spki, format: 'der', type: 'spki' }), inputName),
        input: inputName,
        description: `Ed25519 key from ${inputName}`,
        signHash: async (hashHex) => (0, keys_js_1.signHash)(hashHex, pair),
        secretForms: () => pair.secretForms(),
    };
}
/** Callers may still pass an Ed25519KeyPair where a Signer is expected. */
function asSigner(key) {
    return 'signHash' in key ? key : ed25519Signer(key);
}
function pemOf(input) {
    const text = input.trim();
    if (text.startsWith('-----BEGIN'))
        return text;
    if (!/^[A-Za-z0-9+/=\s]+$/.test(text))
        return undefined;
    const decoded = Buffer.from(text.replace(/\s+/g, ''), 'base64').toString('latin1').trim();
    return decoded.startsWith('-----BEGIN') ? decoded : undefined;
}
function signDigestLocally(key, publicKey, hashHex) {
    const digest = Buffer.from(hashHex, 'hex');
    if (publicKey.algorithm === 'rsa') {
        // PKCS#1 v1.5 over DigestInfo‖H: byte for byte what `openssl dgst -sha256 -sign` writes.
        const signature = (0, node_crypto_1.privateEncrypt)({ key, padding: node_crypto_1.constants.RSA_PKCS1_PADDING }, Buffer.concat([verify_js_1.SHA256_DIGEST_INFO, digest]));
        return signature.toString('hex').toUpperCase();
    }
    const d = Buffer.from(key.export({ format: 'jwk' }).d, 'base64url');
    const signature = nist_js_1.p256.sign(digest, d, { prehash: false, format: 'der' });
    return Buffer.from(signature).toString('hex').toUpperCase();
}
/** A hash no binary has (SHA-256 of "peridio-actions signer probe"), signed to prove a signer works. */
const PROBE_HASH = '4e0b0ef0c4a4c7d6cbd2d6c4a0f5f2ea3ad0f5a9d0b3c4d7e2f1a0b9c8d7e6f5';
/**
 * Signs a probe and verifies it against the signer's public key; an InputError naming the signer's input
 * when it fails, so a broken signer stops the run before anything is created.
 */
async function proveSigner(signer, signal) {
    const signature = await signer.signHash(PROBE_HASH, signal);
    if (!(0, verify_js_1.verifySignature)(PROBE_HASH, Buffer.from(signature, 'hex'), signer.publicKey)) {
        throw new errors_js_1.InputError(signer.input, `${signer.description} made a signature that does not verify against its public key ` +
            `(keyid ${signer.publicKey.keyid}); check that the key and the public key belong together. Nothing was created.`);
    }
}


/***/ }),

/***/ 8756:
/***/ ((__unused_webpack_module, exports, __webpack_require__) => {


Object.defineProperty(exports, "__esModule", ({ value: true }));
exports.SHA256_DIGEST_INFO = void 0;
exports.decodeSignature = decodeSignature;
exports.verifySignature = verifySignature;
/**
 * Verifying a binary signature of any accepted key type against the content's SHA-256.
 * Ed25519 signs the 64 ASCII hex characters of the hash (Peridio's CLI), or the raw digest when allowed.
 * RSA (PKCS#1 v1.5 or PSS) and ECDSA sign the SHA-256 digest of the content, exactly as
 * `openssl dgst -sha256 -sign key.pem file` does, so only the digest is needed here.
 */
const node_crypto_1 = __webpack_require__(7598);
const nist_js_1 = __webpack_require__(3410);
const keys_js_1 = __webpack_require__(1589);
const HASH_HEX = /^[0-9a-fA-F]{64}$/;
/** DER DigestInfo prefix of SHA-256 (RFC 8017 §9.2 note 1). */
exports.SHA256_DIGEST_INFO = Buffer.from('3031300d060960864801650304020105000420', 'hex');
/** Hex (either case) or base64 (standard or URL-safe) signature bytes, or undefined if neither. */
function decodeSignature(text) {
    const compact = text.trim();
    if (/^(?:[0-9a-fA-F]{2})+$/.test(compact))
        return Buffer.from(compact, 'hex');
    const b64 = compact.replace(/\s+/g, '');
    if (/^[A-Za-z0-9+/_-]+={0,2}$/.test(b64) && b64.replace(/=+$/, '').length % 4 !== 1) {
        return Buffer.from(b64.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
    }
    return undefined;
}
function verifySignature(hashHex, signature, key, options = {}) {
    if (!HASH_HEX.test(hashHex))
        return false;
    const digest = Buffer.from(hashHex, 'hex');
    switch (key.algorithm) {
        case 'ed25519':
            return (signature.length === 64 &&
                (0, keys_js_1.verifyHashSignature)(hashHex, Buffer.from(signature).toString('hex'), key.raw, options));
        case 'rsa':
            return verifyRsa(digest, Buffer.from(signature), key.key);
        case 'ecdsa-p256':
            return verifyEcdsa(digest, signature, key.key);
    }
}
function verifyRsa(digest, signature, key) {
    const bits = key.asymmetricKeyDetails?.modulusLength ?? 0;
    const emLen = Math.ceil(bits / 8);
    if (signature.length !== emLen)
        return false;
    let em;
    try {
        em = (0, node_crypto_1.publicDecrypt)({ key, padding: node_crypto_1.constants.RSA_NO_PADDING }, signature);
    }
    catch {
        return false; // e.g. the signature as a number is not below the modulus
    }
    return pkcs1v15Matches(em, digest) || pssMatches(em, digest, bits - 1);
}
/** EMSA-PKCS1-v1_5: 00 01 FF…FF 00 DigestInfo H, compared as a whole. */
function pkcs1v15Matches(em, digest) {
    const t = Buffer.concat([exports.SHA256_DIGEST_INFO, digest]);
    const expected = Buffer.concat([
        Buffer.from([0, 1]),
        Buffer.alloc(em.length - t.length - 3, 0xff),
        Buffer.from([0]),
        t,
    ]);
    return expected.equals(em);
}
/** EMSA-PSS-VERIFY (RFC 8017 §9.1.2) with SHA-256 and MGF1-SHA-256, any salt length. */
function pssMatches(em, digest, emBits) {
    const hLen = 32;
    const emLen = Math.ceil(emBits / 8);
    // The decrypted block has the modulus length; a leading zero byte is outside EM when emBits % 8 == 0.
    const block = em.length > emLen ? em.subarray(em.length - emLen) : em;
    if (em.length > emLen && em[0] !== 0)
        return false;
    if (emLen < hLen + 2 || block[emLen - 1] !== 0xbc)
        return false;
    const maskedDb = block.subarray(0, emLen - hLen - 1);
    const h = block.subarray(emLen - hLen - 1, emLen - 1);
    const zeroBits = 8 * emLen - emBits;
    if (zeroBits > 0 && maskedDb[0] >> (8 - zeroBits) !== 0)
        return false;
    const db = mgf1(h, maskedDb.length).map((b, i) => b ^ maskedDb[i]);
    if (zeroBits > 0)
        db[0] &= 0xff >> zeroBits;
    const one = db.indexOf(1);
    if (one < 0 || db.subarray(0, one).some((b) => b !== 0))
        return false;
    const salt = db.subarray(one + 1);
    const mPrime = Buffer.concat([Buffer.alloc(8), digest, salt]);
    return (0, node_crypto_1.createHash)('sha256').update(mPrime).digest().equals(h);
}
function mgf1(seed, length) {
    const out = [];
    for (let counter = 0; out.length * 32 < length; counter++) {
        const c = Buffer.alloc(4);
        c.writeUInt32BE(counter);
        out.push((0, node_crypto_1.createHash)('sha256').update(seed).update(c).digest());
    }
    return Buffer.concat(out).subarray(0, length);
}
/** DER (what openssl writes) or the 64-byte r‖s form (what PKCS#11 tokens return). */
function verifyEcdsa(digest, signature, key) {
    const jwk = key.export({ format: 'jwk' });
    const point = Buffer.concat([
        Buffer.from([4]),
        Buffer.from(jwk.x, 'base64url'),
        Buffer.from(jwk.y, 'base64url'),
    ]);
    const format = signature.length === 64 ? 'compact' : 'der';
    try {
        return nist_js_1.p256.verify(signature, digest, point, { prehash: false, lowS: false, format });
    }
    catch {
        return false;
    }
}


/***/ }),

/***/ 8469:
/***/ ((__unused_webpack_module, exports, __webpack_require__) => {


Object.defineProperty(exports, "__esModule", ({ value: true }));
exports.certificateValidityProblem = certificateValidityProblem;
exports.chainProblem = chainProblem;
exports.parseCertificates = parseCertificates;
/**
 * Certificates as signing keys: the leaf's validity period bounds when it may sign, and with trusted CAs
 * configured the chain in the value (leaf first, then intermediates) must end at one of them.
 */
const node_crypto_1 = __webpack_require__(7598);
/** Undefined when the key may sign at `at`, else why not (with the date). Bare keys always may. */
function certificateValidityProblem(key, at = new Date()) {
    const leaf = key.certificates?.[0];
    if (!leaf)
        return undefined;
    const from = new Date(leaf.validFrom);
    const to = new Date(leaf.validTo);
    if (at.getTime() > to.getTime())
        return `its certificate expired on ${to.toISOString()} (notAfter)`;
    if (at.getTime() < from.getTime())
        return `its certificate is not valid before ${from.toISOString()} (notBefore)`;
    return undefined;
}
/**
 * Undefined when the certificate chain leads to one of `trusted` (or the key is bare), else why not. Each certificate must be
 * issued and signed by the next; the last one by a trusted CA (or be one).
 */
function chainProblem(key, trusted) {
    if (trusted.length === 0)
        return undefined;
    const chain = key.certificates;
    // Bare keys stay accepted: the CAs constrain certificates, and Peridio's own keys are bare Ed25519.
    if (!chain?.length)
        return undefined;
    for (let i = 0; i + 1 < chain.length; i++) {
        if (!issued(chain[i], chain[i + 1])) {
            return `certificate #${i + 1} (${chain[i].subject.replace(/\n/g, ', ')}) is not issued by certificate #${i + 2} in the chain`;
        }
    }
    const top = chain.at(-1);
    if (trusted.some((ca) => ca.fingerprint256 === top.fingerprint256 || issued(top, ca)))
        return undefined;
    return `is not issued by a trusted CA of this registry (issuer: ${top.issuer.replace(/\n/g, ', ')})`;
}
function issued(child, parent) {
    return child.checkIssued(parent) && child.verify(parent.publicKey);
}
/** One or more PEM certificates from a CA file. */
function parseCertificates(pem) {
    const blocks = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
    return blocks.map((b) => new node_crypto_1.X509Certificate(b));
}


/***/ }),

/***/ 6968:
/***/ ((__unused_webpack_module, exports) => {


Object.defineProperty(exports, "__esModule", ({ value: true }));
exports.BINARY_PART_STATES = exports.BINARY_STATES = void 0;
exports.BINARY_STATES = [
    'uploadable',
    'hashable',
    'hashing',
    'signable',
    'signed',
    'destroyed',
];
exports.BINARY_PART_STATES = [
    'uploadable',
    'invalid_size',
    'invalid_hash',
    'valid',
];


/***/ }),

/***/ 8109:
/***/ ((__unused_webpack_module, exports, __webpack_require__) => {


Object.defineProperty(exports, "__esModule", ({ value: true }));
exports.isSemver = isSemver;
exports.tagFromRef = tagFromRef;
exports.normalizeVersion = normalizeVersion;
exports.versionFromRef = versionFromRef;
exports.validateVersion = validateVersion;
const errors_js_1 = __webpack_require__(7638);
/** semver.org's recommended regex: pre-release and build metadata are kept, leading zeros refused. */
const SEMVER = /^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$/;
/** Strict SemVer, for what needs it (a Peridio release); artifact versions themselves are free-form. */
function isSemver(v) {
    return SEMVER.test(v);
}
/**
 * The tag a git ref names: `refs/tags/v1.2` (or the bare tag) → `v1.2`. A branch or pull-request ref is
 * refused rather than guessed, since a published version cannot be renamed.
 */
function tagFromRef(ref) {
    const value = ref?.trim() ?? '';
    if (!value) {
        throw new errors_js_1.InputError('version', 'no git ref to derive it from; pass `version` explicitly');
    }
    if (!value.startsWith('refs/'))
        return value;
    if (!value.startsWith('refs/tags/')) {
        throw new errors_js_1.InputError('version', `the workflow ran for ${value}, which is not a tag; pass \`version\` explicitly or run on a tag like v1.2.3`);
    }
    return value.slice('refs/tags/'.length);
}
/**
 * One rule for a version given explicitly and one taken from a tag: a leading `v` before a digit is
 * dropped (`v1.2` → `1.2`, `v2024.06.1` → `2024.06.1`), so jobs that mix the two agree on one version.
 * `stripped` is the original when the `v` was dropped, for the notice that says so.
 */
function normalizeVersion(raw) {
    const version = validateVersion(/^v\d/.test(raw) ? raw.slice(1) : raw);
    return version === raw ? { version } : { version, stripped: raw };
}
/** The artifact version of a git ref: `refs/tags/v1.2.3` → `1.2.3`; any tag is a valid version. */
function versionFromRef(ref) {
    return normalizeVersion(tagFromRef(ref)).version;
}
/** Any registry version string: 1..128 characters, no control characters or surrounding spaces. */
function validateVersion(v) {
    if (v.length === 0)
        throw new errors_js_1.InputError('version', 'must not be empty');
    if (v.length > 128)
        throw new errors_js_1.InputError('version', `must be at most 128 characters, got ${v.length}`);
    if ([...v].some((c) => c <= '\u001f' || c === '\u007f'))
        throw new errors_js_1.InputError('version', 'must not contain control characters');
    if (v.trim() !== v)
        throw new errors_js_1.InputError('version', 'must not start or end with whitespace');
    return v;
}


/***/ }),

/***/ 927:
/***/ ((__unused_webpack_module, exports) => {


Object.defineProperty(exports, "__esModule", ({ value: true }));
exports.TooLarge = void 0;
/** The body was longer than the part may be. */
class TooLarge extends Error {
    maxBytes;
    constructor(maxBytes) {
        super(`body larger than ${maxBytes} bytes`);
        this.maxBytes = maxBytes;
    }
}
exports.TooLarge = TooLarge;


/***/ }),

/***/ 913:
/***/ ((__unused_webpack_module, exports, __webpack_require__) => {


Object.defineProperty(exports, "__esModule", ({ value: true }));
exports.LocalBlobStore = void 0;
const node_crypto_1 = __webpack_require__(7598);
const node_fs_1 = __webpack_require__(3024);
const promises_1 = __webpack_require__(1455);
const node_path_1 = __webpack_require__(6760);
const node_stream_1 = __webpack_require__(7075);
const promises_2 = __webpack_require__(6466);
const blob_store_js_1 = __webpack_require__(927);
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const SHA256 = /^[0-9a-f]{64}$/;
const PART_FILE = /^\d{1,5}-[0-9a-f]{64}$/;
/**
 * Content in a directory. Parts live under parts/<binary-uuid>/<index>-<sha256>: the name carries the hash
 * of its bytes, so a name can never stand for other bytes. A blob is blobs/<aa>/<sha256>/ holding hard
 * links to the parts as segments 1..N: identical content is stored once, and assembling copies nothing.
 * Everything is written under tmp/ first, fsynced, then renamed into place; deletion renames out of place
 * first, so a crash leaves a blob whole or gone, never half-deleted.
 */
class LocalBlobStore {
    partsDir;
    blobsDir;
    tmpDir;
    constructor(dataDir) {
        this.partsDir = (0, node_path_1.join)(dataDir, 'parts');
        this.blobsDir = (0, node_path_1.join)(dataDir, 'blobs');
        this.tmpDir = (0, node_path_1.join)(dataDir, 'tmp');
    }
    static async open(dataDir) {
        const store = new LocalBlobStore(dataDir);
        for (const dir of [store.partsDir, store.blobsDir])
            await (0, promises_1.mkdir)(dir, { recursive: true });
        // Leftovers of uploads, assemblies or deletions interrupted by a crash: never referenced.
        await (0, promises_1.rm)(store.tmpDir, { recursive: true, force: true });
        await (0, promises_1.mkdir)(store.tmpDir, { recursive: true });
        return store;
    }
    tmpPath() {
        return (0, node_path_1.join)(this.tmpDir, (0, node_crypto_1.randomUUID)());
    }
    partDir(binaryId) {
        if (!UUID.test(binaryId))
            throw new Error('invalid binary id');
        return (0, node_path_1.join)(this.partsDir, binaryId);
    }
    partPath(binaryId, file) {
        if (!PART_FILE.test(file))
            throw new Error('invalid part file name');
        return (0, node_path_1.join)(this.partDir(binaryId), file);
    }
    blobPath(sha256) {
        if (!SHA256.test(sha256))
            throw new Error('invalid blob hash');
        return (0, node_path_1.join)(this.blobsDir, sha256.slice(0, 2), sha256);
    }
    async stagePart(body, maxBytes) {
        const tmp = this.tmpPath();
        const hash = (0, node_crypto_1.createHash)('sha256');
        let bytes = 0;
        const meter = new node_stream_1.Transform({
            transform(chunk, _encoding, callback) {
                bytes += chunk.length;
                if (bytes > maxBytes)
                    return callback(new blob_store_js_1.TooLarge(maxBytes));
                hash.update(chunk);
                callback(null, chunk);
            },
        });
        try {
            // `flush` fsyncs the file before it is closed: the bytes are durable before any rename.
            await (0, promises_2.pipeline)(body, meter, (0, node_fs_1.createWriteStream)(tmp, { flags: 'wx', flush: true }));
        }
        catch (err) {
            await (0, promises_1.rm)(tmp, { force: true });
            throw err;
        }
        const sha256 = hash.digest();
        return {
            bytes,
            sha256,
            commit: async (binaryId, index) => {
                const file = `${index}-${sha256.toString('hex')}`;
                await (0, promises_1.mkdir)(this.partDir(binaryId), { recursive: true });
                await (0, promises_1.rename)(tmp, this.partPath(binaryId, file));
                await fsyncDir(this.partDir(binaryId));
                return file;
            },
            discard: () => (0, promises_1.rm)(tmp, { force: true }),
        };
    }
    async *readPart(binaryId, file, signal) {
        const stream = (0, node_fs_1.createReadStream)(this.partPath(binaryId, file), { signal, highWaterMark: 1024 * 1024 });
        for await (const chunk of stream)
            yield chunk;
    }
    async partVersion(binaryId, file) {
        try {
            const info = await (0, promises_1.stat)(this.partPath(binaryId, file), { bigint: true });
            return `${info.dev}:${info.ino}:${info.size}:${info.mtimeNs}:${info.ctimeNs}`;
        }
        catch {
            return undefined;
        }
    }
    async removePart(binaryId, file) {
        await (0, promises_1.rm)(this.partPath(binaryId, file), { force: true });
    }
    async removeParts(binaryId) {
        await (0, promises_1.rm)(this.partDir(binaryId), { recursive: true, force: true });
    }
    async partOwners() {
        return (await (0, promises_1.readdir)(this.partsDir)).filter((name) => UUID.test(name));
    }
    async assembleBlob(sha256, size, binaryId, files) {
        const target = this.blobPath(sha256);
        const existing = await this.statBlob(sha256);
        if (existing?.size === size)
            return; // the same content is stored already: that is the deduplication
        const staging = this.tmpPath();
        await (0, promises_1.mkdir)(staging);
        for (const [i, file] of files.entries())
            await (0, promises_1.link)(this.partPath(binaryId, file), (0, node_path_1.join)(staging, String(i + 1)));
        await fsyncDir(staging);
        await (0, promises_1.mkdir)((0, node_path_1.join)(this.blobsDir, sha256.slice(0, 2)), { recursive: true });
        // A blob of the wrong size (what a crash or a tampering process left) is moved aside, then replaced.
        if (existing)
            await this.removeBlob(sha256);
        await (0, promises_1.rename)(staging, target);
        await fsyncDir((0, node_path_1.join)(this.blobsDir, sha256.slice(0, 2)));
    }
    async segments(sha256) {
        const dir = this.blobPath(sha256);
        let names;
        try {
            names = await (0, promises_1.readdir)(dir);
        }
        catch {
            return undefined;
        }
        const ordered = names.filter((n) => /^\d+$/.test(n)).sort((a, b) => Number(a) - Number(b));
        return Promise.all(ordered.map(async (name) => ({ path: (0, node_path_1.join)(dir, name), size: (await (0, promises_1.stat)((0, node_path_1.join)(dir, name))).size })));
    }
    async statBlob(sha256) {
        const segments = await this.segments(sha256);
        return segments && { size: segments.reduce((sum, s) => sum + s.size, 0) };
    }
    async *readBlob(sha256, start, end) {
        let offset = 0;
        for (const segment of (await this.segments(sha256)) ?? []) {
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
    async removeBlob(sha256) {
        const aside = this.tmpPath();
        try {
            await (0, promises_1.rename)(this.blobPath(sha256), aside);
        }
        catch (err) {
            if (err.code === 'ENOENT')
                return;
            throw err;
        }
        await fsyncDir((0, node_path_1.join)(this.blobsDir, sha256.slice(0, 2)));
        await (0, promises_1.rm)(aside, { recursive: true, force: true });
    }
}
exports.LocalBlobStore = LocalBlobStore;
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

/***/ 1467:
/***/ ((__unused_webpack_module, exports, __webpack_require__) => {


Object.defineProperty(exports, "__esModule", ({ value: true }));
exports.stderrLogger = stderrLogger;
exports.runCli = runCli;
const node_fs_1 = __webpack_require__(3024);
const node_path_1 = __webpack_require__(6760);
const node_util_1 = __webpack_require__(7975);
const base_1 = __webpack_require__(2444);
const secrets_js_1 = __webpack_require__(2196);
const server_js_1 = __webpack_require__(8002);
// `npx peridio-registry` is what works from a clone (it puts the Node 24 of `npm ci` on PATH first).
const USAGE = `Usage: npx peridio-registry serve [--host 127.0.0.1] [--port 4000] [--data-dir .peridio-registry]
                                  [--public-url URL] [--presign-ttl SECONDS] [--idle-timeout SECONDS]
                                  [--body-timeout SECONDS] [--max-connections N] [--signing-ca FILE]...

A self-hosted registry speaking the binary-management subset of Peridio's Admin API.
  --signing-ca FILE  (repeatable) PEM CA certificates; a certificate signing key must be issued by one
  --idle-timeout     close a connection silent this long, also mid-upload (default 60)
  --body-timeout     a JSON request body must arrive within this (default 30)
  --max-connections  refuse connections beyond this many (default 256)
Files and directories it creates are readable by the owner only (0600/0700).
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
/** A mistake on the command line: the usage helps. */
function fail(message) {
    process.stderr.write(`peridio-registry: ${message}\n${USAGE}\n`);
    process.exit(2);
}
/** The command line was right and something at run time went wrong: the usage would only bury the reason. */
function runtimeFail(message) {
    process.stderr.write(`peridio-registry: ${message}\n`);
    process.exit(1);
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
                'signing-ca': { type: 'string', multiple: true, default: [] },
                'idle-timeout': { type: 'string', default: '60' },
                'body-timeout': { type: 'string', default: '30' },
                'max-connections': { type: 'string', default: '256' },
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
    const idleTimeoutMs = integer(values['idle-timeout'], 'idle-timeout', 1, 24 * 3600) * 1000;
    const bodyTimeoutMs = integer(values['body-timeout'], 'body-timeout', 1, 24 * 3600) * 1000;
    const maxConnections = integer(values['max-connections'], 'max-connections', 1, 1_000_000);
    const dataDir = (0, node_path_1.resolve)(values['data-dir']);
    // The database, content and secrets are created owner-only; SQLite and the content store obey the umask.
    process.umask(0o077);
    const hashingDelayMs = Number(process.env.PERIDIO_REGISTRY_HASHING_DELAY_MS ?? 0) || 0;
    (0, node_fs_1.mkdirSync)(dataDir, { recursive: true, mode: 0o700 });
    const envKey = process.env.PERIDIO_REGISTRY_API_KEY?.trim();
    // A key generated by a start that then cannot listen is forgotten again, so the start that does listen
    // generates (and prints) one: otherwise the only print would be lost with the failed start.
    const keyFileExisted = (0, node_fs_1.existsSync)((0, node_path_1.join)(dataDir, 'api-key'));
    const stored = envKey ? undefined : (0, secrets_js_1.loadApiKey)(dataDir);
    const apiKey = envKey || stored.apiKey;
    const logger = stderrLogger(process.env.PERIDIO_REGISTRY_DEBUG === '1');
    const signingCas = values['signing-ca'].flatMap((file) => {
        let certs;
        try {
            certs = (0, base_1.parseCertificates)((0, node_fs_1.readFileSync)(file, 'utf8'));
        }
        catch (err) {
            fail(`--signing-ca ${file}: ${err.message}`);
        }
        if (certs.length === 0)
            fail(`--signing-ca ${file} holds no PEM certificate`);
        return certs;
    });
    let registry;
    try {
        registry = await (0, server_js_1.createRegistry)({
            dataDir,
            apiKey,
            publicUrl,
            presignTtlSeconds,
            hashingDelayMs,
            signingCas,
            idleTimeoutMs,
            bodyTimeoutMs,
            maxConnections,
            logger,
        });
    }
    catch (err) {
        if (stored?.generated && !keyFileExisted)
            (0, node_fs_1.rmSync)(stored.path, { force: true });
        runtimeFail(`cannot start: ${err.message}`);
    }
    let address;
    try {
        address = await registry.listen(port, values.host);
    }
    catch (err) {
        await registry.close();
        if (stored?.generated && !keyFileExisted)
            (0, node_fs_1.rmSync)(stored.path, { force: true });
        runtimeFail(`cannot listen on ${values.host}:${port}: ${err.message}`);
    }
    // Handlers first: whoever reads the listening line may signal at once.
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
    if (stored?.generated)
        process.stdout.write(`peridio-registry api key: ${apiKey} (stored in ${stored.path})\n`);
    process.stdout.write(`peridio-registry listening on ${address.url}\n`);
    logger.info(`data dir ${dataDir}; organization prn:1:${registry.context.org}`);
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
const base_1 = __webpack_require__(2444);
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
    // NUL is refused even where control characters are allowed: SQLite text ends at it, so it would not read back.
    if (value.includes('\u0000'))
        throw (0, http_js_1.fieldError)(key, 'must not contain NUL (\\u0000) characters');
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
    const prn = (0, base_1.parsePrn)(value);
    if (!prn || prn.type !== type || !prn.id || prn.org.toLowerCase() !== ctx.org)
        throw (0, http_js_1.notFound)();
    return prn.id.toLowerCase();
}
/** The record id named by a PRN in a body field: malformed → 422; another organization → 404. */
function idFromBodyPrn(ctx, body, key, type) {
    if (!given(body, key))
        return undefined;
    const value = body[key];
    const prn = typeof value === 'string' ? (0, base_1.parsePrn)(value) : undefined;
    if (!prn || prn.type !== type || !prn.id)
        throw (0, http_js_1.fieldError)(key, `is invalid: must be ${/^[aeiou]/.test(type) ? 'an' : 'a'} ${type} PRN`);
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
const promises_1 = __webpack_require__(8500);
const janitor_js_1 = __webpack_require__(4664);
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
    async requeueInterrupted() {
        for (const id of await this.ctx.store.binaries.idsInState('hashing'))
            this.enqueue(id);
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
        const binary = await (0, lifecycle_js_1.findBinary)(ctx, binaryId);
        if (!binary || binary.state !== 'hashing')
            return;
        const generation = binary.upload_generation;
        const parts = await ctx.store.parts.list(binaryId);
        let failure = (0, lifecycle_js_1.incompleteReason)(binary, parts);
        let digest = '';
        if (!failure) {
            const hash = (0, node_crypto_1.createHash)('sha256');
            let total = 0;
            try {
                const kept = await this.prefixes.digestOf(binaryId, parts.map((p) => p.file ?? ''));
                for (const part of kept ? [] : parts) {
                    for await (const chunk of ctx.blobs.readPart(binaryId, part.file ?? '', this.abort.signal)) {
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
        // Under the binary's lock from here: the binary may have been reset while we read; then this result is stale.
        await ctx.locks.run((0, janitor_js_1.binaryLock)(binaryId), async () => {
            const current = await (0, lifecycle_js_1.findBinary)(ctx, binaryId);
            if (!current || current.state !== 'hashing' || current.upload_generation !== generation)
                return;
            if (failure) {
                ctx.logger.warning(`binary ${binaryId}: server-side hash check failed, back to uploadable: ${failure}`);
                await ctx.store.transaction((tx) => (0, lifecycle_js_1.resetToUploadable)(tx, current, `server-side hash check failed: ${failure}`));
                await ctx.janitor.sweep();
                return;
            }
            const files = parts.map((p) => p.file);
            // Under the blob's lock: the janitor cannot delete a blob between its re-use here and the record naming it.
            await ctx.locks.run((0, janitor_js_1.blobLock)(digest), async () => {
                await ctx.blobs.assembleBlob(digest, binary.size, binaryId, files);
                const change = { to: 'signable', generation, blobHash: digest };
                if (await ctx.store.binaries.transition(binaryId, change, (0, time_js_1.nowTimestamp)()))
                    return;
                // Cannot happen while the lock is held; if it did, the blob must not outlive its last reference.
                await ctx.store.contentGarbage.add({ kind: 'blob', blobHash: digest }, (0, time_js_1.nowTimestamp)());
            });
            await ctx.janitor.sweep();
            // The blob holds its own links to the bytes; the part files are no longer needed.
            await ctx.blobs.removeParts(binaryId);
            ctx.logger.info(`binary ${binaryId}: content verified (${binary.size} bytes), signable`);
        });
    }
}
exports.Hasher = Hasher;


/***/ }),

/***/ 7969:
/***/ ((__unused_webpack_module, exports) => {


Object.defineProperty(exports, "__esModule", ({ value: true }));
exports.MAX_JSON_VALUES = exports.MAX_JSON_DEPTH = exports.MAX_JSON_BODY_BYTES = exports.HttpError = void 0;
exports.detailError = detailError;
exports.fieldError = fieldError;
exports.notFound = notFound;
exports.sendJson = sendJson;
exports.stringifyJson = stringifyJson;
exports.checkJsonShape = checkJsonShape;
exports.setBodyTimeout = setBodyTimeout;
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
    const text = stringifyJson(body);
    res.writeHead(status, {
        'content-type': 'application/json; charset=utf-8',
        'content-length': String(Buffer.byteLength(text)),
        ...headers,
    });
    res.end(text);
}
exports.MAX_JSON_BODY_BYTES = 2 * 1024 * 1024;
/** Deepest nesting accepted in a JSON body (the body object itself is level 1). */
exports.MAX_JSON_DEPTH = 32;
/** Most values (object members and array elements, counted through every level) in one JSON body. */
exports.MAX_JSON_VALUES = 100_000;
/**
 * JSON.stringify recurses, so a value nested a few thousand levels deep throws RangeError. Records are
 * serialized through this, which falls back to an explicit stack: a stored record can always be answered.
 */
function stringifyJson(value) {
    try {
        return JSON.stringify(value);
    }
    catch (err) {
        if (!(err instanceof RangeError))
            throw err;
        return stringifyIteratively(value);
    }
}
function stringifyIteratively(root) {
    const out = [];
    // Each frame is a value still to write, or a literal piece of punctuation.
    const stack = [{ value: root }];
    while (stack.length > 0) {
        const frame = stack.pop();
        if ('text' in frame) {
            out.push(frame.text);
            continue;
        }
        let value = frame.value;
        if (value !== null &&
            typeof value === 'object' &&
            typeof value.toJSON === 'function')
            value = value.toJSON(frame.key ?? '');
        if (value === null || typeof value !== 'object') {
            out.push(JSON.stringify(value) ?? 'null');
            continue;
        }
        const pending = [];
        if (Array.isArray(value)) {
            pending.push({ text: '[' });
            value.forEach((item, i) => {
                if (i > 0)
                    pending.push({ text: ',' });
                const skipped = item === undefined || typeof item === 'function' || typeof item === 'symbol';
                pending.push(skipped ? { text: 'null' } : { value: item, key: String(i) });
            });
            pending.push({ text: ']' });
        }
        else {
            pending.push({ text: '{' });
            let first = true;
            for (const [key, item] of Object.entries(value)) {
                if (item === undefined || typeof item === 'function' || typeof item === 'symbol')
                    continue;
                pending.push({ text: `${first ? '' : ','}${JSON.stringify(key)}:` });
                pending.push({ value: item, key });
                first = false;
            }
            pending.push({ text: '}' });
        }
        for (let i = pending.length - 1; i >= 0; i--)
            stack.push(pending[i]);
    }
    return out.join('');
}
/**
 * Refuses JSON nested deeper than MAX_JSON_DEPTH or holding more than MAX_JSON_VALUES values, walking with
 * an explicit stack (a recursive walk would itself overflow on the inputs it is meant to refuse). A
 * violation inside a top-level member is a 422 naming that member.
 */
function checkJsonShape(body) {
    let values = 0;
    for (const [field, member] of Object.entries(body)) {
        const stack = [[member, 2]];
        while (stack.length > 0) {
            const [value, depth] = stack.pop();
            if (value === null || typeof value !== 'object')
                continue;
            if (depth > exports.MAX_JSON_DEPTH)
                throw fieldError(field, `is invalid: nested deeper than ${exports.MAX_JSON_DEPTH} levels`);
            const children = Array.isArray(value) ? value : Object.values(value);
            values += children.length;
            if (values > exports.MAX_JSON_VALUES)
                throw fieldError(field, `is invalid: the body holds more than ${exports.MAX_JSON_VALUES} values`);
            for (const child of children)
                stack.push([child, depth + 1]);
        }
    }
}
const bodyTimeouts = new WeakMap();
/** How long a JSON body may take to arrive, in all (set by the server per request). */
function setBodyTimeout(req, ms) {
    bodyTimeouts.set(req, ms);
}
const TIMED_OUT = Symbol('timed out');
function tooLarge() {
    return new HttpError(413, { errors: { detail: `Request body larger than ${exports.MAX_JSON_BODY_BYTES} bytes` } }, { connection: 'close' });
}
/**
 * Reads a JSON object body (≤ 2 MiB: custom_metadata may hold 1 MB) within the request's body timeout.
 * Empty body → `{}`.
 */
async function readJsonBody(req) {
    const declared = Number(req.headers['content-length'] ?? 0);
    if (declared > exports.MAX_JSON_BODY_BYTES) {
        req.resume();
        throw tooLarge();
    }
    const chunks = [];
    let total = 0;
    const timeoutMs = bodyTimeouts.get(req);
    let timer;
    const deadline = timeoutMs === undefined
        ? undefined
        : new Promise((resolve) => {
            timer = setTimeout(() => resolve(TIMED_OUT), timeoutMs);
        });
    const iterator = req[Symbol.asyncIterator]();
    try {
        for (;;) {
            const next = deadline ? await Promise.race([iterator.next(), deadline]) : await iterator.next();
            if (next === TIMED_OUT) {
                req.pause();
                throw new HttpError(408, { errors: { detail: `Request body did not arrive within ${timeoutMs / 1000} s` } }, { connection: 'close' });
            }
            if (next.done)
                break;
            total += next.value.length;
            if (total > exports.MAX_JSON_BODY_BYTES)
                throw tooLarge();
            chunks.push(next.value);
        }
    }
    finally {
        clearTimeout(timer);
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
    checkJsonShape(parsed);
    return parsed;
}


/***/ }),

/***/ 4664:
/***/ ((__unused_webpack_module, exports) => {


Object.defineProperty(exports, "__esModule", ({ value: true }));
exports.binaryLock = exports.blobLock = exports.Janitor = void 0;
/**
 * Deletes content whose records a committed transaction dropped (the store's `contentGarbage` list), so a
 * rolled-back request never loses content and a crash mid-delete leaves a record the next start finishes.
 * A blob is deleted only while no binary refers to it, under the blob's lock, which the hasher also holds
 * while it re-uses a blob: a blob is never deleted under a binary that just started to use it.
 */
class Janitor {
    store;
    blobs;
    locks;
    logger;
    running = Promise.resolve();
    /**
     * Items whose deletion failed are retried at the next start only: a sweep runs under the lock of the binary
     * whose change made the garbage, not of the binaries whose older garbage it would retry.
     */
    failed = new Set();
    constructor(store, blobs, locks, logger) {
        this.store = store;
        this.blobs = blobs;
        this.locks = locks;
        this.logger = logger;
    }
    /** Resolves once everything that was garbage when called is deleted (or logged as failed). */
    sweep() {
        this.running = this.running.then(() => this.sweepOnce());
        return this.running;
    }
    async sweepOnce() {
        for (const { id, item } of await this.store.contentGarbage.pending()) {
            if (this.failed.has(id))
                continue;
            try {
                await this.delete(item);
                await this.store.contentGarbage.done(id);
            }
            catch (err) {
                // Kept in the list: the next start tries again.
                this.failed.add(id);
                this.logger.warning(`deleting content (${describe(item)}) failed: ${err.message}`);
            }
        }
    }
    async delete(item) {
        switch (item.kind) {
            case 'parts': {
                // Parts uploaded since (a retry at a later start): those files are in use; stale ones are named by
                // their own hashes and go with the binary's next reset or destruction.
                const inUse = (await this.store.parts.list(item.binaryId)).some((p) => p.file);
                if (!inUse)
                    await this.blobs.removeParts(item.binaryId);
                return;
            }
            case 'part': {
                const inUse = (await this.store.parts.list(item.binaryId)).some((p) => p.file === item.file);
                if (!inUse)
                    await this.blobs.removePart(item.binaryId, item.file);
                return;
            }
            case 'blob':
                return this.locks.run((0, exports.blobLock)(item.blobHash), async () => {
                    if (!(await this.store.binaries.blobReferenced(item.blobHash)))
                        await this.blobs.removeBlob(item.blobHash);
                });
        }
    }
}
exports.Janitor = Janitor;
const blobLock = (hash) => `blob:${hash}`;
exports.blobLock = blobLock;
const binaryLock = (id) => `binary:${id}`;
exports.binaryLock = binaryLock;
function describe(item) {
    return item.kind === 'blob' ? `blob ${item.blobHash}` : `parts of binary ${item.binaryId}`;
}


/***/ }),

/***/ 3837:
/***/ ((__unused_webpack_module, exports, __webpack_require__) => {


Object.defineProperty(exports, "__esModule", ({ value: true }));
exports.changeBinary = changeBinary;
exports.findBinary = findBinary;
exports.incompleteReason = incompleteReason;
exports.resetToUploadable = resetToUploadable;
exports.destroy = destroy;
exports.deleteUnfinished = deleteUnfinished;
exports.transition = transition;
const base_1 = __webpack_require__(2444);
const http_js_1 = __webpack_require__(7969);
const janitor_js_1 = __webpack_require__(4664);
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
 * Each function here runs inside the caller's transaction and only records content as garbage: the
 * janitor deletes it after the commit, so a refused or rolled-back request never loses content.
 */
/**
 * Runs fn in a transaction while holding the binary's lock, then deletes what it made garbage. Every
 * change of a binary's state or parts goes through here, so a part upload never commits between a reset's
 * record change and its content deletion.
 */
async function changeBinary(ctx, binaryId, fn) {
    return ctx.locks.run((0, janitor_js_1.binaryLock)(binaryId), async () => {
        const result = await ctx.store.transaction(fn);
        await ctx.janitor.sweep();
        return result;
    });
}
function findBinary(ctx, id, repos = ctx.store) {
    return repos.binaries.find(ctx.org, id);
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
        if (i < parts.length - 1 && part.size < base_1.MIN_PART_SIZE) {
            return `part ${part.idx} is ${part.size} bytes; every part but the last needs at least ${base_1.MIN_PART_SIZE}`;
        }
        total += part.size;
    }
    if (total !== binary.size)
        return `the parts add up to ${total} bytes, the binary's size is ${binary.size}`;
    return undefined;
}
/** Drops the parts and the content reference; both become garbage. */
async function dropContent(tx, binary, at) {
    await tx.parts.deleteAll(binary.id);
    await tx.contentGarbage.add({ kind: 'parts', binaryId: binary.id }, at);
    if (binary.blob_hash)
        await tx.contentGarbage.add({ kind: 'blob', blobHash: binary.blob_hash }, at);
}
/** Back to `uploadable`: parts and any published content go; a new upload may start. */
async function resetToUploadable(tx, binary, hashError = null) {
    const at = (0, time_js_1.nowTimestamp)();
    await dropContent(tx, binary, at);
    await tx.binaries.transition(binary.id, { to: 'uploadable', hashError }, at);
}
/** Content deleted for good; the record stays as `destroyed` and frees its target. */
async function destroy(tx, binary) {
    const at = (0, time_js_1.nowTimestamp)();
    await dropContent(tx, binary, at);
    await tx.binaries.transition(binary.id, { to: 'destroyed' }, at);
}
/** Never verified, never signed: the record goes, and any parts with it. */
async function deleteUnfinished(tx, binary) {
    await tx.binaries.delete(binary.id);
    await tx.contentGarbage.add({ kind: 'parts', binaryId: binary.id }, (0, time_js_1.nowTimestamp)());
}
function refuse(from, to, why) {
    throw (0, http_js_1.fieldError)('state', `invalid transition from ${from} to ${to}${why ? `: ${why}` : ''}`);
}
/** Applies a client-requested state change. Returns true when the binary entered `hashing`. */
async function transition(tx, binary, to) {
    const from = binary.state;
    if (from === to)
        return false;
    switch (`${from}->${to}`) {
        case 'uploadable->hashable': {
            const reason = incompleteReason(binary, await tx.parts.list(binary.id));
            if (reason)
                refuse(from, to, reason);
            await tx.binaries.transition(binary.id, { to: 'hashable' }, (0, time_js_1.nowTimestamp)());
            return false;
        }
        case 'hashable->hashing':
            await tx.binaries.transition(binary.id, { to: 'hashing' }, (0, time_js_1.nowTimestamp)());
            return true;
        case 'hashable->uploadable':
        case 'hashing->uploadable':
        case 'signable->uploadable':
            await resetToUploadable(tx, binary);
            return false;
        case 'signable->signed':
            if ((await tx.signatures.count(binary.id)) === 0) {
                refuse(from, to, 'the binary has no signature yet; create a binary signature first');
            }
            await tx.binaries.transition(binary.id, { to: 'signed' }, (0, time_js_1.nowTimestamp)());
            return false;
        case 'signable->destroyed':
        case 'signed->destroyed':
            await destroy(tx, binary);
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
async function listRows(ctx, query, repo, fields) {
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
    const filters = (0, search_js_1.compileSearch)(cursor.q, fields);
    const { rows, more } = await repo.list({ org: ctx.org, limit, order: cursor.o, after: cursor.s, filters });
    const last = rows[rows.length - 1];
    return {
        rows,
        next_page: more && last ? encodeCursor({ s: last.seq, o: cursor.o, q: cursor.q }) : null,
    };
}


/***/ }),

/***/ 6750:
/***/ ((__unused_webpack_module, exports) => {


Object.defineProperty(exports, "__esModule", ({ value: true }));
exports.KeyedLock = void 0;
/**
 * In-process mutual exclusion by key. Used where a record change and a content change must not interleave
 * with another request's (a part PUT committing while the binary is reset, a blob deleted while another
 * binary re-uses it). One registry process owns a data dir, so an in-process lock is enough.
 */
class KeyedLock {
    tails = new Map();
    async run(key, fn) {
        const previous = this.tails.get(key) ?? Promise.resolve();
        let release;
        const mine = new Promise((resolve) => (release = resolve));
        const tail = previous.then(() => mine);
        this.tails.set(key, tail);
        await previous;
        try {
            return await fn();
        }
        finally {
            release();
            if (this.tails.get(key) === tail)
                this.tails.delete(key);
        }
    }
}
exports.KeyedLock = KeyedLock;


/***/ }),

/***/ 5450:
/***/ ((__unused_webpack_module, exports, __webpack_require__) => {


Object.defineProperty(exports, "__esModule", ({ value: true }));
exports.PrefixDigests = void 0;
const node_crypto_1 = __webpack_require__(7598);
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
        const stamps = await Promise.all(prefix.files.map((file) => this.ctx.blobs.partVersion(binaryId, file)));
        const unchanged = stamps.every((stamp, i) => stamp !== undefined && stamp === prefix.stamps[i]);
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
        const parts = await this.ctx.store.parts.list(binaryId);
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
        const stamp = await this.ctx.blobs.partVersion(binaryId, file);
        if (stamp === undefined)
            throw new Error(`part ${file} is gone`);
        for await (const chunk of this.ctx.blobs.readPart(binaryId, file, this.signal)) {
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
        // A short key makes every URL forgeable; refuse rather than sign with it.
        if (secret.length < 32)
            throw new Error('presign secret must be at least 32 bytes');
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
const base_1 = __webpack_require__(2444);
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
        organization_prn: (0, base_1.formatPrn)(row.org),
        prn: (0, base_1.formatPrn)(row.org, 'artifact', row.id),
        updated_at: row.updated_at,
    };
}
function artifactVersionJson(ctx, row) {
    return {
        artifact_prn: (0, base_1.formatPrn)(row.org, 'artifact', row.artifact_id),
        custom_metadata: metadata(row.custom_metadata),
        description: row.description,
        inserted_at: row.inserted_at,
        organization_prn: (0, base_1.formatPrn)(row.org),
        prn: (0, base_1.formatPrn)(row.org, 'artifact_version', row.id),
        updated_at: row.updated_at,
        version: row.version,
    };
}
const SPKI_ED25519_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');
/** Ed25519 values are stored raw (base64); RSA/ECDSA keys and certificates are stored as their PEM. */
function publicKeyPem(rawBase64) {
    if (rawBase64.includes('-----BEGIN'))
        return rawBase64;
    const der = Buffer.concat([SPKI_ED25519_PREFIX, Buffer.from(rawBase64, 'base64')]);
    return `-----BEGIN PUBLIC KEY-----\n${der.toString('base64')}\n-----END PUBLIC KEY-----\n`;
}
async function binaryJson(ctx, row) {
    const signatures = await ctx.store.signatures.forBinary(row.id);
    return {
        artifact_version_prn: (0, base_1.formatPrn)(row.org, 'artifact_version', row.artifact_version_id),
        custom_metadata: metadata(row.custom_metadata),
        description: row.description,
        hash: row.hash,
        inserted_at: row.inserted_at,
        organization_prn: (0, base_1.formatPrn)(row.org),
        prn: (0, base_1.formatPrn)(row.org, 'binary', row.id),
        revision: row.revision,
        signatures: signatures.map((s) => ({
            signature: s.signature,
            signing_key_prn: (0, base_1.formatPrn)(row.org, 'signing_key', s.signing_key_id),
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
        binary_prn: (0, base_1.formatPrn)(row.org, 'binary', row.binary_id),
        hash: row.hash,
        index: row.idx,
        inserted_at: row.inserted_at,
        organization_prn: (0, base_1.formatPrn)(row.org),
        prn: (0, base_1.formatPrn)(row.org, 'binary_part', row.id),
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
        organization_prn: (0, base_1.formatPrn)(row.org),
        prn: (0, base_1.formatPrn)(row.org, 'signing_key', row.id),
        updated_at: row.updated_at,
        value: row.value,
    };
}
async function signatureJson(ctx, row) {
    const key = await ctx.store.signingKeys.find(row.org, row.signing_key_id);
    return {
        binary_prn: (0, base_1.formatPrn)(row.org, 'binary', row.binary_id),
        inserted_at: row.inserted_at,
        keyid: key?.keyid ?? '',
        organization_prn: (0, base_1.formatPrn)(row.org),
        prn: (0, base_1.formatPrn)(row.org, 'binary_signature', row.id),
        signature: row.signature,
        signing_key_prn: (0, base_1.formatPrn)(row.org, 'signing_key', row.signing_key_id),
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
exports.artifactVersionRoutes = artifactVersionRoutes;
const node_crypto_1 = __webpack_require__(7598);
const fields_js_1 = __webpack_require__(8884);
const http_js_1 = __webpack_require__(7969);
const list_js_1 = __webpack_require__(9369);
const records_js_1 = __webpack_require__(7099);
const search_js_1 = __webpack_require__(7389);
const time_js_1 = __webpack_require__(7360);
const SEARCH = {
    artifact_prn: (0, search_js_1.prnField)('artifact'),
    description: (0, search_js_1.stringField)([':', '~']),
    inserted_at: (0, search_js_1.dateField)(),
    prn: (0, search_js_1.prnField)('artifact_version'),
    updated_at: (0, search_js_1.dateField)(),
    version: (0, search_js_1.stringField)([':', '~', '-']),
};
async function getVersion(ctx, prn) {
    const row = await ctx.store.artifactVersions.find(ctx.org, (0, fields_js_1.idFromPathPrn)(ctx, prn, 'artifact_version'));
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
                const row = await ctx.store.transaction(async (tx) => {
                    if (!(await tx.artifacts.find(ctx.org, artifactId)))
                        throw (0, http_js_1.notFound)(`artifact_prn ${String(input.artifact_prn)}`);
                    if (await tx.artifactVersions.versionTaken(artifactId, version))
                        throw (0, http_js_1.fieldError)('version', 'has already been taken');
                    if (await tx.artifactVersions.idTaken(id))
                        throw (0, http_js_1.fieldError)('id', 'has already been taken');
                    const now = (0, time_js_1.nowTimestamp)();
                    return tx.artifactVersions.insert({
                        id,
                        org: ctx.org,
                        artifact_id: artifactId,
                        version,
                        description,
                        custom_metadata: metadata,
                        inserted_at: now,
                        updated_at: now,
                    });
                });
                return { status: 201, body: { artifact_version: (0, records_js_1.artifactVersionJson)(ctx, row) } };
            },
        },
        {
            method: 'GET',
            pattern: '/artifact_versions',
            auth: true,
            async handler({ query }) {
                const page = await (0, list_js_1.listRows)(ctx, query, ctx.store.artifactVersions, SEARCH);
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
            async handler({ params }) {
                return {
                    status: 200,
                    body: { artifact_version: (0, records_js_1.artifactVersionJson)(ctx, await getVersion(ctx, params.prn)) },
                };
            },
        },
        {
            method: 'PATCH',
            pattern: '/artifact_versions/:prn',
            auth: true,
            async handler({ params, body }) {
                const existing = await getVersion(ctx, params.prn);
                const input = await body();
                const version = (0, fields_js_1.optionalString)(input, 'version', 128);
                if (version !== undefined && version !== existing.version)
                    throw (0, http_js_1.fieldError)('version', 'cannot be changed');
                const description = (0, fields_js_1.optionalString)(input, 'description', 256, { allowControl: true });
                const metadata = (0, fields_js_1.optionalMetadata)(input);
                const row = await ctx.store.artifactVersions.update(existing.id, {
                    description,
                    custom_metadata: metadata,
                    updated_at: (0, time_js_1.nowTimestamp)(),
                });
                return { status: 200, body: { artifact_version: (0, records_js_1.artifactVersionJson)(ctx, row) } };
            },
        },
        {
            method: 'DELETE',
            pattern: '/artifact_versions/:prn',
            auth: true,
            async handler({ params }) {
                const existing = await getVersion(ctx, params.prn);
                await ctx.store.transaction(async (tx) => {
                    if (await tx.binaries.hasLive(existing.id))
                        throw (0, http_js_1.fieldError)('artifact_version', 'has binaries that are not destroyed; destroy or delete them first');
                    // Destroyed binaries hold no content; their records (and signatures) go with the version.
                    await tx.artifactVersions.delete(existing.id);
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
exports.artifactRoutes = artifactRoutes;
const node_crypto_1 = __webpack_require__(7598);
const fields_js_1 = __webpack_require__(8884);
const http_js_1 = __webpack_require__(7969);
const list_js_1 = __webpack_require__(9369);
const records_js_1 = __webpack_require__(7099);
const search_js_1 = __webpack_require__(7389);
const time_js_1 = __webpack_require__(7360);
const SEARCH = {
    description: (0, search_js_1.stringField)([':', '~']),
    inserted_at: (0, search_js_1.dateField)(),
    name: (0, search_js_1.stringField)([':', '~', '-']),
    prn: (0, search_js_1.prnField)('artifact'),
    updated_at: (0, search_js_1.dateField)(),
};
async function getArtifact(ctx, prn) {
    const row = await ctx.store.artifacts.find(ctx.org, (0, fields_js_1.idFromPathPrn)(ctx, prn, 'artifact'));
    if (!row)
        throw (0, http_js_1.notFound)();
    return row;
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
                const row = await ctx.store.transaction(async (tx) => {
                    if (await tx.artifacts.nameTaken(ctx.org, name))
                        throw (0, http_js_1.fieldError)('name', 'has already been taken');
                    if (await tx.artifacts.idTaken(id))
                        throw (0, http_js_1.fieldError)('id', 'has already been taken');
                    const now = (0, time_js_1.nowTimestamp)();
                    return tx.artifacts.insert({
                        id,
                        org: ctx.org,
                        name,
                        description,
                        custom_metadata: metadata,
                        inserted_at: now,
                        updated_at: now,
                    });
                });
                return { status: 201, body: { artifact: (0, records_js_1.artifactJson)(ctx, row) } };
            },
        },
        {
            method: 'GET',
            pattern: '/artifacts',
            auth: true,
            async handler({ query }) {
                const page = await (0, list_js_1.listRows)(ctx, query, ctx.store.artifacts, SEARCH);
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
            async handler({ params }) {
                return { status: 200, body: { artifact: (0, records_js_1.artifactJson)(ctx, await getArtifact(ctx, params.prn)) } };
            },
        },
        {
            method: 'PATCH',
            pattern: '/artifacts/:prn',
            auth: true,
            async handler({ params, body }) {
                const existing = await getArtifact(ctx, params.prn);
                const input = await body();
                const name = (0, fields_js_1.optionalString)(input, 'name', 128);
                const description = (0, fields_js_1.optionalString)(input, 'description', 256, { allowControl: true });
                const metadata = (0, fields_js_1.optionalMetadata)(input);
                const row = await ctx.store.transaction(async (tx) => {
                    if (name !== undefined && (await tx.artifacts.nameTaken(ctx.org, name, existing.id)))
                        throw (0, http_js_1.fieldError)('name', 'has already been taken');
                    return tx.artifacts.update(existing.id, {
                        name,
                        description,
                        custom_metadata: metadata,
                        updated_at: (0, time_js_1.nowTimestamp)(),
                    });
                });
                return { status: 200, body: { artifact: (0, records_js_1.artifactJson)(ctx, row) } };
            },
        },
        {
            method: 'DELETE',
            pattern: '/artifacts/:prn',
            auth: true,
            async handler({ params }) {
                const existing = await getArtifact(ctx, params.prn);
                await ctx.store.transaction(async (tx) => {
                    if (await tx.artifacts.hasVersions(existing.id)) {
                        throw (0, http_js_1.fieldError)('artifact', 'has artifact versions; delete them first');
                    }
                    await tx.artifacts.delete(existing.id);
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
exports.getBinary = getBinary;
exports.binaryRoutes = binaryRoutes;
const base_1 = __webpack_require__(2444);
const node_crypto_1 = __webpack_require__(7598);
const fields_js_1 = __webpack_require__(8884);
const http_js_1 = __webpack_require__(7969);
const lifecycle_js_1 = __webpack_require__(3837);
const list_js_1 = __webpack_require__(9369);
const records_js_1 = __webpack_require__(7099);
const search_js_1 = __webpack_require__(7389);
const time_js_1 = __webpack_require__(7360);
const SEARCH = {
    artifact_version_prn: (0, search_js_1.prnField)('artifact_version'),
    description: (0, search_js_1.stringField)([':', '~']),
    hash: (0, search_js_1.stringField)(),
    inserted_at: (0, search_js_1.dateField)(),
    prn: (0, search_js_1.prnField)('binary'),
    size: (0, search_js_1.integerField)(),
    state: (0, search_js_1.stringField)(),
    target: (0, search_js_1.stringField)([':', '~']),
    updated_at: (0, search_js_1.dateField)(),
};
async function getBinary(ctx, prn) {
    const row = await (0, lifecycle_js_1.findBinary)(ctx, (0, fields_js_1.idFromPathPrn)(ctx, prn, 'binary'));
    if (!row)
        throw (0, http_js_1.notFound)();
    return row;
}
function requestedState(input) {
    if (!(0, fields_js_1.given)(input, 'state'))
        return undefined;
    const state = input.state;
    if (!base_1.BINARY_STATES.includes(state))
        throw (0, http_js_1.fieldError)('state', `is invalid: must be one of ${base_1.BINARY_STATES.join(', ')}`);
    return state;
}
/**
 * The whole request is checked before anything changes: new content (hash, size) needs the binary to end
 * up `uploadable`, so `{state: "destroyed", hash}` is refused as a whole, with the content untouched.
 */
function checkContentChange(binary, patch) {
    const hashChanges = patch.hash !== undefined && patch.hash !== binary.hash;
    const sizeChanges = patch.size !== undefined && patch.size !== binary.size;
    const after = patch.state ?? binary.state;
    if ((hashChanges || sizeChanges) && after !== 'uploadable') {
        throw (0, http_js_1.fieldError)(hashChanges ? 'hash' : 'size', `can only change while the binary is uploadable (it is ${after}); reset it to uploadable first`);
    }
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
                const size = (0, fields_js_1.requiredInteger)(input, 'size', 0, base_1.MAX_BINARY_SIZE);
                const target = (0, fields_js_1.requiredString)(input, 'target', 128);
                const description = (0, fields_js_1.optionalString)(input, 'description', 256, { allowControl: true }) ?? null;
                const metadata = (0, fields_js_1.optionalMetadata)(input) ?? null;
                const id = (0, fields_js_1.optionalId)(input) ?? (0, node_crypto_1.randomUUID)();
                const row = await ctx.store.transaction(async (tx) => {
                    if (!(await tx.artifactVersions.find(ctx.org, versionId))) {
                        throw (0, http_js_1.notFound)(`artifact_version_prn ${String(input.artifact_version_prn)}`);
                    }
                    if (await tx.binaries.findLive(versionId, target))
                        throw (0, http_js_1.fieldError)('target', 'has already been taken');
                    if (await tx.binaries.idTaken(id))
                        throw (0, http_js_1.fieldError)('id', 'has already been taken');
                    const now = (0, time_js_1.nowTimestamp)();
                    return tx.binaries.insert({
                        id,
                        org: ctx.org,
                        artifact_version_id: versionId,
                        target,
                        hash,
                        size,
                        description,
                        custom_metadata: metadata,
                        inserted_at: now,
                        updated_at: now,
                    });
                });
                return { status: 201, body: { binary: await (0, records_js_1.binaryJson)(ctx, row) } };
            },
        },
        {
            method: 'GET',
            pattern: '/binaries',
            auth: true,
            async handler({ query }) {
                const page = await (0, list_js_1.listRows)(ctx, query, ctx.store.binaries, SEARCH);
                const binaries = await Promise.all(page.rows.map((r) => (0, records_js_1.binaryJson)(ctx, r)));
                return { status: 200, body: { binaries, next_page: page.next_page } };
            },
        },
        {
            method: 'GET',
            pattern: '/binaries/:prn',
            auth: true,
            async handler({ params }) {
                return { status: 200, body: { binary: await (0, records_js_1.binaryJson)(ctx, await getBinary(ctx, params.prn)) } };
            },
        },
        {
            method: 'PATCH',
            pattern: '/binaries/:prn',
            auth: true,
            async handler({ params, body }) {
                const existing = await getBinary(ctx, params.prn);
                const input = await body();
                const patch = {
                    state: requestedState(input),
                    hash: (0, fields_js_1.sha256Field)(input, 'hash', false),
                    size: (0, fields_js_1.optionalInteger)(input, 'size', 0, base_1.MAX_BINARY_SIZE),
                    description: (0, fields_js_1.optionalString)(input, 'description', 256, { allowControl: true }),
                    metadata: (0, fields_js_1.optionalMetadata)(input),
                };
                let startHashing = false;
                const row = await (0, lifecycle_js_1.changeBinary)(ctx, existing.id, async (tx) => {
                    const current = (await (0, lifecycle_js_1.findBinary)(ctx, existing.id, tx)) ?? existing;
                    checkContentChange(current, patch);
                    // The state first, so `{state: "uploadable", hash, size}` resets and then takes the new content's hash.
                    if (patch.state !== undefined)
                        startHashing = await (0, lifecycle_js_1.transition)(tx, current, patch.state);
                    const { hash, size, description, metadata } = patch;
                    if ([hash, size, description, metadata].some((v) => v !== undefined)) {
                        return tx.binaries.update(existing.id, {
                            hash,
                            size,
                            description,
                            custom_metadata: metadata,
                            updated_at: (0, time_js_1.nowTimestamp)(),
                        });
                    }
                    return (await (0, lifecycle_js_1.findBinary)(ctx, existing.id, tx));
                });
                if (startHashing)
                    ctx.enqueueHashing(row.id);
                return { status: 200, body: { binary: await (0, records_js_1.binaryJson)(ctx, row) } };
            },
        },
        {
            method: 'DELETE',
            pattern: '/binaries/:prn',
            auth: true,
            async handler({ params }) {
                const existing = await getBinary(ctx, params.prn);
                await (0, lifecycle_js_1.changeBinary)(ctx, existing.id, async (tx) => {
                    const current = await (0, lifecycle_js_1.findBinary)(ctx, existing.id, tx);
                    if (!current || current.state === 'destroyed')
                        return;
                    if (current.state === 'signable' || current.state === 'signed')
                        await (0, lifecycle_js_1.destroy)(tx, current);
                    else
                        await (0, lifecycle_js_1.deleteUnfinished)(tx, current);
                });
                return { status: 204 };
            },
        },
        {
            method: 'GET',
            pattern: '/binaries/:prn/download_url',
            auth: true,
            async handler({ params, baseUrl }) {
                const binary = await getBinary(ctx, params.prn);
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

/***/ 1429:
/***/ ((__unused_webpack_module, exports, __webpack_require__) => {


Object.defineProperty(exports, "__esModule", ({ value: true }));
exports.consoleRoutes = consoleRoutes;
const node_crypto_1 = __webpack_require__(7598);
const node_fs_1 = __webpack_require__(3024);
const node_path_1 = __webpack_require__(6760);
const node_url_1 = __webpack_require__(3136);
const http_js_1 = __webpack_require__(7969);
/**
 * The web console (packages/console), built by `npm run bundle` into dist/registry/console/. Served from the
 * API's origin so the page needs no CORS and its presigned URLs are same-origin; read once at start-up.
 */
const TYPES = {
    '.html': 'text/html; charset=utf-8',
    '.js': 'text/javascript; charset=utf-8',
    '.css': 'text/css; charset=utf-8',
    '.wasm': 'application/wasm',
};
// The page loads only its own files and talks only to this origin; nothing inline, nothing from elsewhere.
const CSP = [
    "default-src 'none'",
    "script-src 'self' 'wasm-unsafe-eval'",
    "worker-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "connect-src 'self'",
    "form-action 'none'",
    "frame-ancestors 'none'",
    "base-uri 'none'",
].join('; ');
function consoleDir() {
    // In the ncc bundle (CommonJS) `__dirname` is dist/registry; from source (tsx, ESM) this file's folder.
    const here = typeof __dirname === 'string' ? __dirname : (0, node_path_1.dirname)((0, node_url_1.fileURLToPath)(import.meta.url));
    const candidates = [(0, node_path_1.join)(here, 'console'), (0, node_path_1.join)(here, '../../../../dist/registry/console')];
    return candidates.find((dir) => (0, node_fs_1.existsSync)((0, node_path_1.join)(dir, 'index.html')));
}
function consoleRoutes() {
    const dir = consoleDir();
    const files = new Map();
    const serve = (name) => {
        if (!dir || !/^[a-z0-9-]+\.(html|js|css|wasm)$/.test(name))
            throw (0, http_js_1.detailError)(404, 'Not Found');
        let body = files.get(name);
        if (!body) {
            const path = (0, node_path_1.join)(dir, name);
            if (!(0, node_fs_1.existsSync)(path))
                throw (0, http_js_1.detailError)(404, 'Not Found');
            const bytes = (0, node_fs_1.readFileSync)(path);
            body = { body: bytes, etag: `"${(0, node_crypto_1.createHash)('sha256').update(bytes).digest('hex').slice(0, 32)}"` };
            files.set(name, body);
        }
        return { name, ...body };
    };
    const handler = (name) => {
        return ({ res, req }) => {
            const file = serve(name);
            const ext = file.name.slice(file.name.lastIndexOf('.'));
            const headers = {
                'content-security-policy': CSP,
                'x-content-type-options': 'nosniff',
                'referrer-policy': 'no-referrer',
                // Asset names carry no hash, so the browser revalidates (cheap, by ETag): never a stale console.
                'cache-control': 'no-cache',
                etag: file.etag,
            };
            if (req.headers['if-none-match'] === file.etag) {
                res.writeHead(304, headers);
                res.end();
                return undefined;
            }
            res.writeHead(200, {
                ...headers,
                'content-type': TYPES[ext],
                'content-length': String(file.body.length),
            });
            res.end(req.method === 'HEAD' ? undefined : file.body);
            return undefined;
        };
    };
    return [
        { method: 'GET', pattern: '/console', auth: false, handler: handler('index.html') },
        {
            method: 'GET',
            pattern: '/console/:file',
            auth: false,
            handler: (request) => handler(request.params.file)(request),
        },
    ];
}


/***/ }),

/***/ 8402:
/***/ ((__unused_webpack_module, exports, __webpack_require__) => {


Object.defineProperty(exports, "__esModule", ({ value: true }));
exports.parseRange = parseRange;
exports.downloadRoutes = downloadRoutes;
const node_stream_1 = __webpack_require__(7075);
const promises_1 = __webpack_require__(6466);
const base_1 = __webpack_require__(2444);
const http_js_1 = __webpack_require__(7969);
const lifecycle_js_1 = __webpack_require__(3837);
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
                if (!base_1.UUID_PATTERN.test(binaryId))
                    throw (0, http_js_1.detailError)(404, 'Not Found');
                const binary = await (0, lifecycle_js_1.findBinary)(ctx, binaryId);
                // Whoever lacks a valid URL learns nothing: not whether the binary exists, nor what state it is in.
                const check = binary?.blob_hash
                    ? ctx.presigner.checkDownload(binaryId, binary.blob_hash, query)
                    : 'signature';
                if (check === 'signature' || !binary?.blob_hash)
                    throw (0, http_js_1.detailError)(403, 'Forbidden');
                if (check === 'expired')
                    throw (0, http_js_1.detailError)(403, 'Presigned URL expired; ask for a new download_url');
                if (binary.state !== 'signable' && binary.state !== 'signed')
                    throw (0, http_js_1.detailError)(404, `Not Found: the binary has no content to download (it is ${binary.state})`);
                const blob = binary.blob_hash;
                const size = binary.size;
                // Never announce a length the content cannot deliver (content lost on disk, or a broken blob).
                const stored = await ctx.blobs.statBlob(blob);
                if (stored?.size !== size) {
                    ctx.logger.error(`binary ${binaryId}: its content ${blob} is ${stored ? `${stored.size} bytes, not ${size}` : 'missing'}`);
                    throw (0, http_js_1.detailError)(500, 'Internal Server Error: the content of this binary is not available');
                }
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
                await (0, promises_1.pipeline)(node_stream_1.Readable.from(ctx.blobs.readBlob(blob, start, end)), res);
                return undefined;
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
const base_1 = __webpack_require__(2444);
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
    return index >= 1 && index <= base_1.MAX_PARTS ? index : undefined;
}
function partRoutes(ctx) {
    return [
        {
            method: 'PUT',
            pattern: '/binaries/:prn/parts/:index',
            auth: true,
            async handler({ params, body, baseUrl }) {
                const binary = await (0, binaries_js_1.getBinary)(ctx, params.prn);
                const index = parseIndex(params.index);
                if (index === undefined)
                    throw (0, http_js_1.fieldError)('index', `must be an integer from 1 to ${base_1.MAX_PARTS}`);
                // `binary_prn`, `index` and the `content-range` header repeat the path (the SDK sends them); ignored.
                const input = await body();
                const hash = (0, fields_js_1.sha256Field)(input, 'hash', true);
                const size = (0, fields_js_1.requiredInteger)(input, 'size', 0, base_1.MAX_PART_SIZE);
                const expected = (0, fields_js_1.optionalInteger)(input, 'expected_binary_size', 0, base_1.MAX_BINARY_SIZE);
                const row = await (0, lifecycle_js_1.changeBinary)(ctx, binary.id, async (tx) => {
                    const current = await (0, lifecycle_js_1.findBinary)(ctx, binary.id, tx);
                    if (!current)
                        throw (0, http_js_1.notFound)();
                    if (current.state !== 'uploadable') {
                        throw (0, http_js_1.fieldError)('state', `parts can only be uploaded while the binary is uploadable; it is ${current.state}`);
                    }
                    if (expected !== undefined && expected !== current.size) {
                        throw (0, http_js_1.fieldError)('expected_binary_size', `is ${expected} but the binary's size is ${current.size}`);
                    }
                    if (size > current.size)
                        throw (0, http_js_1.fieldError)('size', `is larger than the binary (${current.size} bytes)`);
                    if (size < base_1.MIN_PART_SIZE && (await tx.parts.hasAfter(binary.id, index))) {
                        throw (0, http_js_1.fieldError)('size', `must be at least ${base_1.MIN_PART_SIZE} bytes for a part that is not the last`);
                    }
                    const now = (0, time_js_1.nowTimestamp)();
                    // Overwrite: the part waits for new bytes. A file named by another hash can no longer become valid.
                    const { row, replacedFile } = await tx.parts.register({
                        binaryId: binary.id,
                        idx: index,
                        id: (0, node_crypto_1.randomUUID)(),
                        org: ctx.org,
                        hash,
                        size,
                        at: now,
                    });
                    if (replacedFile)
                        await tx.contentGarbage.add({ kind: 'part', binaryId: binary.id, file: replacedFile }, now);
                    return row;
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
            async handler({ params }) {
                const binary = await (0, binaries_js_1.getBinary)(ctx, params.prn);
                const parts = await ctx.store.parts.list(binary.id);
                // Never paginated: a resuming client needs every part at once (protocol.md §3.4).
                return { status: 200, body: { binary_parts: parts.map((p) => (0, records_js_1.partJson)(ctx, p)), next_page: null } };
            },
        },
    ];
}


/***/ }),

/***/ 2657:
/***/ ((__unused_webpack_module, exports, __webpack_require__) => {


Object.defineProperty(exports, "__esModule", ({ value: true }));
exports.signatureRoutes = signatureRoutes;
const base_1 = __webpack_require__(2444);
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
    binary_prn: (0, search_js_1.prnField)('binary'),
    inserted_at: (0, search_js_1.dateField)(),
    prn: (0, search_js_1.prnField)('binary_signature'),
    signing_key_prn: (0, search_js_1.prnField)('signing_key'),
    // Undocumented, but the Peridio CLI de-duplicates pre-computed signatures with it.
    'signature.signing_key.keyid': (0, search_js_1.stringField)(),
    updated_at: (0, search_js_1.dateField)(),
};
async function resolveKey(ctx, input) {
    const byPrn = (0, fields_js_1.idFromBodyPrn)(ctx, input, 'signing_key_prn', 'signing_key');
    const keyid = (0, fields_js_1.given)(input, 'signing_key_keyid') ? input.signing_key_keyid : undefined;
    if (keyid !== undefined && typeof keyid !== 'string')
        throw (0, http_js_1.fieldError)('signing_key_keyid', 'is invalid: must be a string');
    if (byPrn === undefined && keyid === undefined) {
        throw (0, http_js_1.fieldError)('signing_key_prn', "can't be blank: give signing_key_prn or signing_key_keyid");
    }
    const key = byPrn !== undefined
        ? await ctx.store.signingKeys.find(ctx.org, byPrn)
        : await (0, signing_keys_js_1.findSigningKeyByKeyid)(ctx, keyid);
    if (!key) {
        if (byPrn !== undefined)
            throw (0, http_js_1.notFound)(`signing_key_prn ${String(input.signing_key_prn)}`);
        throw (0, http_js_1.fieldError)('signing_key_keyid', 'does not match a signing key');
    }
    if (byPrn !== undefined &&
        keyid !== undefined &&
        (await (0, signing_keys_js_1.findSigningKeyByKeyid)(ctx, keyid))?.id !== key.id) {
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
                const given = input.signature;
                const decoded = typeof given === 'string' ? (0, base_1.decodeSignature)(given) : undefined;
                if (!decoded || decoded.length < 64 || decoded.length > 1024) {
                    throw (0, http_js_1.fieldError)('signature', 'is invalid: must be the signature in hex (Ed25519: 128 characters) or base64 (e.g. of `openssl dgst -sha256 -sign` output)');
                }
                // Stored as hex: as given when it was hex, so a Peridio client reads back what it sent.
                const signature = /^[0-9a-fA-F]+$/.test(String(given).trim())
                    ? String(given).trim()
                    : decoded.toString('hex').toUpperCase();
                const key = await resolveKey(ctx, input);
                const publicKey = (0, base_1.parseSigningPublicKey)(key.value);
                // A certificate signs only while it is valid, and only while its CA is still trusted.
                const refused = (0, base_1.certificateValidityProblem)(publicKey) ?? (0, base_1.chainProblem)(publicKey, ctx.signingCas ?? []);
                if (refused)
                    throw (0, http_js_1.fieldError)('signing_key', `${key.keyid} cannot sign now: ${refused}`);
                const result = await ctx.store.transaction(async (tx) => {
                    const binary = await (0, lifecycle_js_1.findBinary)(ctx, binaryId, tx);
                    if (!binary)
                        throw (0, http_js_1.notFound)(`binary_prn ${String(input.binary_prn)}`);
                    if (binary.state !== 'signable' && binary.state !== 'signed') {
                        throw (0, http_js_1.fieldError)('binary', `must be signable to be signed; it is ${binary.state}`);
                    }
                    // What the Peridio CLI signs (the 64 ASCII hex characters) or, as peridiod also accepts, the raw digest.
                    if (!(0, base_1.verifySignature)(binary.hash, decoded, publicKey, { allowRawDigest: true })) {
                        throw (0, http_js_1.fieldError)('signature', publicKey.algorithm === 'ed25519'
                            ? `Invalid signature: it does not verify with signing key ${key.keyid}; sign the hash of the binary (its 64 lowercase hex characters)`
                            : `Invalid signature: it does not verify with signing key ${key.keyid}; sign the content's SHA-256 (openssl dgst -sha256 -sign key.pem file)`);
                    }
                    const existing = await tx.signatures.findByKey(binary.id, key.id);
                    // Signed by this key already: the same answer again, not a second signature.
                    if (existing)
                        return { status: 200, row: existing };
                    const now = (0, time_js_1.nowTimestamp)();
                    const row = await tx.signatures.insert({
                        id: (0, node_crypto_1.randomUUID)(),
                        org: ctx.org,
                        binary_id: binary.id,
                        signing_key_id: key.id,
                        signature,
                        inserted_at: now,
                        updated_at: now,
                    });
                    if (binary.state === 'signable')
                        await tx.binaries.transition(binary.id, { to: 'signed' }, now);
                    return { status: 201, row };
                });
                return { status: result.status, body: { binary_signature: await (0, records_js_1.signatureJson)(ctx, result.row) } };
            },
        },
        {
            method: 'GET',
            pattern: '/binary_signatures',
            auth: true,
            async handler({ query }) {
                const page = await (0, list_js_1.listRows)(ctx, query, ctx.store.signatures, SEARCH);
                const binary_signatures = await Promise.all(page.rows.map((r) => (0, records_js_1.signatureJson)(ctx, r)));
                return { status: 200, body: { binary_signatures, next_page: page.next_page } };
            },
        },
        {
            method: 'GET',
            pattern: '/binary_signatures/:prn',
            auth: true,
            async handler({ params }) {
                const row = await ctx.store.signatures.find(ctx.org, (0, fields_js_1.idFromPathPrn)(ctx, params.prn, 'binary_signature'));
                if (!row)
                    throw (0, http_js_1.notFound)();
                return { status: 200, body: { binary_signature: await (0, records_js_1.signatureJson)(ctx, row) } };
            },
        },
        {
            method: 'DELETE',
            pattern: '/binary_signatures/:prn',
            auth: true,
            async handler({ params }) {
                const row = await ctx.store.signatures.find(ctx.org, (0, fields_js_1.idFromPathPrn)(ctx, params.prn, 'binary_signature'));
                if (!row)
                    throw (0, http_js_1.notFound)();
                await ctx.store.transaction(async (tx) => {
                    const binary = await (0, lifecycle_js_1.findBinary)(ctx, row.binary_id, tx);
                    if (binary?.state === 'signed' && (await tx.signatures.count(binary.id)) === 1) {
                        throw (0, http_js_1.fieldError)('binary_signature', 'is the only signature of a signed binary, which stays signed; destroy the binary instead');
                    }
                    await tx.signatures.delete(row.id);
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
exports.findSigningKeyByKeyid = findSigningKeyByKeyid;
exports.parseKeyValue = parseKeyValue;
exports.retirementBlockers = retirementBlockers;
exports.signingKeyRoutes = signingKeyRoutes;
const base_1 = __webpack_require__(2444);
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
    inserted_at: (0, search_js_1.dateField)(),
    keyid: (0, search_js_1.stringField)(),
    name: (0, search_js_1.stringField)([':', '~']),
    prn: (0, search_js_1.prnField)('signing_key'),
    updated_at: (0, search_js_1.dateField)(),
    value: (0, search_js_1.stringField)(),
};
/** By full keyid (hex SHA-256 of the raw key) or Avocado's short form `sha256-<first 16 hex>`. */
function findSigningKeyByKeyid(ctx, keyid, repos = ctx.store) {
    const k = keyid.trim().toLowerCase();
    const short = /^sha256-([0-9a-f]{16})$/.exec(k);
    if (short)
        return repos.signingKeys.findByKeyidPrefix(ctx.org, short[1]);
    return repos.signingKeys.findByKeyid(ctx.org, k);
}
async function getKey(ctx, prn) {
    const row = await ctx.store.signingKeys.find(ctx.org, (0, fields_js_1.idFromPathPrn)(ctx, prn, 'signing_key'));
    if (!row)
        throw (0, http_js_1.notFound)();
    return row;
}
/**
 * Any accepted key (Ed25519 raw base64 or PEM; RSA ≥ 2048 / ECDSA P-256 PEM; PEM certificate chain) →
 * the stored value and its keyid. Ed25519 keeps Peridio's wire form; the rest is stored as its PEM.
 */
function parseKeyValue(ctx, value) {
    let key;
    try {
        key = (0, base_1.parseSigningPublicKey)(value, 'value');
    }
    catch (err) {
        // Core says what the key is and why it is refused ("is an RSA key of 1024 bits; …"): pass that on.
        const named = err instanceof base_1.InputError ? /^Input 'value': (.*)$/s.exec(err.message)?.[1] : undefined;
        throw (0, http_js_1.fieldError)('value', named ??
            'is invalid: must be an Ed25519 public key (base64 of the raw 32 bytes, or PEM), an RSA (≥ 2048 bits) or ECDSA P-256 PEM public key, or a PEM certificate');
    }
    const problem = (0, base_1.certificateValidityProblem)(key) ?? (0, base_1.chainProblem)(key, ctx.signingCas ?? []);
    if (problem)
        throw (0, http_js_1.fieldError)('value', problem);
    return key;
}
function normaliseValue(ctx, value) {
    const key = parseKeyValue(ctx, value);
    return { value: key.value, keyid: key.keyid };
}
/**
 * Why a key may not be deleted: the signed binaries it alone signs (deleting it would leave them with no
 * signature a device can check). The release-management work extends this to "in a live release".
 */
async function retirementBlockers(ctx, tx, keyRowId) {
    return (await tx.signingKeys.soleSignerOf(keyRowId)).map((id) => (0, base_1.formatPrn)(ctx.org, 'binary', id));
}
async function assertKeyFree(ctx, tx, keyid, exceptId) {
    if (await tx.signingKeys.keyidTaken(ctx.org, keyid, exceptId))
        throw (0, http_js_1.fieldError)('value', 'has already been taken');
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
                const key = normaliseValue(ctx, (0, fields_js_1.requiredString)(input, 'value', MAX_KEY_INPUT, { allowControl: true }));
                const row = await ctx.store.transaction(async (tx) => {
                    await assertKeyFree(ctx, tx, key.keyid);
                    const now = (0, time_js_1.nowTimestamp)();
                    return tx.signingKeys.insert({
                        id: (0, node_crypto_1.randomUUID)(),
                        org: ctx.org,
                        name,
                        value: key.value,
                        keyid: key.keyid,
                        inserted_at: now,
                        updated_at: now,
                    });
                });
                return { status: 201, body: { signing_key: (0, records_js_1.signingKeyJson)(ctx, row) } };
            },
        },
        {
            method: 'GET',
            pattern: '/signing_keys',
            auth: true,
            async handler({ query }) {
                const page = await (0, list_js_1.listRows)(ctx, query, ctx.store.signingKeys, SEARCH);
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
            async handler({ params }) {
                return { status: 200, body: { signing_key: (0, records_js_1.signingKeyJson)(ctx, await getKey(ctx, params.prn)) } };
            },
        },
        {
            method: 'PATCH',
            pattern: '/signing_keys/:prn',
            auth: true,
            async handler({ params, body }) {
                const existing = await getKey(ctx, params.prn);
                const input = await body();
                const name = (0, fields_js_1.optionalString)(input, 'name', 128);
                const given = (0, fields_js_1.optionalString)(input, 'value', MAX_KEY_INPUT, { allowControl: true });
                const key = given === undefined ? undefined : normaliseValue(ctx, given);
                const row = await ctx.store.transaction(async (tx) => {
                    if (key && key.keyid !== existing.keyid) {
                        await assertKeyFree(ctx, tx, key.keyid, existing.id);
                        if (await tx.signingKeys.inUse(existing.id)) {
                            throw (0, http_js_1.fieldError)('value', 'cannot change: binary signatures were made with this key');
                        }
                    }
                    return tx.signingKeys.update(existing.id, {
                        name,
                        value: key?.value,
                        keyid: key?.keyid,
                        updated_at: (0, time_js_1.nowTimestamp)(),
                    });
                });
                return { status: 200, body: { signing_key: (0, records_js_1.signingKeyJson)(ctx, row) } };
            },
        },
        {
            method: 'DELETE',
            pattern: '/signing_keys/:prn',
            auth: true,
            async handler({ params }) {
                const existing = await getKey(ctx, params.prn);
                await ctx.store.transaction(async (tx) => {
                    const blockers = await retirementBlockers(ctx, tx, existing.id);
                    if (blockers.length > 0) {
                        const named = blockers.slice(0, 10).join(', ') +
                            (blockers.length > 10 ? `, and ${blockers.length - 10} more` : '');
                        throw (0, http_js_1.fieldError)('signing_key', `is the only signer of signed binaries ${named}; sign them with the new key first (sign-binary also-sign: true), then retire this one`);
                    }
                    // Rotation: its signatures go with it; every binary they were on keeps another signature.
                    await tx.signatures.deleteByKey(existing.id);
                    await tx.signingKeys.delete(existing.id);
                });
                return { status: 204 };
            },
        },
    ];
}


/***/ }),

/***/ 2618:
/***/ ((__unused_webpack_module, exports, __webpack_require__) => {


Object.defineProperty(exports, "__esModule", ({ value: true }));
exports.uploadRoutes = uploadRoutes;
const base_1 = __webpack_require__(2444);
const blob_store_js_1 = __webpack_require__(927);
const http_js_1 = __webpack_require__(7969);
const janitor_js_1 = __webpack_require__(4664);
const lifecycle_js_1 = __webpack_require__(3837);
const time_js_1 = __webpack_require__(7360);
const parts_js_1 = __webpack_require__(6938);
/**
 * The presigned part upload, S3 UploadPart style: no API key, the URL is the capability. The body streams to
 * temporary storage while its size and SHA-256 are computed; only bytes that match the part's registered
 * hash are committed and then marked `valid`, so a crash at any point leaves the part not valid. A refused
 * body marks the part invalid only if it is not valid already and its binary is still uploadable: a bad
 * request never undoes a good upload, nor reaches a binary that has moved on.
 */
function uploadRoutes(ctx) {
    return [
        {
            method: 'PUT',
            pattern: '/_presigned/parts/:binary/:index',
            auth: false,
            async handler({ req, params, query }) {
                const part = await authorize(ctx, params, query);
                const declared = req.headers['content-length'];
                if (declared !== undefined && Number(declared) > part.size) {
                    await reject(ctx, part, 'invalid_size', `the body is ${declared} bytes, the part's size is ${part.size}`, true);
                }
                const staged = await receive(ctx, part, req);
                const failure = mismatch(part, staged, req.headers['x-amz-checksum-sha256']);
                if (failure) {
                    await staged.discard();
                    await reject(ctx, part, ...failure);
                }
                await commit(ctx, part, staged);
                return { status: 200, headers: { etag: `"${staged.sha256.toString('hex')}"` } };
            },
        },
    ];
}
/** The URL's signature and expiry, and that the binary still takes parts. */
async function authorize(ctx, params, query) {
    const binaryId = params.binary;
    const index = (0, parts_js_1.parseIndex)(params.index);
    if (!base_1.UUID_PATTERN.test(binaryId) || index === undefined)
        throw (0, http_js_1.detailError)(404, 'Not Found');
    const part = await ctx.store.parts.find(binaryId, index);
    const check = part ? ctx.presigner.checkPart(binaryId, index, part.hash, query) : 'signature';
    if (check === 'expired')
        throw (0, http_js_1.detailError)(403, 'Presigned URL expired; create the binary part again for a new URL');
    if (check !== 'ok' || !part)
        throw (0, http_js_1.detailError)(403, 'Presigned URL signature does not match');
    const binary = await (0, lifecycle_js_1.findBinary)(ctx, binaryId);
    if (binary?.state !== 'uploadable') {
        throw (0, http_js_1.detailError)(409, `the binary is ${binary?.state ?? 'gone'}; parts can only be uploaded while it is uploadable`);
    }
    return part;
}
/** Streams the body into staging; a body longer than the part is refused as soon as it is. */
async function receive(ctx, part, req) {
    try {
        return await ctx.blobs.stagePart(req, part.size);
    }
    catch (err) {
        if (err instanceof blob_store_js_1.TooLarge) {
            await reject(ctx, part, 'invalid_size', `the body is larger than the part's size (${part.size} bytes)`, true);
        }
        throw err; // the client went away mid-body: the part stays as it was
    }
}
function mismatch(part, staged, checksum) {
    const hex = staged.sha256.toString('hex');
    if (staged.bytes !== part.size)
        return ['invalid_size', `the body is ${staged.bytes} bytes, the part's size is ${part.size}`];
    if (hex !== part.hash)
        return ['invalid_hash', `the body's SHA-256 is ${hex}, the part's hash is ${part.hash}`];
    if (typeof checksum === 'string' && checksum !== staged.sha256.toString('base64'))
        return ['invalid_hash', 'the body does not match its x-amz-checksum-sha256 header'];
    return undefined;
}
async function reject(ctx, part, state, message, close = false) {
    const expect = { hash: part.hash, size: part.size };
    await ctx.store.parts.markRejected(part.binary_id, part.idx, expect, state, (0, time_js_1.nowTimestamp)());
    throw new http_js_1.HttpError(400, { errors: { detail: `${state}: ${message}` } }, close ? { connection: 'close' } : {});
}
/** Under the binary's lock, so no reset or re-registration lands between placing the bytes and `valid`. */
async function commit(ctx, part, staged) {
    const stale = () => (0, http_js_1.detailError)(409, 'the part was re-created or the binary left uploadable while this upload ran; upload again');
    await ctx.locks.run((0, janitor_js_1.binaryLock)(part.binary_id), async () => {
        const now = await ctx.store.parts.find(part.binary_id, part.idx);
        const binary = await (0, lifecycle_js_1.findBinary)(ctx, part.binary_id);
        if (now?.hash !== part.hash || now.size !== part.size || binary?.state !== 'uploadable') {
            await staged.discard();
            throw stale();
        }
        const file = await staged.commit(part.binary_id, part.idx);
        const expect = { hash: part.hash, size: part.size };
        if (!(await ctx.store.parts.markValid(part.binary_id, part.idx, expect, file, (0, time_js_1.nowTimestamp)())))
            throw stale();
    });
    ctx.partValid(part.binary_id);
}


/***/ }),

/***/ 7389:
/***/ ((__unused_webpack_module, exports, __webpack_require__) => {


Object.defineProperty(exports, "__esModule", ({ value: true }));
exports.MAX_CLAUSES = exports.prnField = exports.stringField = exports.integerField = exports.dateField = void 0;
exports.compileSearch = compileSearch;
const base_1 = __webpack_require__(2444);
const http_js_1 = __webpack_require__(7969);
const CMP = [':', '<', '<=', '>', '>='];
const dateField = () => ({ kind: 'date', ops: CMP });
exports.dateField = dateField;
const integerField = () => ({ kind: 'integer', ops: CMP });
exports.integerField = integerField;
const stringField = (ops = [':']) => ({ kind: 'string', ops });
exports.stringField = stringField;
const prnField = (prnType) => ({
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
    const field = clause.field;
    const op = clause.op === ':' ? '=' : clause.op === '~' ? 'contains' : clause.op === '-' ? 'icontains' : clause.op;
    switch (spec.kind) {
        case 'prn': {
            const prn = (0, base_1.parsePrn)(clause.value);
            // A PRN of another type or organization can match nothing here; that is an empty result, not an error.
            if (!prn?.id || prn.type !== spec.prnType)
                return { field, never: true };
            return { field, op: '=', prn: { org: prn.org.toLowerCase(), id: prn.id.toLowerCase() } };
        }
        case 'integer': {
            if (!/^-?\d+$/.test(clause.value))
                throw unsupported(`value of "${clause.field}" must be an integer`);
            return { field, op, value: Number(clause.value) };
        }
        case 'date': {
            const m = DATE.exec(clause.value);
            if (!m)
                throw unsupported(`value of "${clause.field}" must be a quoted date-time 'YYYY-MM-DDTHH:MM:SSZ'`);
            const [, seconds, fraction] = m;
            if (clause.op === ':' && fraction === undefined)
                return { field, op, value: seconds, secondsOnly: true };
            return { field, op, value: `${seconds}.${(fraction ?? '').padEnd(6, '0')}Z` };
        }
        default:
            return { field, op, value: clause.value };
    }
}
exports.MAX_CLAUSES = 5;
function compileSearch(query, fields) {
    if (query === null || query.trim() === '')
        return [];
    const clauses = splitClauses(query);
    if (clauses.length > exports.MAX_CLAUSES)
        throw unsupported(`at most ${exports.MAX_CLAUSES} clauses joined by "and"`);
    return clauses.map((text) => compileClause(parseClause(text), fields));
}


/***/ }),

/***/ 2196:
/***/ ((__unused_webpack_module, exports, __webpack_require__) => {


Object.defineProperty(exports, "__esModule", ({ value: true }));
exports.PRESIGN_SECRET_HEX_CHARS = void 0;
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
exports.PRESIGN_SECRET_HEX_CHARS = 64;
/**
 * The HMAC key of presigned URLs; kept across restarts so URLs handed out stay valid until they expire.
 * Anything but 64 hex characters is refused: Buffer.from(text, 'hex') would quietly yield a short or empty
 * key, and URLs signed with an empty key can be forged by anyone.
 */
function loadPresignSecret(dataDir) {
    const text = fileSecret(dataDir, 'presign-secret', () => (0, node_crypto_1.randomBytes)(exports.PRESIGN_SECRET_HEX_CHARS / 2).toString('hex')).value;
    if (!new RegExp(`^[0-9a-fA-F]{${exports.PRESIGN_SECRET_HEX_CHARS}}$`).test(text)) {
        throw new Error(`${(0, node_path_1.join)(dataDir, 'presign-secret')} does not hold a presign secret: expected exactly ` +
            `${exports.PRESIGN_SECRET_HEX_CHARS} hex characters, found ${text.length} characters` +
            `${/^[0-9a-fA-F]*$/.test(text) ? '' : ' (not all hex)'}. Delete the file to have a new secret ` +
            'generated (presigned URLs handed out before then stop working).');
    }
    return Buffer.from(text, 'hex');
}
/** The registry's one organization, created with the database. */
async function loadOrganization(store) {
    return (await store.meta.get('organization')) ?? store.meta.setIfAbsent('organization', (0, node_crypto_1.randomUUID)());
}


/***/ }),

/***/ 8002:
/***/ ((__unused_webpack_module, exports, __webpack_require__) => {


Object.defineProperty(exports, "__esModule", ({ value: true }));
exports.DEFAULT_MAX_CONNECTIONS = exports.DEFAULT_BODY_TIMEOUT_MS = exports.DEFAULT_IDLE_TIMEOUT_MS = void 0;
exports.createRegistry = createRegistry;
const node_crypto_1 = __webpack_require__(7598);
const node_fs_1 = __webpack_require__(3024);
const node_http_1 = __webpack_require__(7067);
const node_path_1 = __webpack_require__(6760);
const base_1 = __webpack_require__(2444);
const local_blob_store_js_1 = __webpack_require__(913);
const hasher_js_1 = __webpack_require__(5518);
const http_js_1 = __webpack_require__(7969);
const janitor_js_1 = __webpack_require__(4664);
const lifecycle_js_1 = __webpack_require__(3837);
const lock_js_1 = __webpack_require__(6750);
const presign_js_1 = __webpack_require__(2665);
const router_js_1 = __webpack_require__(6356);
const artifact_versions_js_1 = __webpack_require__(8584);
const artifacts_js_1 = __webpack_require__(8351);
const binaries_js_1 = __webpack_require__(3051);
const download_js_1 = __webpack_require__(8402);
const console_js_1 = __webpack_require__(1429);
const parts_js_1 = __webpack_require__(6938);
const signatures_js_1 = __webpack_require__(2657);
const signing_keys_js_1 = __webpack_require__(1528);
const uploads_js_1 = __webpack_require__(2618);
const secrets_js_1 = __webpack_require__(2196);
const sqlite_store_js_1 = __webpack_require__(122);
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
exports.DEFAULT_IDLE_TIMEOUT_MS = 60_000;
exports.DEFAULT_BODY_TIMEOUT_MS = 30_000;
exports.DEFAULT_MAX_CONNECTIONS = 256;
/** `host`, `host:port`, `[v6]` or `[v6]:port`: nothing that could change a URL built from it. */
const HOST_HEADER = /^(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\.?|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?$/;
/** The base of presigned URLs when no --public-url is set: taken from Host, which the client controls. */
function baseUrlFromHost(req, fallback) {
    const host = req.headers.host;
    if (host === undefined)
        return `http://${fallback}`;
    if (!HOST_HEADER.test(host))
        throw (0, http_js_1.detailError)(400, 'Host header must be host[:port]; set --public-url when behind a proxy that rewrites it');
    return `http://${host}`;
}
/** A request whose body was not read to its end: answering it must close the connection. */
function bodyUnread(req) {
    if (req.complete)
        return false;
    return Number(req.headers['content-length'] ?? 0) > 0 || req.headers['transfer-encoding'] !== undefined;
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
/** Parts that no binary in an upload state owns: left by a crash between two steps. */
async function sweepOrphanParts(ctx) {
    for (const id of await ctx.blobs.partOwners()) {
        const binary = await (0, lifecycle_js_1.findBinary)(ctx, id);
        if (!binary || !['uploadable', 'hashable', 'hashing'].includes(binary.state))
            await ctx.blobs.removeParts(id);
    }
}
async function createRegistry(options) {
    const logger = options.logger ?? base_1.silentLogger;
    // Records, content and secrets are the operator's alone: the data dir is 0700 whatever the umask.
    (0, node_fs_1.mkdirSync)(options.dataDir, { recursive: true, mode: 0o700 });
    (0, node_fs_1.chmodSync)(options.dataDir, 0o700);
    // Checked before anything is opened, so a refused secret leaves no database handle behind.
    const presigner = new presign_js_1.Presigner((0, secrets_js_1.loadPresignSecret)(options.dataDir), options.presignTtlSeconds ?? 3600);
    const store = options.store ?? new sqlite_store_js_1.SqliteStore((0, node_path_1.join)(options.dataDir, 'registry.db'));
    const blobs = options.blobs ?? (await local_blob_store_js_1.LocalBlobStore.open(options.dataDir));
    const locks = new lock_js_1.KeyedLock();
    const publicUrl = options.publicUrl?.replace(/\/+$/, '');
    let hasher;
    const context = {
        store,
        blobs,
        locks,
        janitor: new janitor_js_1.Janitor(store, blobs, locks, logger),
        presigner,
        logger,
        org: await (0, secrets_js_1.loadOrganization)(store),
        publicUrl,
        signingCas: options.signingCas ?? [],
        enqueueHashing: (id) => hasher.enqueue(id),
        partValid: (id) => hasher.prefixes.partValid(id),
    };
    hasher = new hasher_js_1.Hasher(context, options.hashingDelayMs ?? 0);
    // What a crash left: content deletions not yet done, parts no upload owns.
    await context.janitor.sweep();
    await sweepOrphanParts(context);
    const router = new router_js_1.Router([
        ...(0, artifacts_js_1.artifactRoutes)(context),
        ...(0, artifact_versions_js_1.artifactVersionRoutes)(context),
        ...(0, binaries_js_1.binaryRoutes)(context),
        ...(0, parts_js_1.partRoutes)(context),
        ...(0, signatures_js_1.signatureRoutes)(context),
        ...(0, signing_keys_js_1.signingKeyRoutes)(context),
        ...(0, uploads_js_1.uploadRoutes)(context),
        ...(0, download_js_1.downloadRoutes)(context),
        ...(0, console_js_1.consoleRoutes)(),
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
        const requestId = (0, node_crypto_1.randomUUID)();
        res.setHeader('x-request-id', requestId);
        (0, http_js_1.setBodyTimeout)(req, bodyTimeoutMs);
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
            logger.info(`request method=${method} path=${loggablePath(req.url ?? '/')} status=${status} ms=${ms} id=${requestId}`);
        });
        try {
            // Not `new URL(...)`: it would read the SDK's `//binaries` as a host name.
            const [pathname, search = ''] = (req.url ?? '/').split('?', 2);
            const { route, params } = router.match(method, pathname);
            if (route.auth) {
                authenticate(req, apiKeyDigest);
                checkApiVersion(req);
            }
            const baseUrl = publicUrl ?? baseUrlFromHost(req, `${listening.host}:${listening.port}`);
            const result = await route.handler((0, router_js_1.makeRequest)(req, res, params, new URLSearchParams(search), baseUrl));
            if (result)
                (0, http_js_1.sendJson)(res, result.status, result.body, result.headers);
        }
        catch (err) {
            const code = err?.code;
            // Only the socket says whether the client went away: on Node 24 `req.destroyed` is already true once
            // the body has been read, which used to turn every later error into a silent drop.
            const clientGone = code === 'ERR_STREAM_PREMATURE_CLOSE' || code === 'ECONNRESET' || req.socket.destroyed;
            if (err instanceof http_js_1.HttpError && !res.headersSent) {
                // An unauthenticated body is not drained: the connection closes after the 401. Other refusals (an
                // expired part URL) are drained as usual, so that a client still sending sees the answer, not a reset.
                const close = err.status === 401 && bodyUnread(req) ? { connection: 'close' } : {};
                (0, http_js_1.sendJson)(res, err.status, err.body, { ...close, ...err.headers });
                return;
            }
            if (clientGone) {
                res.destroy();
                return;
            }
            logger.error(`request id=${requestId} ${method} ${loggablePath(req.url ?? '/')}: ${err?.stack ?? String(err)}`);
            if (res.headersSent) {
                res.destroy(); // the answer has begun: cutting it short is the only way to say it failed
                return;
            }
            (0, http_js_1.sendJson)(res, 500, { errors: { detail: `Internal Server Error (request id ${requestId})` } }, bodyUnread(req) ? { connection: 'close' } : undefined);
        }
    }
    const bodyTimeoutMs = options.bodyTimeoutMs ?? exports.DEFAULT_BODY_TIMEOUT_MS;
    const server = (0, node_http_1.createServer)({ requestTimeout: 3_600_000, headersTimeout: 60_000 }, (req, res) => {
        void handle(req, res);
    });
    // No 'timeout' listener: Node destroys a socket that has been silent this long (mid-body or idle).
    server.setTimeout(options.idleTimeoutMs ?? exports.DEFAULT_IDLE_TIMEOUT_MS);
    server.maxConnections = options.maxConnections ?? exports.DEFAULT_MAX_CONNECTIONS;
    await hasher.requeueInterrupted();
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
                await store.close();
            })();
            return closing;
        },
    };
}


/***/ }),

/***/ 9875:
/***/ ((__unused_webpack_module, exports, __webpack_require__) => {


Object.defineProperty(exports, "__esModule", ({ value: true }));
exports.Database = void 0;
const node_sqlite_1 = __webpack_require__(99);
const migrations_js_1 = __webpack_require__(3263);
const store_js_1 = __webpack_require__(5554);
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
        try {
            const result = this.statement(sql).run(...params);
            return { changes: Number(result.changes), lastId: Number(result.lastInsertRowid) };
        }
        catch (err) {
            // "UNIQUE constraint failed: binaries.artifact_version_id, binaries.target" → the last column's name.
            const m = /UNIQUE constraint failed: (?:.*, )?\w+\.(\w+)$/.exec(err.message);
            if (m)
                throw new store_js_1.UniqueViolation(m[1]);
            throw err;
        }
    }
    /** For an async transaction; the caller serialises them (see SqliteStore). */
    begin() {
        this.db.exec('BEGIN IMMEDIATE');
    }
    commit() {
        this.db.exec('COMMIT');
    }
    rollback() {
        if (this.db.isTransaction)
            this.db.exec('ROLLBACK');
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

/***/ 6046:
/***/ ((__unused_webpack_module, exports) => {


Object.defineProperty(exports, "__esModule", ({ value: true }));
exports.COLUMNS = void 0;
exports.listTable = listTable;
exports.COLUMNS = {
    artifacts: {
        description: 't.description',
        inserted_at: 't.inserted_at',
        name: 't.name',
        prn: 't.id',
        updated_at: 't.updated_at',
    },
    artifact_versions: {
        artifact_prn: 't.artifact_id',
        description: 't.description',
        inserted_at: 't.inserted_at',
        prn: 't.id',
        updated_at: 't.updated_at',
        version: 't.version',
    },
    binaries: {
        artifact_version_prn: 't.artifact_version_id',
        description: 't.description',
        hash: 't.hash',
        inserted_at: 't.inserted_at',
        prn: 't.id',
        size: 't.size',
        state: 't.state',
        target: 't.target',
        updated_at: 't.updated_at',
    },
    signing_keys: {
        inserted_at: 't.inserted_at',
        keyid: 't.keyid',
        name: 't.name',
        prn: 't.id',
        updated_at: 't.updated_at',
        value: 't.value',
    },
    binary_signatures: {
        binary_prn: 't.binary_id',
        inserted_at: 't.inserted_at',
        prn: 't.id',
        signing_key_prn: 't.signing_key_id',
        'signature.signing_key.keyid': '(SELECT k.keyid FROM signing_keys k WHERE k.id = t.signing_key_id)',
        updated_at: 't.updated_at',
    },
};
function condition(filter, columns) {
    if ('never' in filter)
        return { sql: '0', params: [] };
    const col = columns[filter.field];
    if (!col)
        throw new Error(`field ${filter.field} cannot be searched here`);
    if ('prn' in filter)
        return { sql: `(t.org = ? AND ${col} = ?)`, params: [filter.prn.org, filter.prn.id] };
    if (filter.op === 'contains')
        return { sql: `instr(${col}, ?) > 0`, params: [filter.value] };
    if (filter.op === 'icontains')
        return { sql: `instr(lower(${col}), lower(?)) > 0`, params: [filter.value] };
    if (filter.secondsOnly)
        return { sql: `substr(${col}, 1, 19) ${filter.op} ?`, params: [filter.value] };
    return { sql: `${col} ${filter.op} ?`, params: [filter.value] };
}
/** One page of a table in insertion order, after the cursor, filtered. */
function listTable(db, table, query) {
    const columns = exports.COLUMNS[table];
    const conditions = query.filters.map((f) => condition(f, columns));
    const where = conditions.map((c) => `(${c.sql})`).join(' AND ') || '1';
    const asc = query.order === 'asc';
    const rows = db.all(`SELECT t.* FROM ${table} t WHERE t.org = ? AND (${where}) AND t.seq ${asc ? '>' : '<'} ?
     ORDER BY t.seq ${asc ? 'ASC' : 'DESC'} LIMIT ?`, query.org, ...conditions.flatMap((c) => c.params), query.after, query.limit + 1);
    return { rows: rows.slice(0, query.limit), more: rows.length > query.limit };
}


/***/ }),

/***/ 3263:
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
    `
  CREATE TABLE content_garbage (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    item TEXT NOT NULL,
    inserted_at TEXT NOT NULL
  );
  `,
];


/***/ }),

/***/ 4794:
/***/ ((__unused_webpack_module, exports, __webpack_require__) => {


Object.defineProperty(exports, "__esModule", ({ value: true }));
exports.sqliteRepositories = sqliteRepositories;
const table_js_1 = __webpack_require__(8312);
/**
 * The repositories over one node:sqlite connection. The methods are async only in signature: each runs its
 * statements synchronously, which is what lets SqliteStore serialise whole transactions with one lock.
 */
function sqliteRepositories(db) {
    const exists = (sql, ...params) => db.get(sql, ...params) !== undefined;
    const binaries = (0, table_js_1.table)(db, 'binaries');
    return {
        meta: {
            async get(key) {
                return db.get('SELECT value FROM meta WHERE key = ?', key)?.value;
            },
            async setIfAbsent(key, value) {
                db.run('INSERT OR IGNORE INTO meta (key, value) VALUES (?, ?)', key, value);
                return db.get('SELECT value FROM meta WHERE key = ?', key).value;
            },
        },
        artifacts: {
            ...(0, table_js_1.table)(db, 'artifacts'),
            nameTaken: async (org, name, exceptId = '') => exists('SELECT 1 FROM artifacts WHERE org = ? AND name = ? AND id <> ?', org, name, exceptId),
            hasVersions: async (id) => exists('SELECT 1 FROM artifact_versions WHERE artifact_id = ?', id),
        },
        artifactVersions: {
            ...(0, table_js_1.table)(db, 'artifact_versions'),
            versionTaken: async (artifactId, version) => exists('SELECT 1 FROM artifact_versions WHERE artifact_id = ? AND version = ?', artifactId, version),
        },
        binaries: {
            ...binaries,
            findLive: async (versionId, target) => db.get("SELECT * FROM binaries WHERE artifact_version_id = ? AND target = ? AND state <> 'destroyed'", versionId, target),
            hasLive: async (versionId) => exists("SELECT 1 FROM binaries WHERE artifact_version_id = ? AND state <> 'destroyed'", versionId),
            insert: (row) => binaries.insert({ ...row, state: 'uploadable' }),
            async transition(id, change, at) {
                switch (change.to) {
                    case 'uploadable':
                        db.run(`UPDATE binaries SET state = 'uploadable', blob_hash = NULL, hash_error = ?,
               upload_generation = upload_generation + 1, updated_at = ? WHERE id = ?`, change.hashError, at, id);
                        return true;
                    case 'hashable':
                        db.run("UPDATE binaries SET state = 'hashable', hash_error = NULL, updated_at = ? WHERE id = ?", at, id);
                        return true;
                    case 'signable':
                        return (db.run(`UPDATE binaries SET state = 'signable', blob_hash = ?, hash_error = NULL, updated_at = ?
                 WHERE id = ? AND state = 'hashing' AND upload_generation = ?`, change.blobHash, at, id, change.generation).changes === 1);
                    case 'destroyed':
                        db.run("UPDATE binaries SET state = 'destroyed', blob_hash = NULL, updated_at = ? WHERE id = ?", at, id);
                        return true;
                    default:
                        db.run('UPDATE binaries SET state = ?, updated_at = ? WHERE id = ?', change.to, at, id);
                        return true;
                }
            },
            idsInState: async (state) => db
                .all('SELECT id FROM binaries WHERE state = ? ORDER BY updated_at', state)
                .map((r) => r.id),
            blobReferenced: async (hash) => exists('SELECT 1 FROM binaries WHERE blob_hash = ?', hash),
        },
        parts: {
            list: async (binaryId) => db.all('SELECT * FROM binary_parts WHERE binary_id = ? ORDER BY idx', binaryId),
            find: async (binaryId, idx) => db.get('SELECT * FROM binary_parts WHERE binary_id = ? AND idx = ?', binaryId, idx),
            hasAfter: async (binaryId, idx) => exists('SELECT 1 FROM binary_parts WHERE binary_id = ? AND idx > ?', binaryId, idx),
            async register(p) {
                const old = db.get('SELECT * FROM binary_parts WHERE binary_id = ? AND idx = ?', p.binaryId, p.idx);
                const keep = old?.hash === p.hash;
                if (old) {
                    db.run(`UPDATE binary_parts SET hash = ?, size = ?, state = 'uploadable', file = ?, updated_at = ?
             WHERE binary_id = ? AND idx = ?`, p.hash, p.size, keep ? old.file : null, p.at, p.binaryId, p.idx);
                }
                else {
                    db.run(`INSERT INTO binary_parts (binary_id, idx, id, org, hash, size, state, inserted_at, updated_at)
             VALUES (?, ?, ?, ?, ?, ?, 'uploadable', ?, ?)`, p.binaryId, p.idx, p.id, p.org, p.hash, p.size, p.at, p.at);
                }
                const row = db.get('SELECT * FROM binary_parts WHERE binary_id = ? AND idx = ?', p.binaryId, p.idx);
                return { row, replacedFile: !keep && old?.file ? old.file : null };
            },
            async markValid(binaryId, idx, expect, file, at) {
                return (db.run(`UPDATE binary_parts SET state = 'valid', file = ?, updated_at = ?
             WHERE binary_id = ? AND idx = ? AND hash = ? AND size = ?
             AND (SELECT state FROM binaries WHERE id = ?) = 'uploadable'`, file, at, binaryId, idx, expect.hash, expect.size, binaryId).changes === 1);
            },
            async markRejected(binaryId, idx, expect, state, at) {
                return (db.run(`UPDATE binary_parts SET state = ?, updated_at = ?
             WHERE binary_id = ? AND idx = ? AND hash = ? AND size = ? AND state <> 'valid'
             AND (SELECT state FROM binaries WHERE id = ?) = 'uploadable'`, state, at, binaryId, idx, expect.hash, expect.size, binaryId).changes === 1);
            },
            async deleteAll(binaryId) {
                const files = db
                    .all('SELECT file FROM binary_parts WHERE binary_id = ? ORDER BY idx', binaryId)
                    .flatMap((r) => (r.file ? [r.file] : []));
                db.run('DELETE FROM binary_parts WHERE binary_id = ?', binaryId);
                return files;
            },
        },
        signingKeys: {
            ...(0, table_js_1.table)(db, 'signing_keys'),
            findByKeyid: async (org, keyid) => db.get('SELECT * FROM signing_keys WHERE org = ? AND keyid = ?', org, keyid),
            findByKeyidPrefix: async (org, prefix) => db.get('SELECT * FROM signing_keys WHERE org = ? AND substr(keyid, 1, 16) = ? ORDER BY seq LIMIT 1', org, prefix),
            keyidTaken: async (org, keyid, exceptId = '') => exists('SELECT 1 FROM signing_keys WHERE org = ? AND keyid = ? AND id <> ?', org, keyid, exceptId),
            inUse: async (id) => exists('SELECT 1 FROM binary_signatures WHERE signing_key_id = ?', id),
            soleSignerOf: async (id) => db
                .all(`SELECT b.id FROM binaries b JOIN binary_signatures s ON s.binary_id = b.id
             WHERE s.signing_key_id = ? AND b.state = 'signed'
               AND (SELECT count(*) FROM binary_signatures o WHERE o.binary_id = b.id) = 1
             ORDER BY b.seq`, id)
                .map((r) => r.id),
        },
        signatures: {
            ...(0, table_js_1.table)(db, 'binary_signatures'),
            findByKey: async (binaryId, keyId) => db.get('SELECT * FROM binary_signatures WHERE binary_id = ? AND signing_key_id = ?', binaryId, keyId),
            forBinary: async (binaryId) => db.all(`SELECT s.signature, s.signing_key_id, k.keyid, k.value FROM binary_signatures s
           JOIN signing_keys k ON k.id = s.signing_key_id WHERE s.binary_id = ? ORDER BY s.seq`, binaryId),
            count: async (binaryId) => Number(db.get('SELECT count(*) AS n FROM binary_signatures WHERE binary_id = ?', binaryId)
                .n),
            deleteByKey: async (keyId) => {
                db.run('DELETE FROM binary_signatures WHERE signing_key_id = ?', keyId);
            },
        },
        contentGarbage: {
            add: async (item, at) => db.run('INSERT INTO content_garbage (item, inserted_at) VALUES (?, ?)', JSON.stringify(item), at)
                .lastId,
            pending: async () => db
                .all('SELECT id, item FROM content_garbage ORDER BY id')
                .map((r) => ({ id: Number(r.id), item: JSON.parse(r.item) })),
            async done(id) {
                db.run('DELETE FROM content_garbage WHERE id = ?', id);
            },
        },
    };
}


/***/ }),

/***/ 122:
/***/ ((__unused_webpack_module, exports, __webpack_require__) => {


Object.defineProperty(exports, "__esModule", ({ value: true }));
exports.SqliteStore = void 0;
const node_async_hooks_1 = __webpack_require__(6698);
const database_js_1 = __webpack_require__(9875);
const repositories_js_1 = __webpack_require__(4794);
/**
 * Store over one node:sqlite database file. One connection serves everything, so transactions are
 * serialised by a lock: while one is open, every other call (inside or outside a transaction) waits, and
 * no statement of another request can land inside it.
 */
class SqliteStore {
    db;
    tail = Promise.resolve();
    /** Set while a transaction's callback runs, to catch a call that would wait for that transaction. */
    inTransaction = new node_async_hooks_1.AsyncLocalStorage();
    inner;
    meta;
    artifacts;
    artifactVersions;
    binaries;
    parts;
    signingKeys;
    signatures;
    contentGarbage;
    constructor(path) {
        this.db = new database_js_1.Database(path);
        this.inner = (0, repositories_js_1.sqliteRepositories)(this.db);
        const locked = (repo) => Object.fromEntries(Object.entries(repo).map(([name, fn]) => [
            name,
            (...args) => {
                this.assertOutsideTransaction(name);
                return this.exclusive(() => fn(...args));
            },
        ]));
        this.meta = locked(this.inner.meta);
        this.artifacts = locked(this.inner.artifacts);
        this.artifactVersions = locked(this.inner.artifactVersions);
        this.binaries = locked(this.inner.binaries);
        this.parts = locked(this.inner.parts);
        this.signingKeys = locked(this.inner.signingKeys);
        this.signatures = locked(this.inner.signatures);
        this.contentGarbage = locked(this.inner.contentGarbage);
    }
    assertOutsideTransaction(what) {
        if (this.inTransaction.getStore()) {
            // It would wait for the transaction it is called from: a deadlock. A bug, so fail loudly.
            throw new Error(`store.${what} called inside a transaction: use the transaction's repositories`);
        }
    }
    exclusive(fn) {
        const run = this.tail.then(fn, fn);
        this.tail = run.catch(() => undefined);
        return run;
    }
    transaction(fn) {
        this.assertOutsideTransaction('transaction');
        return this.exclusive(async () => {
            this.db.begin();
            try {
                const result = await this.inTransaction.run(true, () => fn(this.inner));
                this.db.commit();
                return result;
            }
            catch (err) {
                this.db.rollback();
                throw err;
            }
        });
    }
    async close() {
        await this.exclusive(async () => this.db.close());
    }
}
exports.SqliteStore = SqliteStore;


/***/ }),

/***/ 8312:
/***/ ((__unused_webpack_module, exports, __webpack_require__) => {


Object.defineProperty(exports, "__esModule", ({ value: true }));
exports.table = table;
const list_js_1 = __webpack_require__(6046);
/** The record operations every table keyed by a UUID `id` shares. */
function table(db, name) {
    const byId = (id) => db.get(`SELECT * FROM ${name} WHERE id = ?`, id);
    return {
        list: async (query) => (0, list_js_1.listTable)(db, name, query),
        find: async (org, id) => db.get(`SELECT * FROM ${name} WHERE id = ? AND org = ?`, id, org),
        idTaken: async (id) => db.get(`SELECT 1 FROM ${name} WHERE id = ?`, id) !== undefined,
        async insert(row) {
            const entries = Object.entries(row);
            db.run(`INSERT INTO ${name} (${entries.map(([k]) => k).join(', ')}) VALUES (${entries.map(() => '?').join(', ')})`, ...entries.map(([, v]) => v));
            return byId(row.id);
        },
        /** Sets the given fields; undefined ones keep their value. */
        async update(id, changes) {
            const entries = Object.entries(changes).filter(([, v]) => v !== undefined);
            db.run(`UPDATE ${name} SET ${entries.map(([k]) => `${k} = ?`).join(', ')} WHERE id = ?`, ...entries.map(([, v]) => v), id);
            return byId(id);
        },
        async delete(id) {
            db.run(`DELETE FROM ${name} WHERE id = ?`, id);
        },
    };
}


/***/ }),

/***/ 5554:
/***/ ((__unused_webpack_module, exports) => {


Object.defineProperty(exports, "__esModule", ({ value: true }));
exports.UniqueViolation = void 0;
/** Raised by inserts and updates that would break a uniqueness invariant; names what clashed. */
class UniqueViolation extends Error {
    what;
    constructor(what) {
        super(`unique violation: ${what}`);
        this.what = what;
    }
}
exports.UniqueViolation = UniqueViolation;


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


/***/ })

};
