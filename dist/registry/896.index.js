export const id = 896;
export const ids = [896];
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
    'product',
    'cohort',
    'device',
    'bundle',
    'bundle_signature',
    'bundle_override',
    'release',
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
exports.strictVersion = strictVersion;
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
/** A strict SemVer (a leading `v` stripped), as release versions must be: `1.2.3`, `v1.2.3-rc.1`. */
function strictVersion(value, input = 'version') {
    const candidate = value.trim().replace(/^v/, '');
    if (!SEMVER.test(candidate)) {
        throw new errors_js_1.InputError(input, `'${value}' is not a semantic version: give MAJOR.MINOR.PATCH, e.g. 1.2.3 or v1.2.3-rc.1`);
    }
    return candidate;
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

/***/ 5109:
/***/ ((__unused_webpack_module, exports, __webpack_require__) => {


Object.defineProperty(exports, "__esModule", ({ value: true }));
exports.apiKeyJson = void 0;
exports.apiKeyInput = apiKeyInput;
exports.apiKeyRoutes = apiKeyRoutes;
const http_js_1 = __webpack_require__(7969);
const list_js_1 = __webpack_require__(9369);
const prn_js_1 = __webpack_require__(6864);
const search_js_1 = __webpack_require__(7389);
const api_keys_js_1 = __webpack_require__(6549);
const roles_js_1 = __webpack_require__(4273);
/** An API key as the API shows it: never the key or its hash. */
const apiKeyJson = (org, r) => ({
    prn: (0, prn_js_1.prn)(org, 'api_key', r.id),
    name: r.name,
    role: r.role,
    expires_at: r.expires_at,
    revoked_at: r.revoked_at,
    inserted_at: r.inserted_at,
    updated_at: r.updated_at,
});
exports.apiKeyJson = apiKeyJson;
/** Reads `name`, `role`, `expires` (duration or date) as given by the API or the CLI; a bad one → 422. */
function apiKeyInput(body) {
    const { name, role, expires } = body;
    if (typeof name !== 'string' || name.trim() === '')
        throw (0, http_js_1.fieldError)('name', "can't be blank");
    if (name.length > 200)
        throw (0, http_js_1.fieldError)('name', 'should be at most 200 character(s)');
    if (!(0, roles_js_1.isRole)(role))
        throw (0, http_js_1.fieldError)('role', `is invalid: must be one of ${roles_js_1.ROLES.join(', ')}`);
    let expiresAt = null;
    if (expires !== undefined && expires !== null) {
        if (typeof expires !== 'string')
            throw (0, http_js_1.fieldError)('expires', "is invalid: must be a string like '90d'");
        const parsed = (0, api_keys_js_1.parseExpiry)(expires);
        if ('error' in parsed)
            throw (0, http_js_1.fieldError)('expires', `is invalid: ${parsed.error}`);
        expiresAt = parsed.at;
    }
    return { name: name.trim(), role, expiresAt };
}
const SEARCH = {
    inserted_at: (0, search_js_1.dateField)(),
    name: (0, search_js_1.stringField)([':', '~', '-']),
    role: (0, search_js_1.stringField)(),
    updated_at: (0, search_js_1.dateField)(),
};
/** `/api_keys`: an extension of Peridio's API (which manages keys per user in its web console). */
function apiKeyRoutes(access, org) {
    const find = async (value) => {
        const key = await access.getApiKey((0, prn_js_1.pathId)(org, value, 'api_key'));
        if (!key)
            throw (0, http_js_1.notFound)();
        return key;
    };
    return [
        {
            method: 'POST',
            pattern: '/api_keys',
            auth: true,
            async handler({ body }) {
                const { record, key } = await (0, api_keys_js_1.createApiKey)(access, apiKeyInput(await body()));
                // The only time the key is shown.
                return { status: 201, body: { api_key: { ...(0, exports.apiKeyJson)(org, record), key } } };
            },
        },
        {
            method: 'GET',
            pattern: '/api_keys',
            auth: true,
            async handler({ query }) {
                const page = await (0, list_js_1.listRows)({ org }, query, { list: (q) => access.pageApiKeys(q) }, SEARCH);
                return {
                    status: 200,
                    body: { api_keys: page.rows.map((k) => (0, exports.apiKeyJson)(org, k)), next_page: page.next_page },
                };
            },
        },
        {
            method: 'GET',
            pattern: '/api_keys/:prn',
            auth: true,
            async handler({ params }) {
                return { status: 200, body: { api_key: (0, exports.apiKeyJson)(org, await find(params.prn)) } };
            },
        },
        {
            method: 'PATCH',
            pattern: '/api_keys/:prn',
            auth: true,
            async handler({ params, body }) {
                const key = await find(params.prn);
                const input = await body();
                if (input.revoked !== true)
                    throw (0, http_js_1.fieldError)('revoked', 'is invalid: the only change is {"revoked": true}');
                return {
                    status: 200,
                    body: { api_key: (0, exports.apiKeyJson)(org, (await access.revokeApiKey(key.id, new Date().toISOString()))) },
                };
            },
        },
        {
            method: 'DELETE',
            pattern: '/api_keys/:prn',
            auth: true,
            async handler({ params }) {
                // Revokes: the record stays, so the audit trail can still name the key.
                const key = await find(params.prn);
                return {
                    status: 200,
                    body: { api_key: (0, exports.apiKeyJson)(org, (await access.revokeApiKey(key.id, new Date().toISOString()))) },
                };
            },
        },
    ];
}


/***/ }),

/***/ 6549:
/***/ ((__unused_webpack_module, exports, __webpack_require__) => {


Object.defineProperty(exports, "__esModule", ({ value: true }));
exports.Authenticator = exports.keyDigest = void 0;
exports.parseExpiry = parseExpiry;
exports.createApiKey = createApiKey;
const node_crypto_1 = __webpack_require__(7598);
const http_js_1 = __webpack_require__(7969);
const prn_js_1 = __webpack_require__(6864);
const time_js_1 = __webpack_require__(7360);
/**
 * A scoped key is `prs_<id as 32 hex>_<43 base64url secret>`: the id finds the record, the digest of the
 * whole key is compared in constant time. The key registries generated before roles (`prk_…`, or
 * PERIDIO_REGISTRY_API_KEY) stays the `admin` key named `registry-key`.
 */
const SCOPED = /^prs_([0-9a-f]{32})_([A-Za-z0-9_-]{43})$/;
const BOOTSTRAP_KEY_NAME = 'registry-key';
const keyDigest = (key) => (0, node_crypto_1.createHash)('sha256').update(key).digest();
exports.keyDigest = keyDigest;
function newApiKey() {
    const id = (0, node_crypto_1.randomUUID)();
    return { id, key: `prs_${id.replaceAll('-', '')}_${(0, node_crypto_1.randomBytes)(32).toString('base64url')}` };
}
const UNITS = { m: 60, h: 3600, d: 86400, w: 7 * 86400 };
/** `90d`, `12h`, `30m`, `2w`, or an ISO date-time in the future → ISO timestamp; else a message. */
function parseExpiry(value, nowMs = Date.now()) {
    const m = /^(\d{1,6})([mhdw])$/.exec(value.trim());
    let ms;
    if (m)
        ms = nowMs + Number(m[1]) * UNITS[m[2]] * 1000;
    else if (/^\d{4}-\d{2}-\d{2}(T[\d:.]+(Z|[+-]\d{2}:\d{2}))?$/.test(value.trim()))
        ms = Date.parse(value);
    else
        return { error: "must be a duration like '90d', '12h', '30m', '2w' or an ISO date-time" };
    if (!Number.isFinite(ms) || Number(m?.[1] ?? 1) === 0)
        return { error: 'must be a positive duration or a valid date' };
    if (ms <= nowMs)
        return { error: 'must be in the future' };
    return { at: new Date(ms).toISOString() };
}
async function createApiKey(access, input) {
    const { id, key } = newApiKey();
    const at = (0, time_js_1.nowTimestamp)();
    const record = await access.insertApiKey({
        id,
        name: input.name,
        role: input.role,
        hash: (0, exports.keyDigest)(key).toString('hex'),
        expires_at: input.expiresAt,
        revoked_at: null,
        inserted_at: at,
        updated_at: at,
    });
    return { record, key };
}
const unauthorized = (detail) => new http_js_1.HttpError(401, { errors: { detail: `Unauthorized: ${detail}` } });
/** Finds the actor of a request; a missing, unknown, revoked or expired key is 401. Nothing is cached. */
class Authenticator {
    store;
    access;
    org;
    bootstrapDigest;
    bootstrapId;
    constructor(store, access, org, bootstrapDigest) {
        this.store = store;
        this.access = access;
        this.org = org;
        this.bootstrapDigest = bootstrapDigest;
    }
    async authenticate(req) {
        const match = /^(?:Token|Bearer)\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '');
        if (!match) {
            throw unauthorized("send the registry's API key as 'Authorization: Token <key>' (or Bearer)");
        }
        const presented = match[1];
        const digest = (0, exports.keyDigest)(presented);
        const scoped = SCOPED.exec(presented);
        if (scoped) {
            const h = scoped[1];
            const id = `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
            const record = await this.access.getApiKey(id);
            // Compare even when the id is unknown, so timing does not tell ids that exist.
            const stored = record ? Buffer.from(record.hash, 'hex') : Buffer.alloc(32);
            if ((0, node_crypto_1.timingSafeEqual)(digest, stored) && record) {
                if (record.revoked_at)
                    throw unauthorized(`the API key '${record.name}' was revoked`);
                if (record.expires_at && Date.parse(record.expires_at) <= Date.now())
                    throw unauthorized(`the API key '${record.name}' expired at ${record.expires_at}`);
                return { id, name: record.name, role: record.role, prn: (0, prn_js_1.prn)(this.org, 'api_key', id) };
            }
        }
        else if ((0, node_crypto_1.timingSafeEqual)(digest, this.bootstrapDigest)) {
            const id = (this.bootstrapId ??= await this.loadBootstrapId());
            return { id, name: BOOTSTRAP_KEY_NAME, role: 'admin', prn: (0, prn_js_1.prn)(this.org, 'api_key', id) };
        }
        throw unauthorized("send the registry's API key as 'Authorization: Token <key>' (or Bearer)");
    }
    async loadBootstrapId() {
        return ((await this.store.meta.get('bootstrap_api_key_id')) ??
            this.store.meta.setIfAbsent('bootstrap_api_key_id', (0, node_crypto_1.randomUUID)()));
    }
}
exports.Authenticator = Authenticator;


/***/ }),

/***/ 2261:
/***/ ((__unused_webpack_module, exports, __webpack_require__) => {


Object.defineProperty(exports, "__esModule", ({ value: true }));
exports.Guard = void 0;
const http_js_1 = __webpack_require__(7969);
const store_js_1 = __webpack_require__(5554);
const event_names_js_1 = __webpack_require__(6708);
const scrub_js_1 = __webpack_require__(2474);
const roles_js_1 = __webpack_require__(4273);
/** Writes of one event while the database is unreachable: ~3 s in all, then the request fails. */
const RECORD_ATTEMPTS = 4;
const RECORD_RETRY_MS = 500;
/**
 * Runs a route for an actor: refuses what its role may not do (403 naming the role needed), then records
 * every state-changing request that succeeded as an event with who, what (before and after), when and from
 * where. The event is committed right after the change and before the response: a client that got a 2xx
 * has its event. When the event cannot be written (after retries while the database is unreachable), the
 * change stays but the answer is a 500 that says so, never a 2xx (docs/access-audit-webhooks.md).
 */
class Guard {
    deps;
    reads = new Map();
    constructor(routes, deps) {
        this.deps = deps;
        const missing = routes.filter((r) => !((0, roles_js_1.routeKey)(r.method, r.pattern) in roles_js_1.ROUTE_ACCESS) ||
            (r.method !== 'GET' && !((0, roles_js_1.routeKey)(r.method, r.pattern) in event_names_js_1.ROUTE_EVENTS)));
        if (missing.length > 0) {
            // A bug: a route shipped without a decision on who may call it or what it records.
            throw new Error(`routes without an access rule or audit event (access/roles.ts, audit/event-names.ts): ${missing
                .map((r) => (0, roles_js_1.routeKey)(r.method, r.pattern))
                .join(', ')}`);
        }
        for (const r of routes)
            if (r.method === 'GET')
                this.reads.set(r.pattern, r);
    }
    async authorize(route, request, actor) {
        const access = roles_js_1.ROUTE_ACCESS[(0, roles_js_1.routeKey)(route.method, route.pattern)];
        const body = typeof access === 'object' ? await request.body().catch(() => undefined) : undefined;
        const permission = (0, roles_js_1.permissionFor)(access, body);
        if ((0, roles_js_1.allows)(actor.role, permission))
            return;
        const roles = (0, roles_js_1.rolesAllowing)(permission);
        const needed = roles.filter((r) => r !== 'admin');
        throw new http_js_1.HttpError(403, {
            errors: {
                detail: `Forbidden: ${route.method} ${route.pattern} needs an API key with role ${needed.length ? `${needed.join(' or ')} (or admin)` : 'admin'}; the key '${actor.name}' has role ${actor.role}`,
            },
        });
    }
    async run(route, request, actor) {
        const event = route.method === 'GET' ? null : event_names_js_1.ROUTE_EVENTS[(0, roles_js_1.routeKey)(route.method, route.pattern)];
        if (!event)
            return route.handler(request);
        const before = await this.read(route.pattern, request);
        // A first signature moves its binary to `signed`: that state change is recorded as well.
        const signedBinary = event === 'binary_signature.created' ? await this.signedBinaryPrn(request) : undefined;
        const binaryBefore = signedBinary && (await this.read('/binaries/:prn', request, { prn: signedBinary }));
        const result = await route.handler(request);
        const status = result?.status ?? request.res.statusCode;
        if (status < 400) {
            await this.durably(event, () => this.record(event, route, request, actor, before, result));
            if (signedBinary && binaryBefore) {
                const binaryAfter = await this.read('/binaries/:prn', request, { prn: signedBinary });
                if (binaryAfter && binaryAfter.state !== binaryBefore.state) {
                    await this.durably('binary.state_changed', () => this.record('binary.updated', route, request, actor, binaryBefore, {
                        status,
                        body: { binary: binaryAfter },
                    }));
                }
            }
        }
        return result;
    }
    /**
     * Writes an event, retrying while the database is unreachable (a restart, a failover); if it still cannot,
     * the request fails with a 500 that says the change was made, so no 2xx goes out without its event.
     */
    async durably(event, write) {
        for (let attempt = 1;; attempt++) {
            try {
                return await write();
            }
            catch (err) {
                if (err instanceof store_js_1.StoreUnavailable && attempt < RECORD_ATTEMPTS) {
                    await new Promise((r) => setTimeout(r, RECORD_RETRY_MS * attempt));
                    continue;
                }
                const message = err.message;
                this.deps.logger.error(`audit event ${event} not recorded: ${message}`);
                throw new http_js_1.HttpError(500, {
                    errors: {
                        detail: `The change was made, but its audit event ${event} could not be recorded: ${message}`,
                    },
                });
            }
        }
    }
    async signedBinaryPrn(request) {
        const body = await request.body().catch(() => undefined);
        return typeof body?.binary_prn === 'string' ? body.binary_prn : undefined;
    }
    /** The resource's state through its own GET route (same path), or null when there is none. */
    async read(pattern, request, params = request.params) {
        const get = this.reads.get(pattern);
        // Only a path naming one resource has a state before; `/artifacts` is a list, `/_presigned` a capability.
        if (!get || !pattern.includes('/:prn') || pattern.includes('_presigned'))
            return null;
        try {
            const result = await get.handler({ ...request, params, query: new URLSearchParams() });
            return resourceOf(result?.body);
        }
        catch {
            return null;
        }
    }
    async record(event, route, request, actor, before, result) {
        const after = resourceOf(result?.body);
        const [type, action] = event.split('.');
        let subtype = action;
        const data = {
            action: `${type}.${action}`,
            actor: actor ? { api_key_prn: actor.prn, name: actor.name, role: actor.role } : null,
            remote_address: request.req.socket.remoteAddress ?? null,
            request: { method: route.method, path: route.pattern },
            before: (0, scrub_js_1.scrub)(before),
            after: (0, scrub_js_1.scrub)(after),
        };
        // Peridio's own api_key.created payload names the key; kept beside ours.
        if (event === 'api_key.created' && after)
            data.api_key_prn = after.prn;
        if (type === 'binary' && before && after && before.state !== after.state) {
            subtype = 'state_changed';
            data.from_state = before.state;
            data.to_state = after.state;
        }
        if (type === 'binary_signature' && after) {
            // What was signed and where the binary came from, as the action recorded it on the binary.
            const binary = await this.read('/binaries/:prn', request, { prn: String(after.binary_prn) });
            const metadata = (binary?.custom_metadata ?? {});
            const pick = (k) => (typeof metadata[k] === 'string' ? metadata[k] : null);
            data.signature = {
                signing_key_prn: after.signing_key_prn ?? null,
                keyid: after.keyid ?? null,
                hash: binary?.hash ?? null,
                provenance: {
                    repository: pick('repository'),
                    commit: pick('commit'),
                    ref: pick('ref'),
                    workflow_run_url: pick('workflow_run_url'),
                },
            };
        }
        const resourcePrn = after?.prn ?? before?.prn ?? request.params.prn ?? null;
        await this.deps.events.append({
            type: type,
            subtype,
            resource_prn: resourcePrn,
            actor_prn: actor?.prn ?? null,
            data: data,
        });
    }
}
exports.Guard = Guard;
/** `{binary: {...}}` → the binary; anything else → null. */
function resourceOf(body) {
    if (!body || typeof body !== 'object')
        return null;
    const values = Object.values(body).filter((v) => v && typeof v === 'object' && !Array.isArray(v));
    return values.length === 1 ? values[0] : null;
}


/***/ }),

/***/ 1209:
/***/ ((__unused_webpack_module, exports, __webpack_require__) => {


Object.defineProperty(exports, "__esModule", ({ value: true }));
exports.AccessLayer = void 0;
const dispatcher_js_1 = __webpack_require__(1955);
const routes_js_1 = __webpack_require__(7672);
const api_key_routes_js_1 = __webpack_require__(5109);
const api_keys_js_1 = __webpack_require__(6549);
const guard_js_1 = __webpack_require__(2261);
/**
 * API keys with roles, the audit trail and webhooks, as one piece server.ts plugs in: `routes` adds the
 * /api_keys and /webhooks routes, `seal` takes the complete route list (refusing a route without an access
 * rule), `authenticate` finds the actor, `run` authorizes and records the request.
 */
class AccessLayer {
    ctx;
    events;
    writer;
    dispatcher;
    routes;
    authenticator;
    guard;
    constructor(ctx, events, writer, options) {
        this.ctx = ctx;
        this.events = events;
        this.writer = writer;
        const access = ctx.store.accessStore(ctx.org);
        this.authenticator = new api_keys_js_1.Authenticator(ctx.store, access, ctx.org, (0, api_keys_js_1.keyDigest)(options.bootstrapKey));
        const allowInsecure = options.allowInsecureWebhooks ?? false;
        this.dispatcher = new dispatcher_js_1.WebhookDispatcher(access, events, ctx.org, ctx.logger, {
            ...dispatcher_js_1.DEFAULT_DISPATCH,
            allowInsecure,
            ...options.webhookDispatch,
            ...(options.sharedLeaseMs === undefined
                ? {}
                : { lease: { leases: ctx.store.leases, owner: ctx.instanceId, ms: options.sharedLeaseMs } }),
        });
        this.routes = [
            ...(0, api_key_routes_js_1.apiKeyRoutes)(access, ctx.org),
            ...(0, routes_js_1.webhookRoutes)({ access, events, dispatcher: this.dispatcher, org: ctx.org, allowInsecure }),
        ];
    }
    seal(routes) {
        this.guard = new guard_js_1.Guard(routes, { events: this.writer, logger: this.ctx.logger });
        this.dispatcher.start();
        return routes;
    }
    authenticate(req) {
        return this.authenticator.authenticate(req);
    }
    async run(route, request, actor) {
        if (actor)
            await this.guard.authorize(route, request, actor);
        return this.guard.run(route, request, actor);
    }
    close() {
        return this.dispatcher.close();
    }
}
exports.AccessLayer = AccessLayer;


/***/ }),

/***/ 4273:
/***/ ((__unused_webpack_module, exports) => {


/**
 * Who may call which route: ONE table from route to permission, and one from role to permissions. An
 * extension of Peridio's API (Peridio's own keys have user-scoped permissions we cannot see); documented in
 * docs/access-audit-webhooks.md. The registry refuses to start with a route missing from ROUTE_ACCESS, and
 * a test walks every route against every role, so a new route cannot ship without a decision here.
 */
Object.defineProperty(exports, "__esModule", ({ value: true }));
exports.routeKey = exports.ROUTE_ACCESS = exports.ROLES = void 0;
exports.permissionFor = permissionFor;
exports.allows = allows;
exports.rolesAllowing = rolesAllowing;
exports.isRole = isRole;
exports.ROLES = ['admin', 'publisher', 'signer', 'releaser', 'reader', 'device-check'];
const ROLE_PERMISSIONS = {
    admin: ['read', 'publish', 'bundle', 'sign', 'release', 'destroy', 'device-check', 'admin'],
    publisher: ['read', 'publish', 'bundle'],
    signer: ['read', 'sign'],
    releaser: ['read', 'bundle', 'release'],
    reader: ['read'],
    'device-check': ['device-check'],
};
/** Keyed by `METHOD pattern` exactly as the routes declare them. */
exports.ROUTE_ACCESS = {
    'GET /health': 'public',
    'PUT /_presigned/parts/:binary/:index': 'public',
    'GET /_presigned/download/:binary': 'public',
    // The web console's static files; everything it shows comes through the API with the user's key.
    'GET /console': 'public',
    'GET /console/:file': 'public',
    'GET /artifacts': 'read',
    'GET /artifacts/:prn': 'read',
    'POST /artifacts': 'publish',
    'PATCH /artifacts/:prn': 'publish',
    'DELETE /artifacts/:prn': 'destroy',
    'GET /artifact_versions': 'read',
    'GET /artifact_versions/:prn': 'read',
    'POST /artifact_versions': 'publish',
    'PATCH /artifact_versions/:prn': 'publish',
    'DELETE /artifact_versions/:prn': 'destroy',
    'GET /binaries': 'read',
    'GET /binaries/:prn': 'read',
    'GET /binaries/:prn/download_url': 'read',
    'POST /binaries': 'publish',
    'PATCH /binaries/:prn': {
        binaryState: { signed: 'sign', destroyed: 'destroy' },
        otherwise: 'publish',
    },
    'DELETE /binaries/:prn': 'destroy',
    'GET /binaries/:prn/parts': 'read',
    'PUT /binaries/:prn/parts/:index': 'publish',
    'GET /binary_signatures': 'read',
    'GET /binary_signatures/:prn': 'read',
    'POST /binary_signatures': 'sign',
    'DELETE /binary_signatures/:prn': 'sign',
    'GET /signing_keys': 'read',
    'GET /signing_keys/:prn': 'read',
    'POST /signing_keys': 'admin',
    'PATCH /signing_keys/:prn': 'admin',
    'DELETE /signing_keys/:prn': 'admin',
    'GET /bundles': 'read',
    'GET /bundles/:prn': 'read',
    'POST /bundles': 'bundle',
    'PATCH /bundles/:prn': 'bundle',
    'DELETE /bundles/:prn': 'destroy',
    'GET /bundles/:prn/signatures': 'read',
    'GET /bundle_signatures': 'read',
    'GET /bundle_signatures/:prn': 'read',
    'POST /bundle_signatures': 'sign',
    'DELETE /bundle_signatures/:prn': 'sign',
    'GET /releases': 'read',
    'GET /releases/:prn': 'read',
    'POST /releases': 'release',
    'PATCH /releases/:prn': 'release',
    'DELETE /releases/:prn': 'release',
    'GET /bundle_overrides': 'read',
    'GET /bundle_overrides/:prn': 'read',
    'POST /bundle_overrides': 'release',
    'PATCH /bundle_overrides/:prn': 'release',
    'DELETE /bundle_overrides/:prn': 'release',
    'GET /bundle_overrides/:prn/devices': 'read',
    'POST /bundle_overrides/:prn/devices': 'release',
    'DELETE /bundle_overrides/:prn/devices/:device': 'release',
    'GET /products': 'read',
    'GET /products/:prn': 'read',
    'POST /products': 'admin',
    'PATCH /products/:prn': 'admin',
    'GET /cohorts': 'read',
    'GET /cohorts/:prn': 'read',
    'POST /cohorts': 'admin',
    'PATCH /cohorts/:prn': 'admin',
    'GET /devices': 'read',
    'GET /devices/:prn': 'read',
    'POST /devices': 'admin',
    'PATCH /devices/:prn': 'admin',
    'POST /devices/:prn/update': 'device-check',
    'GET /events': 'read',
    'GET /api_keys': 'admin',
    'GET /api_keys/:prn': 'admin',
    'POST /api_keys': 'admin',
    'PATCH /api_keys/:prn': 'admin',
    'DELETE /api_keys/:prn': 'admin',
    'GET /webhooks': 'admin',
    'GET /webhooks/:prn': 'admin',
    'POST /webhooks': 'admin',
    'PATCH /webhooks/:prn': 'admin',
    'DELETE /webhooks/:prn': 'admin',
    'POST /webhooks/:prn/roll_secret': 'admin',
    'POST /webhooks/:prn/test_fire': 'admin',
};
const routeKey = (method, pattern) => `${method} ${pattern}`;
exports.routeKey = routeKey;
/** The permission a request needs; a binary PATCH looks at the requested `state`. */
function permissionFor(access, body) {
    if (typeof access === 'string')
        return access;
    const state = body?.state;
    return (typeof state === 'string' && access.binaryState[state]) || access.otherwise;
}
function allows(role, permission) {
    return permission === 'public' || ROLE_PERMISSIONS[role].includes(permission);
}
/** The roles that may, least powerful first (admin always last). */
function rolesAllowing(permission) {
    return [...exports.ROLES].filter((r) => allows(r, permission)).sort((a, b) => rank(a) - rank(b));
}
const rank = (role) => (role === 'admin' ? 99 : ROLE_PERMISSIONS[role].length);
function isRole(value) {
    return typeof value === 'string' && exports.ROLES.includes(value);
}


/***/ }),

/***/ 7865:
/***/ ((__unused_webpack_module, exports, __webpack_require__) => {


Object.defineProperty(exports, "__esModule", ({ value: true }));
exports.ADMIN_USAGE = void 0;
exports.runAdminCli = runAdminCli;
const node_path_1 = __webpack_require__(6760);
const node_util_1 = __webpack_require__(7975);
const api_key_routes_js_1 = __webpack_require__(5109);
const api_keys_js_1 = __webpack_require__(6549);
const json_js_1 = __webpack_require__(9140);
const prn_js_1 = __webpack_require__(6864);
const http_js_1 = __webpack_require__(7969);
const secrets_js_1 = __webpack_require__(2196);
const backends_js_1 = __webpack_require__(9352);
const pg_store_js_1 = __webpack_require__(8868);
const sqlite_store_js_1 = __webpack_require__(122);
exports.ADMIN_USAGE = `       peridio-registry api-keys create --name NAME --role ROLE [--expires 90d] [RECORDS]
       peridio-registry api-keys list [RECORDS]
       peridio-registry api-keys revoke PRN [RECORDS]
       peridio-registry audit export [--since 7d|2026-01-01T00:00:00Z] [--format jsonl|csv] [RECORDS]

RECORDS: --data-dir DIR (the embedded SQLite store, default .peridio-registry) or
         --database-url postgres://… (PERIDIO_REGISTRY_DATABASE_URL; the database a fleet shares).
Roles: admin, publisher, signer, releaser, reader, device-check (docs/access-audit-webhooks.md).
The commands work on the registry's records directly, also while it runs; a revoked key is refused at once
(by every instance of a fleet).`;
function fail(message) {
    process.stderr.write(`peridio-registry: ${message}\n${exports.ADMIN_USAGE}\n`);
    process.exit(2);
}
/** The records the commands work on: the database a fleet shares when named, else the data dir's. */
async function openStore(dataDir, databaseUrl) {
    if (databaseUrl === undefined)
        return new sqlite_store_js_1.SqliteStore((0, node_path_1.join)((0, node_path_1.resolve)(dataDir), 'registry.db'));
    const problem = (0, backends_js_1.checkChoice)({ databaseUrl });
    if (problem)
        fail(problem);
    try {
        return await pg_store_js_1.PgStore.open({ url: databaseUrl });
    }
    catch (err) {
        process.stderr.write(`peridio-registry: cannot open ${(0, backends_js_1.redactDatabaseUrl)(databaseUrl)}: ${err.message}\n`);
        process.exit(1);
    }
}
function say(err) {
    if (err instanceof http_js_1.HttpError) {
        const errors = err.body.errors ?? {};
        const text = Object.entries(errors)
            .map(([field, m]) => field === 'detail' ? String(m) : `--${field} ${Array.isArray(m) ? m.join(', ') : String(m)}`)
            .join('; ');
        fail(text);
    }
    throw err;
}
async function runAdminCli(argv) {
    let parsed;
    try {
        parsed = (0, node_util_1.parseArgs)({
            args: argv,
            allowPositionals: true,
            options: {
                'data-dir': { type: 'string', default: '.peridio-registry' },
                'database-url': { type: 'string' },
                name: { type: 'string' },
                role: { type: 'string' },
                expires: { type: 'string' },
                since: { type: 'string' },
                format: { type: 'string', default: 'jsonl' },
            },
        });
    }
    catch (err) {
        fail(err.message);
    }
    const { values, positionals } = parsed;
    const [group, command, ...rest] = positionals;
    const store = await openStore(values['data-dir'], values['database-url'] ?? (process.env.PERIDIO_REGISTRY_DATABASE_URL || undefined));
    try {
        const org = await (0, secrets_js_1.loadOrganization)(store);
        const access = store.accessStore(org);
        const command_ = `${group} ${command ?? ''}`.trim();
        if (command_ === 'api-keys create') {
            if (rest.length)
                fail(`unexpected ${rest.join(' ')}`);
            let input;
            try {
                input = (0, api_key_routes_js_1.apiKeyInput)({ name: values.name, role: values.role, expires: values.expires });
            }
            catch (err) {
                say(err);
            }
            const { record, key } = await (0, api_keys_js_1.createApiKey)(access, input);
            await recordCli(access, 'created', (0, api_key_routes_js_1.apiKeyJson)(org, record));
            process.stderr.write(`created API key '${record.name}' with role ${record.role}; it is shown only once:\n`);
            process.stdout.write(`${JSON.stringify({ ...(0, api_key_routes_js_1.apiKeyJson)(org, record), key })}\n`);
        }
        else if (command_ === 'api-keys list') {
            // Newest first, page by page.
            let after = Number.MAX_SAFE_INTEGER;
            for (;;) {
                const page = await access.pageApiKeys({ org, limit: 100, order: 'desc', after, filters: [] });
                for (const k of page.rows)
                    process.stdout.write(`${JSON.stringify((0, api_key_routes_js_1.apiKeyJson)(org, k))}\n`);
                if (!page.more)
                    break;
                after = page.rows[page.rows.length - 1].seq;
            }
        }
        else if (command_ === 'api-keys revoke') {
            if (rest.length !== 1)
                fail('api-keys revoke takes the PRN of one key');
            let id;
            try {
                id = (0, prn_js_1.pathId)(org, rest[0], 'api_key');
            }
            catch {
                fail(`'${rest[0]}' is not an API key PRN of this registry (see api-keys list)`);
            }
            const revoked = await access.revokeApiKey(id, new Date().toISOString());
            if (!revoked)
                fail(`no API key ${rest[0]}`);
            await recordCli(access, 'revoked', (0, api_key_routes_js_1.apiKeyJson)(org, revoked));
            process.stdout.write(`${JSON.stringify((0, api_key_routes_js_1.apiKeyJson)(org, revoked))}\n`);
        }
        else if (command_ === 'audit export') {
            await exportAudit(store, org, values.since, values.format);
        }
        else {
            fail(`unknown command '${command_}'`);
        }
    }
    finally {
        await store.close();
    }
}
/** The CLI's changes are audited too; its actor is whoever runs it on the registry's host. */
async function recordCli(access, subtype, after) {
    await access.appendEvents([
        {
            type: 'api_key',
            subtype,
            resource_prn: after.prn,
            actor_prn: null,
            data: {
                ...(subtype === 'created' ? { api_key_prn: after.prn } : {}),
                action: `api_key.${subtype}`,
                actor: { api_key_prn: null, name: 'peridio-registry CLI', role: 'admin' },
                remote_address: null,
                request: { method: 'CLI', path: `api-keys ${subtype === 'created' ? 'create' : 'revoke'}` },
                before: null,
                after,
            },
        },
    ]);
}
const CSV_COLUMNS = [
    'prn',
    'inserted_at',
    'type',
    'subtype',
    'resource_prn',
    'actor_prn',
    'actor_name',
    'remote_address',
    'data',
];
const csvCell = (v) => {
    const s = v === null || v === undefined ? '' : typeof v === 'string' ? v : JSON.stringify(v);
    return /[",\n\r]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
};
async function exportAudit(store, org, since, format) {
    if (format !== 'jsonl' && format !== 'csv')
        fail('--format must be jsonl or csv');
    const query = new URLSearchParams({ limit: '100', order: 'asc' });
    if (since !== undefined) {
        const ago = /^(\d{1,6})([mhdw])$/.exec(since);
        let at;
        if (ago) {
            const future = (0, api_keys_js_1.parseExpiry)(since, 0);
            if ('error' in future)
                fail(`--since ${future.error}`);
            at = new Date(Date.now() - Date.parse(future.at)).toISOString();
        }
        else {
            const ms = Date.parse(since);
            if (!/^\d{4}-\d{2}-\d{2}/.test(since) || !Number.isFinite(ms))
                fail("--since must be a duration like '7d' or an ISO date-time");
            at = new Date(ms).toISOString();
        }
        query.set('inserted_at_gte', at);
    }
    if (format === 'csv')
        process.stdout.write(`${CSV_COLUMNS.join(',')}\n`);
    const events = store.releaseStore(org);
    for (;;) {
        const page = await events.listEvents(query);
        for (const record of page.items) {
            const e = (0, json_js_1.eventJson)(org, record);
            if (format === 'jsonl') {
                process.stdout.write(`${JSON.stringify(e)}\n`);
                continue;
            }
            const data = (record.data ?? {});
            const row = [
                e.prn,
                e.inserted_at,
                e.type,
                e.event_subtype,
                e.resource_prn,
                e.actor_prn,
                data.actor?.name,
                data.remote_address,
                record.data,
            ];
            process.stdout.write(`${row.map(csvCell).join(',')}\n`);
        }
        if (!page.next_page)
            break;
        query.set('page', page.next_page);
    }
}


/***/ }),

/***/ 6708:
/***/ ((__unused_webpack_module, exports) => {


Object.defineProperty(exports, "__esModule", ({ value: true }));
exports.AUDIT_EVENT_SUBTYPES = exports.AUDIT_EVENT_TYPES = exports.KNOWN_EVENTS = exports.ROUTE_EVENTS = void 0;
/**
 * The audit trail's event for each state-changing route (`type.subtype`), and every event name the
 * registry can publish (what a webhook's `enabled_events` may list). Extension types sit beside Peridio's
 * own (`device.*`, `webhook.test_fire`, `api_key.created`); docs/access-audit-webhooks.md lists them.
 * `null`: the route records its own events (the update check records device events; test_fire its event).
 */
exports.ROUTE_EVENTS = {
    'POST /artifacts': 'artifact.created',
    'PATCH /artifacts/:prn': 'artifact.updated',
    'DELETE /artifacts/:prn': 'artifact.deleted',
    'POST /artifact_versions': 'artifact_version.created',
    'PATCH /artifact_versions/:prn': 'artifact_version.updated',
    'DELETE /artifact_versions/:prn': 'artifact_version.deleted',
    'POST /binaries': 'binary.created',
    // `binary.state_changed` instead when the state moved.
    'PATCH /binaries/:prn': 'binary.updated',
    'DELETE /binaries/:prn': 'binary.deleted',
    'PUT /binaries/:prn/parts/:index': 'binary_part.created',
    'PUT /_presigned/parts/:binary/:index': 'binary_part.uploaded',
    'POST /binary_signatures': 'binary_signature.created',
    'DELETE /binary_signatures/:prn': 'binary_signature.deleted',
    'POST /signing_keys': 'signing_key.created',
    'PATCH /signing_keys/:prn': 'signing_key.updated',
    'DELETE /signing_keys/:prn': 'signing_key.deleted',
    'POST /bundles': 'bundle.created',
    'PATCH /bundles/:prn': 'bundle.updated',
    'DELETE /bundles/:prn': 'bundle.deleted',
    'POST /bundle_signatures': 'bundle_signature.created',
    'DELETE /bundle_signatures/:prn': 'bundle_signature.deleted',
    'POST /releases': 'release.created',
    'PATCH /releases/:prn': 'release.updated',
    'DELETE /releases/:prn': 'release.deleted',
    'POST /bundle_overrides': 'bundle_override.created',
    'PATCH /bundle_overrides/:prn': 'bundle_override.updated',
    'DELETE /bundle_overrides/:prn': 'bundle_override.deleted',
    'POST /bundle_overrides/:prn/devices': 'bundle_override.device_added',
    'DELETE /bundle_overrides/:prn/devices/:device': 'bundle_override.device_removed',
    'POST /products': 'product.created',
    'PATCH /products/:prn': 'product.updated',
    'POST /cohorts': 'cohort.created',
    'PATCH /cohorts/:prn': 'cohort.updated',
    'POST /devices': 'device.created',
    // Not `device.updated`: that is Peridio's event with its own payload.
    'PATCH /devices/:prn': 'device.record_updated',
    'POST /devices/:prn/update': null,
    'POST /api_keys': 'api_key.created',
    'PATCH /api_keys/:prn': 'api_key.updated',
    'DELETE /api_keys/:prn': 'api_key.revoked',
    'POST /webhooks': 'webhook.created',
    'PATCH /webhooks/:prn': 'webhook.updated',
    'DELETE /webhooks/:prn': 'webhook.deleted',
    'POST /webhooks/:prn/roll_secret': 'webhook.secret_rolled',
    'POST /webhooks/:prn/test_fire': null,
};
/** Peridio's own event names. `webhook.request_failed` is recorded but never delivered (no recursion). */
const PERIDIO_EVENTS = [
    'device.release_changed',
    'device.claimed_release',
    'device.checked_for_release',
    'device.connected',
    'device.disconnected',
    'device.updated',
    'api_key.created',
    'webhook.test_fire',
];
const EXTRA_EVENTS = ['binary.state_changed', 'webhook.request_failed'];
exports.KNOWN_EVENTS = [
    ...new Set([
        ...PERIDIO_EVENTS,
        ...Object.values(exports.ROUTE_EVENTS).filter((e) => e !== null),
        ...EXTRA_EVENTS,
    ]),
].sort();
/** Event `type`s and `subtype`s the /events filters accept beside Peridio's. */
exports.AUDIT_EVENT_TYPES = [...new Set(exports.KNOWN_EVENTS.map((e) => e.split('.')[0]))];
exports.AUDIT_EVENT_SUBTYPES = [...new Set(exports.KNOWN_EVENTS.map((e) => e.split('.')[1]))];


/***/ }),

/***/ 4993:
/***/ ((__unused_webpack_module, exports, __webpack_require__) => {


Object.defineProperty(exports, "__esModule", ({ value: true }));
exports.EventWriter = void 0;
const group_commit_js_1 = __webpack_require__(4990);
/**
 * The events requests record (the audit trail's, the update check's), committed in groups (group-commit.ts).
 * `append` resolves once its event is committed, so a request still answers only after its event is stored.
 */
class EventWriter {
    group;
    constructor(access, written) {
        this.group = new group_commit_js_1.GroupCommit(async (events) => {
            await access.appendEvents(events);
            written();
            return events.map(() => undefined);
        });
    }
    append(event) {
        return this.group.submit(event);
    }
}
exports.EventWriter = EventWriter;


/***/ }),

/***/ 2474:
/***/ ((__unused_webpack_module, exports) => {


Object.defineProperty(exports, "__esModule", ({ value: true }));
exports.scrub = scrub;
/**
 * What an event may hold of a request's before/after state: never a secret. Webhook secrets and API keys
 * are dropped by name and by shape, and a presigned URL loses its query (the signature is the capability).
 */
const SECRET_NAME = /secret|password|private|^key$|api_key_value|authorization/i;
const KEY_SHAPE = /^pr[ks]_[A-Za-z0-9_-]{20,}$/;
function scrub(value) {
    if (Array.isArray(value))
        return value.map(scrub);
    if (value !== null && typeof value === 'object') {
        const out = {};
        for (const [k, v] of Object.entries(value)) {
            if (SECRET_NAME.test(k))
                continue;
            out[k] = scrub(v);
        }
        return out;
    }
    if (typeof value === 'string') {
        if (KEY_SHAPE.test(value))
            return '[redacted]';
        if (value.includes('/_presigned/'))
            return value.split('?')[0];
    }
    return value;
}


/***/ }),

/***/ 9352:
/***/ ((__unused_webpack_module, exports, __webpack_require__) => {


Object.defineProperty(exports, "__esModule", ({ value: true }));
exports.checkChoice = checkChoice;
exports.redactDatabaseUrl = redactDatabaseUrl;
exports.openBackends = openBackends;
exports.sharedSecrets = sharedSecrets;
const node_crypto_1 = __webpack_require__(7598);
const node_path_1 = __webpack_require__(6760);
const local_blob_store_js_1 = __webpack_require__(913);
const config_js_1 = __webpack_require__(243);
const sqlite_store_js_1 = __webpack_require__(122);
/** Why a choice cannot be used, naming the flag; undefined when it can. */
function checkChoice(choice) {
    if (choice.databaseUrl !== undefined && !/^postgres(ql)?:\/\/\S+$/.test(choice.databaseUrl))
        return '--database-url must be a postgres://user:password@host:port/database URL';
    if (choice.blobStore !== undefined && !(0, config_js_1.parseS3Url)(choice.blobStore))
        return '--blob-store must be s3://bucket or s3://bucket/prefix (a valid bucket name)';
    return undefined;
}
/** The URL as it may be shown: no password. */
function redactDatabaseUrl(url) {
    try {
        const u = new URL(url);
        if (u.password)
            u.password = '***';
        return u.toString();
    }
    catch {
        return 'postgres://(unparsable URL)';
    }
}
async function openBackends(choice, dataDir, env, onDatabaseError = () => undefined) {
    // PostgreSQL's driver and the AWS SDK load only when chosen: both cost ~20 MiB resident (bundled), a
    // third of what a registry on SQLite and a local directory needs in all.
    const store = choice.databaseUrl
        ? await (await Promise.resolve(/* import() */).then(__webpack_require__.t.bind(__webpack_require__, 8868, 23))).PgStore.open({ url: choice.databaseUrl, onError: onDatabaseError })
        : new sqlite_store_js_1.SqliteStore((0, node_path_1.join)(dataDir, 'registry.db'));
    try {
        let blobs;
        let content;
        if (choice.blobStore) {
            const settings = (0, config_js_1.s3Settings)(env, choice.s3ForcePathStyle ?? false);
            const [{ S3BlobStore }, { s3Client }] = await Promise.all([
                Promise.all(/* import() */[__webpack_require__.e(711), __webpack_require__.e(591)]).then(__webpack_require__.bind(__webpack_require__, 7591)),
                Promise.all(/* import() */[__webpack_require__.e(711), __webpack_require__.e(842)]).then(__webpack_require__.bind(__webpack_require__, 1842)),
            ]);
            const s3 = new S3BlobStore(s3Client(settings), (0, config_js_1.parseS3Url)(choice.blobStore), store.multipartUploads, settings.endpoint);
            await s3.ensureBucket();
            blobs = s3;
            content = `S3 ${s3.description}`;
        }
        else {
            blobs = await local_blob_store_js_1.LocalBlobStore.open(dataDir);
            content = `local directory ${dataDir}`;
        }
        return {
            store,
            blobs,
            shared: choice.databaseUrl !== undefined,
            records: choice.databaseUrl
                ? `PostgreSQL ${redactDatabaseUrl(choice.databaseUrl)}`
                : `SQLite ${(0, node_path_1.join)(dataDir, 'registry.db')}`,
            content,
        };
    }
    catch (err) {
        await store.close();
        throw err;
    }
}
/**
 * Secrets every instance of a fleet must share, kept in the shared database (or given in the environment):
 * the API key, and the key of the registry's own presigned URLs.
 */
async function sharedSecrets(store, env) {
    const given = env.PERIDIO_REGISTRY_API_KEY?.trim();
    const fresh = `prk_${(0, node_crypto_1.randomBytes)(24).toString('base64url')}`;
    const apiKey = given || (await store.meta.setIfAbsent('api-key', fresh));
    const secret = env.PERIDIO_REGISTRY_PRESIGN_SECRET?.trim() ||
        (await store.meta.setIfAbsent('presign-secret', (0, node_crypto_1.randomBytes)(32).toString('hex')));
    const presignSecret = Buffer.from(secret, /^([0-9a-f]{2})+$/.test(secret) ? 'hex' : 'utf8');
    return { apiKey, generated: !given && apiKey === fresh, presignSecret };
}


/***/ }),

/***/ 927:
/***/ ((__unused_webpack_module, exports) => {


Object.defineProperty(exports, "__esModule", ({ value: true }));
exports.TooLarge = exports.ContentUnavailable = void 0;
exports.hashContent = hashContent;
/** Size of the one buffer `hashContent` reads through. */
const HASH_BUFFER = 256 * 1024;
/** Feeds the whole content into `hash` through one buffer, then closes the reader; returns the byte count. */
async function hashContent(reader, hash, signal) {
    const buffer = Buffer.allocUnsafeSlow(HASH_BUFFER);
    let total = 0;
    try {
        for (let n; (n = await reader.read(buffer, total)) > 0; total += n) {
            signal?.throwIfAborted();
            hash.update(n === buffer.length ? buffer : buffer.subarray(0, n));
        }
    }
    finally {
        await reader.close();
    }
    return total;
}
/** The content store could not be reached or failed; nothing was recorded as stored. Retryable. */
class ContentUnavailable extends Error {
    constructor(what, cause) {
        super(`the content store is unavailable (${what}): ${cause?.message ?? String(cause)}`, {
            cause,
        });
    }
}
exports.ContentUnavailable = ContentUnavailable;
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

/***/ 312:
/***/ ((__unused_webpack_module, exports, __webpack_require__) => {


Object.defineProperty(exports, "__esModule", ({ value: true }));
exports.fileSink = fileSink;
const node_fs_1 = __webpack_require__(3024);
const node_stream_1 = __webpack_require__(7075);
/**
 * Frees a chunk's memory now rather than at some later garbage collection, when the chunk is the whole
 * of its ArrayBuffer (as each body chunk the HTTP parser hands over is: a copy of its own). A detached
 * buffer reads as empty, so this is only for chunks nobody else holds.
 */
function release(chunk) {
    if (chunk.byteOffset !== 0 || chunk.byteLength !== chunk.buffer.byteLength)
        return;
    try {
        chunk.buffer.transfer(0);
    }
    catch {
        /* not detachable: it goes with a later collection, as any other */
    }
}
/** Every byte of `buffers`, in order: one write may take fewer than all (fs.WriteStream allows for it too). */
function writeAll(fd, buffers, callback) {
    (0, node_fs_1.writev)(fd, buffers, (err, written) => {
        if (err)
            return callback(err);
        if (written === 0)
            return callback(new Error('the write made no progress'));
        const rest = [...buffers];
        let skip = written;
        while (rest.length > 0 && skip >= rest[0].length)
            skip -= rest.shift().length;
        if (skip > 0)
            rest[0] = rest[0].subarray(skip);
        if (rest.length === 0)
            callback(null);
        else
            writeAll(fd, rest, callback);
    });
}
/**
 * A new file (`wx`), fsynced before it is closed, so its bytes are durable before any rename. Unlike
 * `fs.createWriteStream`, it can free each chunk as soon as it is written (`releaseChunks`): V8 collects
 * such buffers only once 64 MiB more of them exist than at its last collection, so uploads at disk speed
 * kept 50–60 MiB of written chunks alive at any time, and the allocator's fragmentation around them kept
 * the resident set high afterwards (183 MiB with 8 uploads at once, 184 MiB for one of 4 GiB).
 */
function fileSink(path, options) {
    let fd;
    // Closing under a write in flight could let a new file take the descriptor and the write land there.
    let busy = false;
    let whenIdle;
    const done = () => {
        busy = false;
        whenIdle?.();
    };
    return new node_stream_1.Writable({
        construct(callback) {
            (0, node_fs_1.open)(path, 'wx', (err, opened) => {
                fd = opened;
                callback(err);
            });
        },
        writev(chunks, callback) {
            const buffers = chunks.map((c) => c.chunk);
            try {
                for (const buffer of buffers)
                    options.inspect(buffer);
            }
            catch (err) {
                return callback(err);
            }
            busy = true;
            writeAll(fd, buffers, (err) => {
                done();
                if (!err && options.releaseChunks)
                    buffers.forEach(release);
                callback(err);
            });
        },
        final(callback) {
            busy = true;
            (0, node_fs_1.fsync)(fd, (err) => {
                const opened = fd;
                fd = undefined;
                (0, node_fs_1.close)(opened, (closeErr) => {
                    done();
                    callback(err ?? closeErr);
                });
            });
        },
        destroy(err, callback) {
            const finish = () => {
                if (fd === undefined)
                    return callback(err);
                const opened = fd;
                fd = undefined;
                (0, node_fs_1.close)(opened, () => callback(err));
            };
            if (busy)
                whenIdle = finish;
            else
                finish();
        },
    });
}


/***/ }),

/***/ 1489:
/***/ ((__unused_webpack_module, exports, __webpack_require__) => {


Object.defineProperty(exports, "__esModule", ({ value: true }));
exports.FilesReader = void 0;
exports.chunksOf = chunksOf;
const promises_1 = __webpack_require__(1455);
/**
 * Files read as one content, one after another (a blob's segments, or a part's one file), by position into
 * the caller's buffer. One file is open at a time: a download walks its segments in order.
 */
class FilesReader {
    segments;
    size;
    starts = [];
    current;
    constructor(segments) {
        this.segments = segments;
        let offset = 0;
        for (const segment of segments) {
            this.starts.push(offset);
            offset += segment.size;
        }
        this.size = offset;
    }
    async read(buffer, position, length = buffer.length) {
        let filled = 0;
        while (filled < length && position + filled < this.size) {
            const at = position + filled;
            const index = this.segmentAt(at);
            const segment = this.segments[index];
            const within = at - this.starts[index];
            const handle = await this.handleOf(index);
            const want = Math.min(length - filled, segment.size - within);
            const { bytesRead } = await handle.read(buffer, filled, want, within);
            if (bytesRead === 0) {
                if (segment.size === Infinity)
                    break;
                // Going on with the next file would shift every later byte: refuse rather than serve other content.
                throw new Error(`${segment.path} is shorter than when it was opened (${segment.size} bytes)`);
            }
            filled += bytesRead;
        }
        return filled;
    }
    async close() {
        const current = this.current;
        this.current = undefined;
        await current?.handle.close();
    }
    /** The last segment starting at or before `at`: never an empty one while `at` is inside the content. */
    segmentAt(at) {
        let lo = 0;
        let hi = this.starts.length - 1;
        while (lo < hi) {
            const mid = (lo + hi + 1) >> 1;
            if (this.starts[mid] <= at)
                lo = mid;
            else
                hi = mid - 1;
        }
        return lo;
    }
    async handleOf(index) {
        if (this.current?.index === index)
            return this.current.handle;
        await this.close();
        const handle = await (0, promises_1.open)(this.segments[index].path, 'r');
        this.current = { index, handle };
        return handle;
    }
}
exports.FilesReader = FilesReader;
/** Chunks of a fresh buffer each, for callers that keep them; at most `chunkSize` bytes. */
async function* chunksOf(reader, start, end, chunkSize, signal) {
    try {
        for (let position = start; position <= end;) {
            signal?.throwIfAborted();
            const buffer = Buffer.allocUnsafe(Math.min(chunkSize, end - position + 1));
            const n = await reader.read(buffer, position);
            if (n === 0)
                return;
            position += n;
            yield n === buffer.length ? buffer : buffer.subarray(0, n);
        }
    }
    finally {
        await reader.close();
    }
}


/***/ }),

/***/ 913:
/***/ ((__unused_webpack_module, exports, __webpack_require__) => {


Object.defineProperty(exports, "__esModule", ({ value: true }));
exports.LocalBlobStore = void 0;
const node_crypto_1 = __webpack_require__(7598);
const promises_1 = __webpack_require__(1455);
const node_path_1 = __webpack_require__(6760);
const promises_2 = __webpack_require__(6466);
const blob_store_js_1 = __webpack_require__(927);
const file_sink_js_1 = __webpack_require__(312);
const files_reader_js_1 = __webpack_require__(1489);
const part_hash_worker_js_1 = __webpack_require__(8821);
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const SHA256 = /^[0-9a-f]{64}$/;
const PART_FILE = /^\d{1,5}-[0-9a-f]{64}$/;
/** Chunk size of the iterable reads (readPart, readBlob), whose every chunk is a new buffer. */
const CHUNK = 1024 * 1024;
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
    hashes;
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
    async stagePart(body, maxBytes, options = {}) {
        const tmp = this.tmpPath();
        const hash = (0, node_crypto_1.createHash)('sha256');
        let bytes = 0;
        const inspect = (chunk) => {
            bytes += chunk.length;
            if (bytes > maxBytes)
                throw new blob_store_js_1.TooLarge(maxBytes);
            hash.update(chunk);
        };
        try {
            await (0, promises_2.pipeline)(body, (0, file_sink_js_1.fileSink)(tmp, { inspect, releaseChunks: options.releaseChunks ?? false }));
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
        yield* (0, files_reader_js_1.chunksOf)(await this.openPart(binaryId, file), 0, Infinity, CHUNK, signal);
    }
    async openPart(binaryId, file) {
        const path = this.partPath(binaryId, file);
        await (0, promises_1.stat)(path); // absent: ENOENT now, not at the first read
        return new files_reader_js_1.FilesReader([{ path, size: Infinity }]);
    }
    partHashes() {
        // One worker for the store, started on first use.
        this.hashes ??= new part_hash_worker_js_1.PartHashWorker((binaryId, file) => this.partPath(binaryId, file));
        return this.hashes;
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
        const reader = await this.openBlob(sha256);
        if (reader)
            yield* (0, files_reader_js_1.chunksOf)(reader, start, Math.min(end, reader.size - 1), CHUNK);
    }
    async openBlob(sha256) {
        const segments = await this.segments(sha256);
        return segments && new files_reader_js_1.FilesReader(segments);
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

/***/ 8821:
/***/ ((__unused_webpack_module, exports, __webpack_require__) => {


Object.defineProperty(exports, "__esModule", ({ value: true }));
exports.PartHashWorker = void 0;
/**
 * Running SHA-256 hashes over part files, computed in a worker thread. The registry hashes each upload's
 * content while its parts arrive (prefix-digest.ts); on the main thread that second pass over every byte
 * (reads, SHA-256, and a fresh buffer per chunk for the collector) took a sixth of the event loop during a
 * 1 GiB upload, time the uploads it was receiving waited for. Here it runs beside them, reading with one
 * reused buffer.
 */
const node_worker_threads_1 = __webpack_require__(5919);
// Inline, so the ncc bundle needs no extra file (as core's part hashers do).
const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads');
const { createHash } = require('node:crypto');
const { openSync, readSync, closeSync } = require('node:fs');
const hashes = new Map();
const buffer = Buffer.allocUnsafeSlow(1024 * 1024);
parentPort.on('message', (m) => {
  if (m.op === 'drop') return hashes.delete(m.id);
  try {
    let hash = hashes.get(m.id);
    if (!hash) hashes.set(m.id, (hash = createHash('sha256')));
    if (m.op === 'digest') {
      hashes.delete(m.id);
      return parentPort.postMessage({ seq: m.seq, hex: hash.digest('hex') });
    }
    const fd = openSync(m.path, 'r');
    let bytes = 0;
    try {
      for (let n; (n = readSync(fd, buffer, 0, buffer.length, null)) > 0; bytes += n) hash.update(buffer.subarray(0, n));
    } finally {
      closeSync(fd);
    }
    parentPort.postMessage({ seq: m.seq, bytes });
  } catch (err) {
    hashes.delete(m.id);
    parentPort.postMessage({ seq: m.seq, error: (err && (err.code || err.message)) || String(err) });
  }
});
`;
class PartHashWorker {
    pathOf;
    worker;
    waiting = new Map();
    seq = 0;
    ids = 0;
    closed = false;
    constructor(pathOf) {
        this.pathOf = pathOf;
    }
    open() {
        const id = ++this.ids;
        // A hash belongs to the worker it started on: if that one died, its state is gone with it.
        const worker = this.running();
        let ended = false;
        const send = async (message, what) => {
            if (ended)
                throw new Error('running hash already ended');
            if (this.worker !== worker)
                throw new Error('the hashing worker stopped');
            const seq = ++this.seq;
            const reply = new Promise((resolve, reject) => this.waiting.set(seq, { resolve, reject }));
            worker.ref(); // an answer is due: until it comes, the worker must not be left behind
            worker.postMessage({ ...message, seq, id });
            const answer = await reply.catch((err) => {
                ended = true;
                throw err;
            });
            if (answer.error !== undefined) {
                // The worker dropped the hash: appending on would silently start over.
                ended = true;
                throw new Error(`hashing ${what}: ${answer.error}`);
            }
            return answer;
        };
        return {
            append: async (binaryId, file) => (await send({ op: 'append', path: this.pathOf(binaryId, file) }, `part ${file}`)).bytes ?? 0,
            digest: async () => {
                const { hex } = await send({ op: 'digest' }, 'the digest');
                ended = true;
                return hex ?? '';
            },
            drop: () => {
                if (ended)
                    return;
                ended = true;
                if (this.worker === worker)
                    worker.postMessage({ op: 'drop', id });
            },
        };
    }
    async close() {
        this.closed = true;
        const worker = this.worker;
        this.worker = undefined;
        this.fail(new Error('the registry is stopping'));
        await worker?.terminate();
    }
    running() {
        if (this.closed)
            throw new Error('the registry is stopping');
        if (this.worker)
            return this.worker;
        const worker = new node_worker_threads_1.Worker(WORKER_SOURCE, { eval: true });
        worker.unref();
        worker.on('message', (reply) => {
            const waiter = this.waiting.get(reply.seq);
            this.waiting.delete(reply.seq);
            if (this.waiting.size === 0)
                worker.unref();
            waiter?.resolve(reply);
        });
        const died = (err) => {
            if (this.worker !== worker)
                return;
            this.worker = undefined;
            this.fail(err);
        };
        worker.on('error', died);
        worker.on('exit', (code) => died(new Error(`the hashing worker exited (code ${code})`)));
        this.worker = worker;
        return worker;
    }
    fail(err) {
        for (const waiter of this.waiting.values())
            waiter.reject(err);
        this.waiting.clear();
    }
}
exports.PartHashWorker = PartHashWorker;


/***/ }),

/***/ 243:
/***/ ((__unused_webpack_module, exports) => {


/** Where an S3 store is and how to reach it: no SDK here, so choosing the local directory never loads it. */
Object.defineProperty(exports, "__esModule", ({ value: true }));
exports.parseS3Url = parseS3Url;
exports.s3Settings = s3Settings;
/** `s3://bucket[/prefix]` → bucket and key prefix; undefined when it is not such a URL. */
function parseS3Url(url) {
    const m = /^s3:\/\/([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])(?:\/(.*))?$/.exec(url);
    if (!m)
        return undefined;
    const prefix = (m[2] ?? '').replace(/^\/+|\/+$/g, '');
    return { bucket: m[1], prefix: prefix ? `${prefix}/` : '' };
}
/** Endpoint, region and keys from the standard AWS variables of `env`. */
function s3Settings(env, forcePathStyle) {
    return {
        endpoint: env.AWS_ENDPOINT_URL_S3 || env.AWS_ENDPOINT_URL || undefined,
        region: env.AWS_REGION || env.AWS_DEFAULT_REGION || 'us-east-1',
        forcePathStyle,
        ...(env.AWS_ACCESS_KEY_ID && env.AWS_SECRET_ACCESS_KEY
            ? {
                credentials: {
                    accessKeyId: env.AWS_ACCESS_KEY_ID,
                    secretAccessKey: env.AWS_SECRET_ACCESS_KEY,
                    ...(env.AWS_SESSION_TOKEN ? { sessionToken: env.AWS_SESSION_TOKEN } : {}),
                },
            }
            : {}),
    };
}


/***/ }),

/***/ 1467:
/***/ ((__unused_webpack_module, exports, __webpack_require__) => {


Object.defineProperty(exports, "__esModule", ({ value: true }));
exports.fail = fail;
exports.runtimeFail = runtimeFail;
exports.integer = integer;
exports.runCli = runCli;
const node_path_1 = __webpack_require__(6760);
const node_util_1 = __webpack_require__(7975);
const admin_cli_js_1 = __webpack_require__(7865);
const backends_js_1 = __webpack_require__(9352);
const migrate_js_1 = __webpack_require__(1524);
const serve_js_1 = __webpack_require__(2661);
// `npx peridio-registry` is what works from a clone (it puts the Node 24 of `npm ci` on PATH first).
const USAGE = `Usage: npx peridio-registry serve [--host 127.0.0.1] [--port 4000] [--data-dir .peridio-registry]
                                  [--public-url URL] [--presign-ttl SECONDS] [--idle-timeout SECONDS]
                                  [--body-timeout SECONDS] [--max-connections N] [--signing-ca FILE]...
                                  [--database-url postgres://…] [--blob-store s3://bucket[/prefix]]
                                  [--s3-force-path-style] [--s3-abandoned-upload-age SECONDS]
                                  [--allow-insecure-webhooks]
       npx peridio-registry migrate --from <data-dir> --to postgres://… --to s3://bucket[/prefix]
${admin_cli_js_1.ADMIN_USAGE}

A self-hosted registry speaking Peridio's Admin API. Records live in SQLite and content in the data dir
unless --database-url / --blob-store name PostgreSQL and an S3 bucket (then several instances may serve the
same registry). S3 endpoint, region and keys come from AWS_ENDPOINT_URL_S3 (or AWS_ENDPOINT_URL), AWS_REGION,
AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY.
  --signing-ca FILE  (repeatable) PEM CA certificates; a certificate signing key must be issued by one
  --idle-timeout     close a connection silent this long, also mid-upload (default 60)
  --body-timeout     a JSON request body must arrive within this (default 30)
  --max-connections  refuse connections beyond this many (default 256)
Files and directories it creates are readable by the owner only (0600/0700).
Env: PERIDIO_REGISTRY_API_KEY (else a key is generated, stored in <data-dir>/api-key or the database),
     PERIDIO_REGISTRY_DATABASE_URL, PERIDIO_REGISTRY_BLOB_STORE, PERIDIO_REGISTRY_S3_FORCE_PATH_STYLE=1
     (the flags' defaults), PERIDIO_REGISTRY_PRESIGN_SECRET (else kept in the data dir or the database),
     PERIDIO_REGISTRY_LEASE_MS (background work lease, default 30000),
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
const OPTIONS = {
    host: { type: 'string', default: '127.0.0.1' },
    port: { type: 'string', default: '4000' },
    'data-dir': { type: 'string', default: '.peridio-registry' },
    'public-url': { type: 'string' },
    'presign-ttl': { type: 'string', default: '3600' },
    'signing-ca': { type: 'string', multiple: true, default: [] },
    'idle-timeout': { type: 'string', default: '60' },
    'body-timeout': { type: 'string', default: '30' },
    'max-connections': { type: 'string', default: '256' },
    'database-url': { type: 'string' },
    'blob-store': { type: 'string' },
    's3-force-path-style': { type: 'boolean' },
    's3-abandoned-upload-age': { type: 'string', default: String(24 * 3600) },
    from: { type: 'string' },
    to: { type: 'string', multiple: true },
    'allow-insecure-webhooks': { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h' },
};
function parse(argv) {
    return (0, node_util_1.parseArgs)({ args: argv, allowPositionals: true, options: OPTIONS });
}
async function runCli(argv) {
    if ((argv[0] === 'api-keys' || argv[0] === 'audit') && !argv.includes('--help') && !argv.includes('-h'))
        return (0, admin_cli_js_1.runAdminCli)(argv);
    let parsed;
    try {
        parsed = parse(argv);
    }
    catch (err) {
        fail(err.message);
    }
    const { values, positionals } = parsed;
    if (values.help) {
        process.stdout.write(`${USAGE}\n`);
        return;
    }
    if (positionals.length !== 1 || !['serve', 'migrate'].includes(positionals[0]))
        fail('expected the command `serve` or `migrate`');
    const env = process.env;
    const logger = stderrLogger(env.PERIDIO_REGISTRY_DEBUG === '1');
    if (positionals[0] === 'migrate')
        await migrateCommand(values, env, logger);
    else
        await (0, serve_js_1.serve)(values, env, logger);
}
async function migrateCommand(values, env, logger) {
    if (!values.from)
        fail('migrate needs --from <data-dir>');
    const to = values.to ?? [];
    const choice = {
        databaseUrl: to.find((t) => /^postgres/.test(t)) ?? env.PERIDIO_REGISTRY_DATABASE_URL,
        blobStore: to.find((t) => t.startsWith('s3://')) ?? env.PERIDIO_REGISTRY_BLOB_STORE,
        s3ForcePathStyle: values['s3-force-path-style'] ?? env.PERIDIO_REGISTRY_S3_FORCE_PATH_STYLE === '1',
    };
    const unknown = to.filter((t) => !/^postgres/.test(t) && !t.startsWith('s3://'));
    if (unknown.length > 0)
        fail(`--to takes a postgres:// or an s3:// URL, not ${unknown.join(', ')}`);
    if (!choice.databaseUrl || !choice.blobStore)
        fail('migrate needs --to postgres://… and --to s3://bucket[/prefix] (or their PERIDIO_REGISTRY_* variables)');
    const problem = (0, backends_js_1.checkChoice)(choice);
    if (problem)
        fail(problem);
    const report = await (0, migrate_js_1.migrate)((0, node_path_1.resolve)(values.from), choice, env, logger);
    process.stdout.write(`${report.summary}\n`);
    process.exit(report.ok ? 0 : 1);
}


/***/ }),

/***/ 8556:
/***/ ((__unused_webpack_module, exports, __webpack_require__) => {


Object.defineProperty(exports, "__esModule", ({ value: true }));
exports.partUploadUrl = partUploadUrl;
exports.downloadUrl = downloadUrl;
exports.syncDirectParts = syncDirectParts;
exports.completeDirectUpload = completeDirectUpload;
const lifecycle_js_1 = __webpack_require__(3837);
const time_js_1 = __webpack_require__(7360);
/**
 * Where content goes and comes from, whichever store holds it: the registry's own HMAC URLs for content it
 * proxies (local directory), the content store's presigned URLs for direct stores (S3).
 */
async function partUploadUrl(ctx, baseUrl, binary, part) {
    const direct = ctx.blobs.direct;
    if (!direct)
        return ctx.presigner.partUrl(baseUrl, binary.id, part.idx, part.hash);
    return direct.presignPart({ binaryId: binary.id, generation: binary.upload_generation }, part.idx, { hash: part.hash, size: part.size }, ctx.presigner.ttlSeconds);
}
async function downloadUrl(ctx, baseUrl, binary) {
    const direct = ctx.blobs.direct;
    if (!direct)
        return ctx.presigner.downloadUrl(baseUrl, binary.id, binary.blob_hash);
    return direct.presignDownload({ binaryId: binary.id, generation: binary.upload_generation }, ctx.presigner.ttlSeconds);
}
/**
 * A direct store receives parts without the registry: bring the part records of an uploadable binary in line
 * with what the store holds. A part is valid when the store has it with the registered size and, where the
 * store keeps SHA-256 checksums (AWS), the registered hash; where it keeps none (Ceph RGW 16), the hash is
 * proven by the check of the whole content at `hashing`.
 */
async function syncDirectParts(ctx, binary) {
    const direct = ctx.blobs.direct;
    if (!direct || binary.state !== 'uploadable')
        return;
    const generation = binary.upload_generation;
    const stored = await direct.listParts({ binaryId: binary.id, generation });
    const verdict = (part) => {
        const s = stored.get(part.idx);
        if (!s)
            return 'uploadable';
        if (s.size !== part.size)
            return 'invalid_size';
        if (s.sha256 !== undefined && s.sha256 !== part.hash)
            return 'invalid_hash';
        return 'valid';
    };
    const stale = (parts) => parts.filter((p) => verdict(p) !== p.state);
    if (stale(await ctx.store.parts.list(binary.id)).length === 0)
        return;
    await (0, lifecycle_js_1.changeBinary)(ctx, binary.id, async (tx) => {
        const current = await (0, lifecycle_js_1.findBinary)(ctx, binary.id, tx);
        if (current?.state !== 'uploadable' || current.upload_generation !== generation)
            return;
        const at = (0, time_js_1.nowTimestamp)();
        for (const part of stale(await tx.parts.list(binary.id))) {
            const expect = { hash: part.hash, size: part.size };
            const v = verdict(part);
            if (v === 'valid')
                await tx.parts.markValid(binary.id, part.idx, expect, `s3-part-${part.idx}`, at);
            else if (part.state === 'valid' || v === 'uploadable') {
                // Gone from the store (an aborted upload): waits for its bytes again.
                await tx.parts.register({
                    binaryId: binary.id,
                    idx: part.idx,
                    id: part.id,
                    org: part.org,
                    ...expect,
                    at,
                });
            }
            else
                await tx.parts.markRejected(binary.id, part.idx, expect, v, at);
        }
    });
}
/**
 * At `hashable` the direct store's upload becomes one object. Best effort: the record is hashable already,
 * and the hash check completes the upload itself when this did not (the store was unreachable).
 */
async function completeDirectUpload(ctx, binary) {
    const direct = ctx.blobs.direct;
    if (!direct)
        return;
    const parts = await ctx.store.parts.list(binary.id);
    try {
        await direct.complete({ binaryId: binary.id, generation: binary.upload_generation }, parts.map((p) => p.idx));
    }
    catch (err) {
        ctx.logger.warning(`binary ${binary.id}: completing its upload failed, the hash check retries: ${err.message}`);
    }
}


/***/ }),

/***/ 8884:
/***/ ((__unused_webpack_module, exports, __webpack_require__) => {


Object.defineProperty(exports, "__esModule", ({ value: true }));
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
// eslint-disable-next-line no-control-regex -- matching control characters is the point: fields refuse them.
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
const MAX_METADATA_BYTES = 1_000_000;
/** custom_metadata as stored JSON text, or undefined when not given. */
function optionalMetadata(body, key = 'custom_metadata') {
    if (!given(body, key))
        return undefined;
    const value = body[key];
    if (typeof value !== 'object' || Array.isArray(value))
        throw (0, http_js_1.fieldError)(key, 'is invalid: must be a JSON object');
    const text = JSON.stringify(value);
    if (Buffer.byteLength(text) > MAX_METADATA_BYTES)
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

/***/ 4990:
/***/ ((__unused_webpack_module, exports) => {


Object.defineProperty(exports, "__esModule", ({ value: true }));
exports.GroupCommit = void 0;
/**
 * Group commit: what is submitted during one turn of the event loop, and while a commit is under way, goes
 * to the next commit together, so many requests share one durable write instead of one each. node:sqlite
 * commits synchronously, blocking the process for the fsync: one commit per update check capped the checks
 * at a few hundred a second. `submit` resolves with the item's own result once its commit is done, so a
 * request still answers only after what it wrote is stored; a failed commit fails every item in it.
 */
class GroupCommit {
    commit;
    batch = [];
    writing = false;
    /** `commit` stores the items in order and answers one result per item. */
    constructor(commit) {
        this.commit = commit;
    }
    submit(item) {
        return new Promise((done, fail) => {
            this.batch.push({ item, done, fail });
            if (!this.writing)
                void this.flush();
        });
    }
    async flush() {
        this.writing = true;
        // After the requests already read in this turn have submitted theirs (node:sqlite never yields).
        await new Promise((resolve) => setImmediate(resolve));
        while (this.batch.length > 0) {
            const batch = this.batch;
            this.batch = [];
            try {
                const results = await this.commit(batch.map((b) => b.item));
                batch.forEach((b, i) => b.done(results[i]));
            }
            catch (err) {
                for (const b of batch)
                    b.fail(err);
            }
        }
        this.writing = false;
    }
}
exports.GroupCommit = GroupCommit;


/***/ }),

/***/ 5518:
/***/ ((__unused_webpack_module, exports, __webpack_require__) => {


Object.defineProperty(exports, "__esModule", ({ value: true }));
exports.Hasher = void 0;
const node_crypto_1 = __webpack_require__(7598);
const promises_1 = __webpack_require__(8500);
const janitor_js_1 = __webpack_require__(4664);
const blob_store_js_1 = __webpack_require__(927);
const lifecycle_js_1 = __webpack_require__(3837);
const prefix_digest_js_1 = __webpack_require__(5450);
const time_js_1 = __webpack_require__(7360);
class Hasher {
    ctx;
    queue = [];
    running;
    abort = new AbortController();
    poller;
    delayMs;
    leaseMs;
    shared;
    /** Running hashes of the parts uploaded so far, so the check at `hashing` only reads the tail. */
    prefixes;
    constructor(ctx, options = {}) {
        this.ctx = ctx;
        this.delayMs = options.delayMs ?? 0;
        this.leaseMs = options.leaseMs ?? 30_000;
        this.prefixes = new prefix_digest_js_1.PrefixDigests(ctx, this.abort.signal);
        this.shared = options.shared ?? false;
        if (this.shared) {
            this.poller = setInterval(() => {
                this.requeueInterrupted().catch((err) => ctx.logger.debug(`looking for unchecked binaries failed: ${err.message}`));
            }, Math.max(250, this.leaseMs / 2));
            this.poller.unref();
        }
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
        clearInterval(this.poller);
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
    /** Under a lease, so of several instances one checks a binary, and another once that one died. */
    async hash(binaryId) {
        const { ctx } = this;
        if (!this.shared)
            return this.check(binaryId);
        const lease = `hash:${binaryId}`;
        if (!(await ctx.store.leases.claim(lease, ctx.instanceId, this.leaseMs)))
            return;
        const renew = setInterval(() => {
            ctx.store.leases.claim(lease, ctx.instanceId, this.leaseMs).catch(() => undefined);
        }, this.leaseMs / 3);
        try {
            await this.check(binaryId);
        }
        finally {
            clearInterval(renew);
            await ctx.store.leases.release(lease, ctx.instanceId).catch(() => undefined);
        }
    }
    async check(binaryId) {
        const { ctx } = this;
        if (this.delayMs > 0)
            await (0, promises_1.setTimeout)(this.delayMs, undefined, { signal: this.abort.signal });
        const binary = await (0, lifecycle_js_1.findBinary)(ctx, binaryId);
        if (!binary || binary.state !== 'hashing')
            return;
        if (ctx.blobs.direct)
            return this.checkDirect(binary, ctx.blobs.direct);
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
                    const reader = await ctx.blobs.openPart(binaryId, part.file ?? '');
                    total += await (0, blob_store_js_1.hashContent)(reader, hash, this.abort.signal);
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
    /**
     * The check for content in a direct store (S3): complete the upload if `hashable` did not, stream the
     * object once and compare. S3's own checksums of a multipart object are per part (a checksum of checksums),
     * not the SHA-256 of the whole content, so they cannot stand in for this read. A store that cannot be
     * reached leaves the binary in `hashing`; the check runs again (this instance's poll, or another's).
     */
    async checkDirect(binary, direct) {
        const { ctx } = this;
        const generation = binary.upload_generation;
        const upload = { binaryId: binary.id, generation };
        const parts = await ctx.store.parts.list(binary.id);
        let failure = (0, lifecycle_js_1.incompleteReason)(binary, parts);
        let digest = '';
        if (!failure) {
            try {
                await direct.complete(upload, parts.map((p) => p.idx));
                const hash = (0, node_crypto_1.createHash)('sha256');
                let total = 0;
                for await (const chunk of direct.read(upload, this.abort.signal)) {
                    hash.update(chunk);
                    total += chunk.length;
                }
                digest = hash.digest('hex');
                if (total !== binary.size)
                    failure = `the content is ${total} bytes, the binary's size is ${binary.size}`;
                else if (digest !== binary.hash)
                    failure = `the content's SHA-256 is ${digest}, the binary's hash is ${binary.hash}`;
            }
            catch (err) {
                if (this.abort.signal.aborted)
                    throw err;
                if (err instanceof blob_store_js_1.ContentUnavailable) {
                    ctx.logger.warning(`binary ${binary.id}: hash check postponed: ${err.message}`);
                    setTimeout(() => this.enqueue(binary.id), Math.min(this.leaseMs, 5_000)).unref();
                    return;
                }
                failure = `the uploaded content could not be completed or read (${err.message})`;
            }
        }
        await (0, lifecycle_js_1.changeBinary)(ctx, binary.id, async (tx) => {
            const current = await (0, lifecycle_js_1.findBinary)(ctx, binary.id, tx);
            if (!current || current.state !== 'hashing' || current.upload_generation !== generation)
                return;
            if (failure) {
                ctx.logger.warning(`binary ${binary.id}: server-side hash check failed, back to uploadable: ${failure}`);
                await (0, lifecycle_js_1.resetToUploadable)(tx, current, `server-side hash check failed: ${failure}`);
                return;
            }
            await tx.binaries.transition(binary.id, { to: 'signable', generation, blobHash: digest }, (0, time_js_1.nowTimestamp)());
            ctx.logger.info(`binary ${binary.id}: content verified (${binary.size} bytes), signable`);
        });
    }
}
exports.Hasher = Hasher;


/***/ }),

/***/ 7969:
/***/ ((__unused_webpack_module, exports) => {


Object.defineProperty(exports, "__esModule", ({ value: true }));
exports.MAX_JSON_VALUES = exports.MAX_JSON_DEPTH = exports.HttpError = void 0;
exports.detailError = detailError;
exports.fieldError = fieldError;
exports.notFound = notFound;
exports.sendJson = sendJson;
exports.stringifyJson = stringifyJson;
exports.setBodyTimeout = setBodyTimeout;
exports.readJsonBody = readJsonBody;
/** An error answer; the router turns it into JSON in one of the error shapes Peridio's API answers with. */
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
const MAX_JSON_BODY_BYTES = 2 * 1024 * 1024;
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
    return new HttpError(413, { errors: { detail: `Request body larger than ${MAX_JSON_BODY_BYTES} bytes` } }, { connection: 'close' });
}
/**
 * Reads a JSON object body (≤ 2 MiB: custom_metadata may hold 1 MB) within the request's body timeout.
 * Empty body → `{}`.
 */
async function readJsonBody(req) {
    const declared = Number(req.headers['content-length'] ?? 0);
    if (declared > MAX_JSON_BODY_BYTES) {
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
            if (total > MAX_JSON_BODY_BYTES)
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
    owner;
    running = Promise.resolve();
    /**
     * Items whose deletion failed are retried at the next start only: a sweep runs under the lock of the binary
     * whose change made the garbage, not of the binaries whose older garbage it would retry.
     */
    failed = new Set();
    constructor(store, blobs, locks, logger, 
    /**
     * This instance, for the per-item leases that keep instances sharing the store from deleting the same
     * item at once; none for a store only this process uses.
     */
    owner) {
        this.store = store;
        this.blobs = blobs;
        this.locks = locks;
        this.logger = logger;
        this.owner = owner;
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
            const lease = `garbage:${id}`;
            const owner = this.owner;
            if (owner && !(await this.store.leases.claim(lease, owner, 120_000)))
                continue; // another instance's
            try {
                await this.delete(item);
                await this.store.contentGarbage.done(id);
                if (owner)
                    await this.store.leases.release(lease, owner);
            }
            catch (err) {
                // Kept in the list: the next start tries again.
                this.failed.add(id);
                this.logger.warning(`deleting content (${describe(item)}) failed: ${err.message}`);
            }
        }
    }
    async delete(item) {
        const direct = this.blobs.direct;
        if (direct) {
            // Each upload generation is its own object: a dead generation's upload goes whole, and nothing is
            // shared between binaries (no blob to reference-count).
            if (item.kind === 'parts')
                await direct.remove(item.binaryId, item.generation);
            return;
        }
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
 * The binary state machine of Peridio's Admin API:
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
 * Runs fn in a transaction while holding the binary's lock (in this process, and its record's row lock in the
 * database for other instances), then deletes what it made garbage. Every
 * change of a binary's state or parts goes through here, so a part upload never commits between a reset's
 * record change and its content deletion.
 */
async function changeBinary(ctx, binaryId, fn) {
    return ctx.locks.run((0, janitor_js_1.binaryLock)(binaryId), async () => {
        // The in-process lock orders this instance's requests; the row lock orders them with other instances'.
        const result = await ctx.store.transaction(async (tx) => {
            await tx.binaries.lock(binaryId);
            return fn(tx);
        });
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
    await tx.contentGarbage.add({ kind: 'parts', binaryId: binary.id, generation: binary.upload_generation }, at);
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
exports.listRows = listRows;
const http_js_1 = __webpack_require__(7969);
const search_js_1 = __webpack_require__(7389);
/**
 * `limit` (1..100, default 10), `order` by insertion (`asc` default), `search`, and an opaque `page` cursor
 * that carries the position, the order and the search, so following `next_page` alone continues the listing.
 */
const DEFAULT_LIMIT = 10;
const MAX_LIMIT = 100;
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
        return DEFAULT_LIMIT;
    const limit = Number(value);
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIMIT) {
        throw (0, http_js_1.fieldError)('limit', `must be an integer from 1 to ${MAX_LIMIT}`);
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

/***/ 6592:
/***/ ((__unused_webpack_module, exports, __webpack_require__) => {


Object.defineProperty(exports, "__esModule", ({ value: true }));
exports.copyBinary = copyBinary;
const node_crypto_1 = __webpack_require__(7598);
const node_stream_1 = __webpack_require__(7075);
const copy_records_js_1 = __webpack_require__(7465);
/**
 * `migrate`'s content path (migrate.ts): each binary's record, state and content from the data dir into
 * PostgreSQL + S3, every byte's SHA-256 checked against the record before the content counts as stored.
 */
/** Verified content is sent to S3 in parts of this size (the last may be shorter). */
const CHUNK = 16 * 1024 * 1024;
/** How `hash_error` tells a binary migrate found corrupt (a re-run reports it again rather than copy it). */
const MIGRATION_ERROR = 'migration: ';
async function sha256Of(chunks) {
    const hash = (0, node_crypto_1.createHash)('sha256');
    let bytes = 0;
    for await (const c of chunks) {
        hash.update(c);
        bytes += c.length;
    }
    return { hex: hash.digest('hex'), bytes };
}
async function putPart(direct, upload, index, hash, size, body) {
    const url = await direct.presignPart(upload, index, { hash, size }, 3600);
    // Node's own fetch: the registry bundle carries no HTTP client library.
    const res = await fetch(url, {
        method: 'PUT',
        headers: {
            'content-length': String(size),
            'x-amz-checksum-sha256': Buffer.from(hash, 'hex').toString('base64'),
        },
        body: size === 0 ? new Uint8Array(0) : node_stream_1.Readable.toWeb(node_stream_1.Readable.from(body())),
        duplex: 'half',
    });
    const text = await res.text();
    if (res.status !== 200)
        throw new Error(`S3 refused part ${index}: ${res.status} ${text.slice(0, 200)}`);
}
/** The states a binary goes through, in order; destroyed is apart. */
const CHAIN = ['uploadable', 'hashable', 'hashing', 'signable', 'signed'];
const rank = (state) => state === 'destroyed' ? Number.POSITIVE_INFINITY : CHAIN.indexOf(state);
/**
 * One binary: the record, its state, and its content (verified). Returns the bytes copied. A binary an
 * earlier run copied (whole or in part) is taken from where that run left it; one the target moved past
 * (a registry already serving it) is left alone.
 */
async function copyBinary(b, source, blobs, target, direct, problems) {
    const fresh = await (0, copy_records_js_1.insertRecord)(target, 'binaries', {
        seq: b.seq,
        id: b.id,
        org: b.org,
        artifact_version_id: b.artifact_version_id,
        target: b.target,
        hash: b.hash,
        size: b.size,
        state: 'uploadable',
        description: b.description,
        custom_metadata: b.custom_metadata,
        revision: b.revision,
        upload_generation: 0,
        blob_hash: null,
        // A server check that failed before the migration still explains why the binary is uploadable.
        hash_error: b.state === 'uploadable' ? b.hash_error : null,
        inserted_at: b.inserted_at,
        updated_at: b.updated_at,
    });
    const copied = await target.binaries.find(b.org, b.id);
    if (!copied) {
        problems.push(`binary ${b.id}: not copied, the target holds another live binary of its version and target`);
        return 0;
    }
    const at = b.updated_at;
    let state = copied.state;
    const step = async (to) => {
        await target.binaries.transition(b.id, { to }, at);
        state = to;
    };
    if (b.state === 'destroyed') {
        if (state !== 'destroyed')
            await step('destroyed');
        return 0;
    }
    if (copied.hash_error?.startsWith(MIGRATION_ERROR)) {
        problems.push(`binary ${b.id}: ${copied.hash_error.slice(MIGRATION_ERROR.length)} (found by an earlier run); not copied, it is uploadable`);
        return 0;
    }
    // Where migrate leaves it is generation 0: another generation is a client's upload since. A binary in
    // `hashable` or `hashing` is finished below again (completing its upload twice is fine).
    const done = state === b.state && (state === 'signable' || state === 'signed');
    if (copied.upload_generation !== 0 || rank(state) > rank(b.state) || done)
        return 0;
    const upload = { binaryId: b.id, generation: 0 };
    if ((b.state === 'signable' || b.state === 'signed') && b.blob_hash) {
        let bytes = 0;
        if (state === 'uploadable') {
            // An earlier run may have started (or even completed) the upload: start again from nothing.
            if (!fresh)
                await direct.remove(b.id, 0);
            const result = await copyBlob(b, blobs, direct, upload);
            if (typeof result === 'string') {
                problems.push(`binary ${b.id}: ${result}; not copied, it arrives uploadable`);
                await target.binaries.transition(b.id, { to: 'uploadable', hashError: `${MIGRATION_ERROR}${result}` }, at);
                return 0;
            }
            bytes = result;
            await step('hashable');
        }
        if (state === 'hashable')
            await step('hashing');
        if (state === 'hashing') {
            await target.binaries.transition(b.id, { to: 'signable', generation: 0, blobHash: b.blob_hash }, at);
            state = 'signable';
        }
        if (b.state === 'signed')
            await step('signed');
        return bytes;
    }
    // An upload under way: its valid parts go to the S3 upload under the same numbers, so the client resumes.
    let bytes = 0;
    let complete = true;
    if (state === 'uploadable') {
        const have = new Map((await target.parts.list(b.id)).map((p) => [p.idx, p]));
        for (const part of await source.parts.list(b.id)) {
            const got = have.get(part.idx);
            if (got?.state === 'valid' && got.hash === part.hash && got.size === part.size)
                continue;
            await target.parts.register({
                binaryId: b.id,
                idx: part.idx,
                id: part.id,
                org: part.org,
                hash: part.hash,
                size: part.size,
                at: part.updated_at,
            });
            if (part.state !== 'valid' || !part.file) {
                complete = false;
                continue;
            }
            const why = await copyPart(b, part, blobs, direct, upload);
            if (why) {
                problems.push(`binary ${b.id} part ${part.idx}: ${why}; not copied, it must be uploaded again`);
                complete = false;
                continue;
            }
            await target.parts.markValid(b.id, part.idx, { hash: part.hash, size: part.size }, `s3-part-${part.idx}`, part.updated_at);
            bytes += part.size;
        }
    }
    if ((b.state === 'hashable' || b.state === 'hashing') && complete) {
        if (state === 'uploadable')
            await step('hashable');
        await direct.complete(upload, (await target.parts.list(b.id)).map((p) => p.idx));
        // The target's hash check takes it from here (hashing is re-queued when the registry starts).
        if (b.state === 'hashing' && state === 'hashable')
            await step('hashing');
    }
    return bytes;
}
/** Reads the part once to verify it, once more to send it (constant memory, whatever the part's size). */
async function copyPart(b, part, blobs, direct, upload) {
    let got;
    try {
        got = await sha256Of(blobs.readPart(b.id, part.file));
    }
    catch (err) {
        return `its content cannot be read (${err.code ?? err.message})`;
    }
    if (got.bytes !== part.size)
        return `its content is ${got.bytes} bytes, the record says ${part.size}`;
    if (got.hex !== part.hash)
        return `its content's SHA-256 is ${got.hex}, the record says ${part.hash}`;
    await putPart(direct, upload, part.idx, part.hash, part.size, () => blobs.readPart(b.id, part.file));
    return undefined;
}
/**
 * A verified blob into one object, in 16 MiB parts read once each (hashed, then sent from memory). The whole
 * content's SHA-256 is checked before the upload is completed, so a corrupted blob never becomes an object.
 */
async function copyBlob(b, blobs, direct, upload) {
    const stored = await blobs.statBlob(b.blob_hash);
    if (stored?.size !== b.size)
        return `its content is ${stored ? `${stored.size} bytes, not ${b.size}` : 'missing'}`;
    const whole = (0, node_crypto_1.createHash)('sha256');
    const indexes = [];
    for (let offset = 0, index = 1; offset < b.size || index === 1; offset += CHUNK, index++) {
        const end = Math.min(offset + CHUNK, b.size) - 1;
        const chunks = [];
        if (end >= offset)
            for await (const c of blobs.readBlob(b.blob_hash, offset, end))
                chunks.push(c);
        const chunk = Buffer.concat(chunks);
        whole.update(chunk);
        const partHash = (0, node_crypto_1.createHash)('sha256').update(chunk).digest('hex');
        await putPart(direct, upload, index, partHash, chunk.length, function* () {
            yield chunk;
        });
        indexes.push(index);
        if (b.size === 0)
            break;
    }
    const digest = whole.digest('hex');
    if (digest !== b.hash || digest !== b.blob_hash) {
        await direct.remove(upload.binaryId, upload.generation);
        return `its content's SHA-256 is ${digest}, the record says ${b.hash}`;
    }
    await direct.complete(upload, indexes);
    return b.size;
}


/***/ }),

/***/ 1524:
/***/ ((__unused_webpack_module, exports, __webpack_require__) => {


Object.defineProperty(exports, "__esModule", ({ value: true }));
exports.migrate = migrate;
const node_fs_1 = __webpack_require__(3024);
const node_path_1 = __webpack_require__(6760);
const local_blob_store_js_1 = __webpack_require__(913);
const backends_js_1 = __webpack_require__(9352);
const migrate_binaries_js_1 = __webpack_require__(6592);
const copy_records_js_1 = __webpack_require__(7465);
const pg_store_js_1 = __webpack_require__(8868);
const sqlite_store_js_1 = __webpack_require__(122);
async function* rows(repo, org) {
    for (let after = 0;;) {
        const page = await repo.list({ org, limit: 500, order: 'asc', after, filters: [] });
        for (const row of page.rows)
            yield row;
        if (!page.more || page.rows.length === 0)
            return;
        after = page.rows.at(-1).seq;
    }
}
/**
 * Copies an embedded registry (SQLite + content in a data dir) into PostgreSQL + S3: every record
 * (store/copy-records.ts) and every binary's content. Every byte is hashed on the way: content whose SHA-256
 * is not the one its record names is reported and not copied, and its binary arrives `uploadable` (with the
 * reason in `hash_error`), so a client uploads it again instead of anyone trusting it.
 *
 * The target is an empty database, or the one this data dir was migrated into before: a re-run (after a
 * crash, say) copies only what is missing. The organization is written last, so a half-migrated database
 * is never taken for a finished one.
 */
async function migrate(fromDir, choice, env, logger) {
    const dbPath = (0, node_path_1.join)(fromDir, 'registry.db');
    if (!(0, node_fs_1.existsSync)(dbPath))
        throw new Error(`${dbPath} does not exist: --from must be a registry data dir`);
    const source = new sqlite_store_js_1.SqliteStore(dbPath);
    const sourceBlobs = await local_blob_store_js_1.LocalBlobStore.open(fromDir);
    const target = await (0, backends_js_1.openBackends)(choice, fromDir, env);
    const problems = [];
    const content = { binaries: 0, bytes: 0 };
    let copier;
    let before;
    let after;
    try {
        const direct = target.blobs.direct;
        if (!direct)
            throw new Error('migrate copies content into an S3 bucket: give --to s3://…');
        if (!(target.store instanceof pg_store_js_1.PgStore))
            throw new Error('migrate copies records into PostgreSQL: give --to postgres://…');
        const pg = target.store;
        const org = await source.meta.get('organization');
        if (!org)
            throw new Error(`${dbPath} has no organization: not a registry database`);
        const there = await pg.meta.get('organization');
        if (there && there !== org)
            throw new Error(`the target database holds another registry (organization ${there}); migrate into an empty one, or the one this data dir was migrated into`);
        if (there)
            logger.info(`the target holds organization ${org} already: copying what is missing`);
        // The fleet keeps the embedded registry's API key and presigned-URL key.
        for (const [file, key] of [
            ['api-key', 'api-key'],
            ['presign-secret', 'presign-secret'],
        ]) {
            const path = (0, node_path_1.join)(fromDir, file);
            if ((0, node_fs_1.existsSync)(path))
                await pg.meta.setIfAbsent(key, (0, node_fs_1.readFileSync)(path, 'utf8').trim());
        }
        copier = await copy_records_js_1.RecordCopier.open(source, pg);
        const log = (line) => logger.info(line);
        before = await copier.copy(copy_records_js_1.BEFORE_CONTENT, log);
        for await (const b of rows(source.binaries, org)) {
            const bytes = await (0, migrate_binaries_js_1.copyBinary)(b, source, sourceBlobs, pg, direct, problems);
            content.bytes += bytes;
            content.binaries++;
            logger.info(`binary ${b.id} (${b.state}): ${bytes} bytes copied`);
        }
        after = await copier.copy(copy_records_js_1.AFTER_CONTENT, log);
        copier.checkAccounted();
        problems.push(...copier.problems);
        await (0, copy_records_js_1.advanceSequences)(pg);
        // Last, so a registry started on a half-migrated database finds no organization and refuses nothing silently.
        await pg.meta.setIfAbsent('organization', org);
    }
    finally {
        await source.close();
        await target.store.close();
    }
    for (const p of problems)
        logger.error(p);
    const counted = (c) => `${c.rows} ${c.label}`;
    const records = [...before, ...after];
    const rowsTotal = records.reduce((n, c) => n + c.rows, 0);
    const written = records.reduce((n, c) => n + c.inserted, 0);
    const summary = `migrated ${[
        ...before.map(counted),
        `${content.binaries} binaries (${content.bytes} bytes verified and copied)`,
        ...after.map(counted),
    ].join(', ')}; ${written} of ${rowsTotal} rows written by this run` +
        (written < rowsTotal ? ' (the others were there already)' : '') +
        copier.notes.map((n) => `; ${n}`).join('') +
        (problems.length
            ? `; ${problems.length} problem(s):\n${problems.map((p) => `  ${p}`).join('\n')}`
            : '; every SHA-256 verified');
    return { ok: problems.length === 0, summary, problems };
}


/***/ }),

/***/ 5450:
/***/ ((__unused_webpack_module, exports) => {


Object.defineProperty(exports, "__esModule", ({ value: true }));
exports.PrefixDigests = void 0;
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
    hashes;
    constructor(ctx, signal) {
        this.ctx = ctx;
        this.signal = signal;
        signal.addEventListener('abort', () => void this.hashes?.close(), { once: true });
    }
    /** A part of this binary just became valid: hash on as far as the valid parts are contiguous. */
    partValid(binaryId) {
        const prefix = this.prefixFor(binaryId);
        prefix.busy = prefix.busy
            .then(() => this.advance(binaryId, prefix))
            .catch((err) => {
            // A failed read only costs the shortcut: the check reads everything itself.
            this.forget(binaryId, prefix);
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
        if (this.prefixes.get(binaryId) !== prefix)
            return undefined; // dropped by a failed read meanwhile
        this.prefixes.delete(binaryId);
        if (prefix.files.length === 0 || !samePrefix(prefix.files, files)) {
            prefix.hash.drop();
            return undefined;
        }
        const stamps = await Promise.all(prefix.files.map((file) => this.ctx.blobs.partVersion(binaryId, file)));
        const unchanged = stamps.every((stamp, i) => stamp !== undefined && stamp === prefix.stamps[i]);
        if (!unchanged) {
            this.ctx.logger.warning(`binary ${binaryId}: a part changed on disk after it arrived; reading it all again`);
            prefix.hash.drop();
            return undefined;
        }
        try {
            for (const file of files.slice(prefix.files.length))
                await this.hashFileInto(binaryId, file, prefix);
            return { digest: await prefix.hash.digest(), bytes: prefix.bytes };
        }
        finally {
            prefix.hash.drop();
        }
    }
    prefixFor(binaryId) {
        let prefix = this.prefixes.get(binaryId);
        if (!prefix) {
            if (this.prefixes.size >= MAX_TRACKED) {
                const oldest = [...this.prefixes.entries()].sort((a, b) => a[1].touched - b[1].touched)[0];
                this.forget(oldest[0], oldest[1]);
            }
            prefix = {
                files: [],
                keys: [],
                stamps: [],
                bytes: 0,
                hash: this.newHash(),
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
            prefix.hash.drop();
            prefix.hash = this.newHash();
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
        prefix.bytes += await prefix.hash.append(binaryId, file);
        prefix.files.push(file);
        prefix.stamps.push(stamp);
    }
    newHash() {
        this.hashes ??= this.ctx.blobs.partHashes();
        return this.hashes.open();
    }
    forget(binaryId, prefix) {
        if (this.prefixes.get(binaryId) === prefix)
            this.prefixes.delete(binaryId);
        prefix.hash.drop();
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
/** Rows → wire objects with the field names and nullability of Peridio's API (the contract schemas check them). */
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
/** `signatures`: preloaded for a page (forBinaries); else read for this binary. */
async function binaryJson(ctx, row, signatures) {
    signatures ??= await ctx.store.signatures.forBinary(row.id);
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

/***/ 10:
/***/ ((__unused_webpack_module, exports, __webpack_require__) => {


Object.defineProperty(exports, "__esModule", ({ value: true }));
exports.registryBinaryLookup = registryBinaryLookup;
const content_js_1 = __webpack_require__(8556);
const records_js_1 = __webpack_require__(7099);
const parse = (text) => (text === null ? null : JSON.parse(text));
/** S3 URLs are reused for a twentieth of their lifetime: a device always gets one with 95 % of it left. */
const URL_REUSE_SHARE = 1 / 20;
const MAX_KEPT_URLS = 10_000;
function registryBinaryLookup(ctx) {
    const { store, org } = ctx;
    // An S3 presigned URL costs the SDK's whole request pipeline (measured: a quarter of the registry's CPU in
    // an update check on PostgreSQL + S3); the registry's own are one HMAC and are made fresh each time.
    const urls = new Map();
    async function info(b) {
        // A binary's version and artifact are never deleted while the binary exists (the store refuses it).
        const version = (await store.artifactVersions.find(org, b.artifact_version_id));
        const artifact = (await store.artifacts.find(org, version.artifact_id));
        const signatures = await store.signatures.forBinary(b.id);
        return {
            id: b.id,
            state: b.state,
            hash: b.hash,
            size: b.size,
            target: b.target,
            artifact_id: artifact.id,
            artifact_version_id: version.id,
            blob_hash: b.blob_hash,
            upload_generation: b.upload_generation,
            metadata: {
                binary: parse(b.custom_metadata),
                artifactVersion: parse(version.custom_metadata),
                artifact: parse(artifact.custom_metadata),
            },
            signatures: signatures.map((s) => ({
                signature: s.signature,
                signing_key_id: s.signing_key_id,
                keyid: s.keyid,
                public_value: (0, records_js_1.publicKeyPem)(s.value),
            })),
        };
    }
    return {
        async binary(id) {
            const row = await store.binaries.find(org, id);
            return row && info(row);
        },
        async binariesOfArtifactVersion(id) {
            if (!(await store.artifactVersions.find(org, id)))
                return undefined;
            const live = [];
            const filters = [{ field: 'artifact_version_prn', op: '=', prn: { org, id } }];
            for (let after = 0, more = true; more;) {
                const page = await store.binaries.list({ org, limit: 100, order: 'asc', after, filters });
                live.push(...page.rows.filter((b) => b.state !== 'destroyed'));
                more = page.more;
                after = page.rows.at(-1)?.seq ?? after;
            }
            live.sort((a, b) => (a.target < b.target ? -1 : a.target > b.target ? 1 : a.seq - b.seq));
            return Promise.all(live.map(info));
        },
        async signingKey(ref) {
            const row = 'id' in ref
                ? await store.signingKeys.find(org, ref.id)
                : await store.signingKeys.findByKeyid(org, ref.keyid);
            return row && { id: row.id, keyid: row.keyid, value: row.value };
        },
        async downloadUrl(baseUrl, binary) {
            if (!binary.blob_hash || (binary.state !== 'signable' && binary.state !== 'signed'))
                return undefined;
            // The same URL `GET /binaries/{prn}/download_url` answers: S3's own when the content is there.
            if (!ctx.blobs.direct)
                return (0, content_js_1.downloadUrl)(ctx, baseUrl, binary);
            const key = `${binary.id} ${binary.upload_generation} ${binary.blob_hash}`;
            const now = Date.now();
            const kept = urls.get(key);
            if (kept && now - kept.madeAt < ctx.presigner.ttlSeconds * 1000 * URL_REUSE_SHARE)
                return kept.url;
            const url = await (0, content_js_1.downloadUrl)(ctx, baseUrl, binary);
            if (urls.size >= MAX_KEPT_URLS)
                urls.clear();
            urls.set(key, { url, madeAt: now });
            return url;
        },
    };
}


/***/ }),

/***/ 5790:
/***/ ((__unused_webpack_module, exports, __webpack_require__) => {


Object.defineProperty(exports, "__esModule", ({ value: true }));
exports.canonicalJson = canonicalJson;
exports.bundleHash = bundleHash;
exports.resolveMetadata = resolveMetadata;
exports.sameContent = sameContent;
const node_crypto_1 = __webpack_require__(7598);
/**
 * Peridio computes a bundle's `hash` "from the hashes of its binaries" without saying how, so this
 * registry defines it (docs/release-management.md, "Bundle hash"):
 *
 *   hash = lowercase hex SHA-256 of the lines `<binary sha256 hex>:<sha256 hex of canonical metadata>`,
 *          one per binary in bundle order, joined by "\n" (no trailing newline)
 *
 * where the canonical metadata is the binary's resolved custom_metadata as JSON with object keys sorted
 * (recursively) and no whitespace. Order and metadata are part of a bundle's identity, so both count.
 */
function canonicalJson(value) {
    if (value === null || typeof value !== 'object')
        return JSON.stringify(value);
    if (Array.isArray(value))
        return `[${value.map(canonicalJson).join(',')}]`;
    const entries = Object.keys(value)
        .sort()
        .filter((k) => value[k] !== undefined)
        .map((k) => `${JSON.stringify(k)}:${canonicalJson(value[k])}`);
    return `{${entries.join(',')}}`;
}
const sha256 = (text) => (0, node_crypto_1.createHash)('sha256').update(text).digest('hex');
function bundleHash(binaries) {
    return sha256(binaries.map((b) => `${b.hash.toLowerCase()}:${sha256(canonicalJson(b.custom_metadata))}`).join('\n'));
}
/**
 * custom_metadata of one binary in a new bundle: the value given at bundle creation, else the binary's,
 * else its artifact version's, else its artifact's; the most specific one present wins whole (objects are
 * not merged, so the result is always an object someone wrote). `null` means "not given" (the Rust SDK
 * sends null for absent values). None anywhere → `{}`.
 */
function resolveMetadata(levels) {
    return levels.given ?? levels.binary ?? levels.artifactVersion ?? levels.artifact ?? {};
}
/** Same content: the same binaries in the same order with the same resolved metadata. */
function sameContent(a, b) {
    return (a.length === b.length &&
        a.every((x, i) => x.binary_id === b[i].binary_id &&
            canonicalJson(x.custom_metadata) === canonicalJson(b[i].custom_metadata)));
}


/***/ }),

/***/ 8836:
/***/ ((__unused_webpack_module, exports) => {


Object.defineProperty(exports, "__esModule", ({ value: true }));
exports.CatalogCache = void 0;
/** A cache that grows past this many reads is dropped and refilled: the catalog a fleet checks is far smaller. */
const MAX_ENTRIES = 50_000;
/**
 * The catalog reads of update checks, kept from one check to the next while the store's catalog version
 * (DeviceForCheck.catalogVersion) stays the same. On PostgreSQL a check otherwise made ~17 round trips for
 * rows that change a few times a day (measured: 401 checks/s, the registry busy writing queries to sockets).
 *
 * Why it is exact: every check reads the version before any catalog row, and every entry was read after the
 * version it is kept under was seen, so an entry holds at least every change committed before that
 * version. A check that sees version v may use entries kept under v or later (they are at least as new); a
 * check that sees a newer version drops them all. Reads started under an older version go to the map of
 * that version, which is no longer the cache's, so they never land in the newer one.
 */
class CatalogCache {
    store;
    binaries;
    #version = -1;
    #entries = new Map();
    constructor(store, binaries) {
        this.store = store;
        this.binaries = binaries;
    }
    /**
     * The reads of one check that saw catalog `version` (undefined: the store has none); each key is read at
     * most once in the check, and across checks while the version allows.
     */
    view(version) {
        let entries;
        if (version === undefined) {
            entries = new Map();
        }
        else {
            if (version > this.#version || this.#entries.size > MAX_ENTRIES) {
                this.#version = Math.max(version, this.#version);
                this.#entries = new Map();
            }
            entries = this.#entries;
        }
        const read = (key, load) => {
            let value = entries.get(key);
            if (!value) {
                value = load();
                entries.set(key, value);
                // A failed read is not kept: the next check tries again.
                value.catch(() => entries.get(key) === value && entries.delete(key));
            }
            return value;
        };
        return {
            getCohort: (id) => read(`cohort:${id}`, () => this.store.getCohort(id)),
            cohortReleases: (id) => read(`releases:${id}`, () => this.store.cohortReleases(id)),
            getBundle: (id) => read(`bundle:${id}`, () => this.store.getBundle(id)),
            binary: (id) => read(`binary:${id}`, () => this.binaries.binary(id)),
        };
    }
}
exports.CatalogCache = CatalogCache;


/***/ }),

/***/ 5107:
/***/ ((__unused_webpack_module, exports, __webpack_require__) => {


Object.defineProperty(exports, "__esModule", ({ value: true }));
exports.warnBinaryDestroyed = warnBinaryDestroyed;
exports.destroyedBinaryHeaders = destroyedBinaryHeaders;
const prn_js_1 = __webpack_require__(6864);
/**
 * Called once a signed binary was destroyed: releases whose bundle holds it now resolve to no_update
 * (their bundle is no longer all signed), which the log says by name. Returns their PRNs for the response.
 */
async function warnBinaryDestroyed(d, binaryId) {
    const releases = await d.store.releasesUsingBinary(binaryId);
    const names = releases.map((r) => `'${r.name}' (${(0, prn_js_1.prn)(d.org, 'release', r.id)})`);
    if (names.length) {
        d.logger.warning(`binary ${(0, prn_js_1.prn)(d.org, 'binary', binaryId)} was destroyed while releases use it: ${names.join(', ')}; their update checks now answer no_update`);
    }
    return releases.map((r) => (0, prn_js_1.prn)(d.org, 'release', r.id));
}
/**
 * Response headers of a destroy that affected releases. Peridio's API defines no warnings, so the registry
 * uses the standard `Warning` header (code 299, persistent) for people and `x-peridio-affected-releases`
 * (comma-separated release PRNs) for programs; both are absent when no release uses the binary.
 */
function destroyedBinaryHeaders(releasePrns) {
    if (releasePrns.length === 0)
        return {};
    return {
        warning: `299 peridio-registry "the destroyed binary is in the bundle of ${releasePrns.length} release(s): ${releasePrns.join(', ')}; their update checks now answer no_update"`,
        'x-peridio-affected-releases': releasePrns.join(', '),
    };
}


/***/ }),

/***/ 4703:
/***/ ((__unused_webpack_module, exports, __webpack_require__) => {


Object.defineProperty(exports, "__esModule", ({ value: true }));
exports.optionalBoolean = optionalBoolean;
exports.requiredBoolean = requiredBoolean;
exports.optionalDateTime = optionalDateTime;
exports.requiredDateTime = requiredDateTime;
exports.optionalTags = optionalTags;
exports.optionalObject = optionalObject;
exports.nullableString = nullableString;
const http_js_1 = __webpack_require__(7969);
const given = (body, key) => body[key] !== undefined && body[key] !== null;
function optionalBoolean(body, key) {
    if (!given(body, key))
        return undefined;
    if (typeof body[key] !== 'boolean')
        throw (0, http_js_1.fieldError)(key, 'is invalid: must be true or false');
    return body[key];
}
function requiredBoolean(body, key) {
    const value = optionalBoolean(body, key);
    if (value === undefined)
        throw (0, http_js_1.fieldError)(key, "can't be blank: must be true or false");
    return value;
}
const DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;
/** An ISO-8601 date-time with a zone, normalised to UTC with microseconds (how timestamps are written). */
function optionalDateTime(body, key) {
    if (!given(body, key))
        return undefined;
    const value = body[key];
    const ms = typeof value === 'string' && DATE_TIME.test(value) ? Date.parse(value) : NaN;
    if (Number.isNaN(ms))
        throw (0, http_js_1.fieldError)(key, "is invalid: must be an ISO-8601 date-time such as '2026-01-01T00:00:00Z'");
    return new Date(ms).toISOString().replace(/Z$/, '000Z');
}
function requiredDateTime(body, key) {
    const value = optionalDateTime(body, key);
    if (value === undefined)
        throw (0, http_js_1.fieldError)(key, "can't be blank: give an ISO-8601 date-time");
    return value;
}
function optionalTags(body, key) {
    if (!given(body, key))
        return undefined;
    const value = body[key];
    if (!Array.isArray(value) ||
        !value.every((t) => typeof t === 'string' && t.length > 0 && t.length <= 128)) {
        throw (0, http_js_1.fieldError)(key, 'is invalid: must be an array of non-empty strings (at most 128 characters each)');
    }
    return [...new Set(value)];
}
function optionalObject(body, key) {
    if (!given(body, key))
        return undefined;
    const value = body[key];
    if (typeof value !== 'object' || Array.isArray(value))
        throw (0, http_js_1.fieldError)(key, 'is invalid: must be a JSON object');
    if (Buffer.byteLength(JSON.stringify(value)) > 1_000_000)
        throw (0, http_js_1.fieldError)(key, 'greater than 1MB');
    return value;
}
/** A string field that may be set to null explicitly (PATCH): undefined = unchanged. */
function nullableString(body, key, max) {
    if (!(key in body))
        return undefined;
    const value = body[key];
    if (value === null)
        return null;
    if (typeof value !== 'string')
        throw (0, http_js_1.fieldError)(key, 'is invalid: must be a string or null');
    if (value.length < 1)
        throw (0, http_js_1.fieldError)(key, "can't be blank (use null to clear it)");
    if (value.length > max)
        throw (0, http_js_1.fieldError)(key, `should be at most ${max} character(s)`);
    return value;
}


/***/ }),

/***/ 3316:
/***/ ((__unused_webpack_module, exports, __webpack_require__) => {


Object.defineProperty(exports, "__esModule", ({ value: true }));
exports.GraphError = void 0;
exports.validateGraph = validateGraph;
exports.placeNew = placeNew;
exports.checkUpdate = checkUpdate;
exports.planDelete = planDelete;
const phase_js_1 = __webpack_require__(51);
class GraphError extends Error {
    field;
    constructor(field, message) {
        super(message);
        this.field = field;
    }
}
exports.GraphError = GraphError;
const label = (n) => `'${n.name}' (${n.id})`;
function constraintOf(node, now) {
    if (node.phase_mode === 'tags')
        return 'phased by tags';
    if ((0, phase_js_1.isPhased)(node))
        return `phased (phase_value ${node.phase_value})`;
    if (!(0, phase_js_1.scheduleComplete)(node, now))
        return `scheduled for ${node.schedule_date}`;
    return undefined;
}
function sinks(nodes) {
    return nodes.filter((n) => n.next_release_id === null);
}
function predecessors(nodes, id) {
    return nodes.filter((n) => n.next_release_id === id);
}
function apply(nodes, changes) {
    const next = new Map(changes.map((c) => [c.id, c.next_release_id]));
    return nodes.map((n) => (next.has(n.id) ? { ...n, next_release_id: next.get(n.id) } : n));
}
/** Throws a GraphError on `field` when the graph breaks a rule. */
function validateGraph(nodes, now, field) {
    const byId = new Map(nodes.map((n) => [n.id, n]));
    for (const start of nodes) {
        const seen = new Set();
        const path = [];
        for (let n = start; n; n = n.next_release_id ? byId.get(n.next_release_id) : undefined) {
            if (seen.has(n.id)) {
                throw new GraphError(field, `would make a cycle of releases: ${[...path, n].map((p) => `'${p.name}'`).join(' → ')}; the next releases must lead to the latest release`);
            }
            seen.add(n.id);
            path.push(n);
        }
    }
    const ends = sinks(nodes);
    if (ends.length > 1) {
        throw new GraphError(field, `would leave ${ends.length} latest releases (${ends.map(label).join(', ')}); a cohort has at most one release without a next release`);
    }
    for (const n of nodes) {
        const constraint = constraintOf(n, now);
        if (constraint && n.next_release_id !== null) {
            throw new GraphError(field, `release ${label(n)} is ${constraint} but would not be the latest release; only the latest release may be phased or scheduled in the future: complete it first (PATCH it to phase_value 1 and a schedule_date in the past)`);
        }
    }
}
/**
 * Where a new release goes. Neither neighbour: it becomes the latest release and the old latest points
 * at it. `next_release_prn` only: it joins the graph before that release (no other release is relinked).
 * Both: it goes between them, which needs previous → next to be an existing link. `previous_release_prn`
 * alone is accepted only when it names the latest release (the same as giving neither).
 */
function placeNew(nodes, fresh, opts, now) {
    const byId = new Map(nodes.map((n) => [n.id, n]));
    const changes = [];
    if (opts.next !== undefined && !byId.has(opts.next))
        throw new GraphError('next_release_prn', 'is not a release of this cohort');
    if (opts.previous !== undefined && !byId.has(opts.previous))
        throw new GraphError('previous_release_prn', 'is not a release of this cohort');
    const sink = sinks(nodes)[0];
    if (opts.next === undefined) {
        if (opts.previous !== undefined && opts.previous !== sink?.id) {
            throw new GraphError('previous_release_prn', `alone only appends after the latest release ${sink ? label(sink) : ''}; to insert after another release give next_release_prn too (its current next release)`);
        }
        if (sink)
            changes.push({ id: sink.id, next_release_id: fresh.id });
        changes.push({ id: fresh.id, next_release_id: null });
    }
    else {
        if (opts.previous !== undefined) {
            const previous = byId.get(opts.previous);
            if (previous.next_release_id !== opts.next) {
                throw new GraphError('previous_release_prn', `must point at next_release_prn to insert between them; its next release is ${previous.next_release_id ?? 'none (it is the latest release)'}`);
            }
            changes.push({ id: previous.id, next_release_id: fresh.id });
        }
        changes.push({ id: fresh.id, next_release_id: opts.next });
    }
    const field = opts.next !== undefined ? 'next_release_prn' : 'phase_value';
    const after = apply([...nodes, { ...fresh, next_release_id: null }], changes);
    validateGraph(after, now, field);
    return changes;
}
/** Checks a PATCH of one release against the graph rules; throws GraphError naming the field. */
function checkUpdate(nodes, id, patch, now) {
    const before = nodes.find((n) => n.id === id);
    if (!before)
        throw new GraphError('prn', 'is not a release of this cohort');
    if (before.phase_mode === 'numeric' && before.phase_value === 1) {
        if (patch.phase_value !== undefined && patch.phase_value !== 1) {
            throw new GraphError('phase_value', 'is 1 (100%), which is final: it can never change again');
        }
        if (patch.phase_mode === 'tags') {
            throw new GraphError('phase_mode', 'cannot change: phase_value is 1 (100%), which is final');
        }
    }
    if (patch.next_release_id !== undefined && patch.next_release_id !== null) {
        if (patch.next_release_id === id)
            throw new GraphError('next_release_prn', 'cannot be the release itself');
        if (!nodes.some((n) => n.id === patch.next_release_id))
            throw new GraphError('next_release_prn', 'is not a release of this cohort');
    }
    const field = patch.next_release_id !== undefined
        ? 'next_release_prn'
        : patch.phase_value !== undefined
            ? 'phase_value'
            : patch.phase_mode !== undefined
                ? 'phase_mode'
                : 'schedule_date';
    validateGraph(nodes.map((n) => (n.id === id ? { ...n, ...patch } : n)), now, field);
}
/**
 * Deleting a release relinks its predecessors to its next release, so their devices still reach the rest
 * of the channel. The latest release with several predecessors cannot go: that would leave several sinks.
 */
function planDelete(nodes, id, now) {
    const target = nodes.find((n) => n.id === id);
    if (!target)
        throw new GraphError('prn', 'is not a release of this cohort');
    const preds = predecessors(nodes, id);
    if (target.next_release_id === null && preds.length > 1) {
        throw new GraphError('release', `is the latest release and ${preds.length} releases point at it (${preds.map(label).join(', ')}); delete or relink them first`);
    }
    const changes = preds.map((p) => ({ id: p.id, next_release_id: target.next_release_id }));
    validateGraph(apply(nodes.filter((n) => n.id !== id), changes), now, 'release');
    return changes;
}


/***/ }),

/***/ 6492:
/***/ ((__unused_webpack_module, exports, __webpack_require__) => {


Object.defineProperty(exports, "__esModule", ({ value: true }));
exports.warnBinaryDestroyed = void 0;
exports.releaseManagementRoutes = releaseManagementRoutes;
exports.defaultReleaseDeps = defaultReleaseDeps;
const bundle_overrides_js_1 = __webpack_require__(5550);
const bundle_signatures_js_1 = __webpack_require__(3564);
const bundles_js_1 = __webpack_require__(8093);
const cohorts_js_1 = __webpack_require__(898);
const device_update_js_1 = __webpack_require__(992);
const devices_js_1 = __webpack_require__(6731);
const events_js_1 = __webpack_require__(3619);
const products_js_1 = __webpack_require__(4638);
const releases_js_1 = __webpack_require__(5404);
const binary_lookup_js_1 = __webpack_require__(10);
const catalog_cache_js_1 = __webpack_require__(8836);
function releaseManagementRoutes(d) {
    return [
        ...(0, products_js_1.productRoutes)(d),
        ...(0, cohorts_js_1.cohortRoutes)(d),
        ...(0, device_update_js_1.deviceUpdateRoutes)(d),
        ...(0, devices_js_1.deviceRoutes)(d),
        ...(0, bundles_js_1.bundleRoutes)(d),
        ...(0, bundle_signatures_js_1.bundleSignatureRoutes)(d),
        ...(0, releases_js_1.releaseRoutes)(d),
        ...(0, bundle_overrides_js_1.bundleOverrideRoutes)(d),
        ...(0, events_js_1.eventRoutes)(d),
    ];
}
/** The default wiring: the registry's Store (its release store) and the registry's binaries. */
function defaultReleaseDeps(ctx, logger, events) {
    const store = ctx.store.releaseStore(ctx.org);
    const binaries = (0, binary_lookup_js_1.registryBinaryLookup)(ctx);
    return {
        org: ctx.org,
        store,
        events,
        binaries,
        catalog: new catalog_cache_js_1.CatalogCache(store, binaries),
        logger,
        now: () => new Date(),
    };
}
var destroy_warning_js_1 = __webpack_require__(5107);
Object.defineProperty(exports, "warnBinaryDestroyed", ({ enumerable: true, get: function () { return destroy_warning_js_1.warnBinaryDestroyed; } }));


/***/ }),

/***/ 9140:
/***/ ((__unused_webpack_module, exports, __webpack_require__) => {


Object.defineProperty(exports, "__esModule", ({ value: true }));
exports.eventJson = exports.overrideDeviceJson = exports.overrideJson = exports.releaseJson = exports.bundleSignatureJson = exports.bundleJson = exports.deviceJson = exports.cohortJson = exports.productJson = void 0;
const phase_js_1 = __webpack_require__(51);
const prn_js_1 = __webpack_require__(6864);
/** Records → wire objects with the field names of Peridio's Admin API spec. */
const productJson = (org, r) => ({
    archived: r.archived,
    inserted_at: r.inserted_at,
    name: r.name,
    organization_prn: `prn:1:${org}`,
    prn: (0, prn_js_1.prn)(org, 'product', r.id),
    updated_at: r.updated_at,
});
exports.productJson = productJson;
const cohortJson = (org, r) => ({
    description: r.description,
    inserted_at: r.inserted_at,
    name: r.name,
    organization_prn: `prn:1:${org}`,
    prn: (0, prn_js_1.prn)(org, 'cohort', r.id),
    product_prn: (0, prn_js_1.prn)(org, 'product', r.product_id),
    updated_at: r.updated_at,
});
exports.cohortJson = cohortJson;
const deviceJson = (org, r) => ({
    cohort_prn: r.cohort_id === null ? null : (0, prn_js_1.prn)(org, 'cohort', r.cohort_id),
    description: r.description,
    identifier: r.identifier,
    inserted_at: r.inserted_at,
    last_connected_at: r.last_connected_at,
    organization_prn: `prn:1:${org}`,
    prn: (0, prn_js_1.prn)(org, 'device', r.id),
    product_prn: (0, prn_js_1.prn)(org, 'product', r.product_id),
    quarantined: r.quarantined,
    reported_bundle_prn: r.reported.bundle_prn,
    reported_release_prn: r.reported.release_prn,
    reported_release_version: r.reported.release_version,
    tags: r.tags,
    target: r.target,
    updated_at: r.updated_at,
});
exports.deviceJson = deviceJson;
const bundleJson = (org, r) => ({
    binaries: r.binaries.map((b) => ({
        prn: (0, prn_js_1.prn)(org, 'binary', b.binary_id),
        custom_metadata: b.custom_metadata,
    })),
    hash: r.hash,
    inserted_at: r.inserted_at,
    name: r.name,
    organization_prn: `prn:1:${org}`,
    prn: (0, prn_js_1.prn)(org, 'bundle', r.id),
    updated_at: r.updated_at,
});
exports.bundleJson = bundleJson;
const bundleSignatureJson = (org, r) => ({
    bundle_prn: (0, prn_js_1.prn)(org, 'bundle', r.bundle_id),
    inserted_at: r.inserted_at,
    keyid: r.keyid,
    organization_prn: `prn:1:${org}`,
    prn: (0, prn_js_1.prn)(org, 'bundle_signature', r.id),
    signature: r.signature,
    signing_key_prn: (0, prn_js_1.prn)(org, 'signing_key', r.signing_key_id),
    updated_at: r.updated_at,
});
exports.bundleSignatureJson = bundleSignatureJson;
const releaseJson = (org, r, now) => ({
    bundle_prn: (0, prn_js_1.prn)(org, 'bundle', r.bundle_id),
    cohort_prn: (0, prn_js_1.prn)(org, 'cohort', r.cohort_id),
    description: r.description,
    disabled: r.disabled,
    inserted_at: r.inserted_at,
    name: r.name,
    next_release_prn: r.next_release_id === null ? null : (0, prn_js_1.prn)(org, 'release', r.next_release_id),
    organization_prn: `prn:1:${org}`,
    phase_mode: r.phase_mode,
    phase_tags: r.phase_tags ?? [],
    phase_type: (0, phase_js_1.phaseType)(r),
    phase_value: r.phase_value,
    prn: (0, prn_js_1.prn)(org, 'release', r.id),
    required: r.required,
    schedule_complete: (0, phase_js_1.scheduleComplete)(r, now),
    schedule_date: r.schedule_date,
    updated_at: r.updated_at,
    version: r.version,
    version_requirement: r.version_requirement,
});
exports.releaseJson = releaseJson;
const overrideJson = (org, r) => ({
    bundle_prn: (0, prn_js_1.prn)(org, 'bundle', r.bundle_id),
    description: r.description,
    ends_at: r.ends_at,
    inserted_at: r.inserted_at,
    name: r.name,
    organization_prn: `prn:1:${org}`,
    prn: (0, prn_js_1.prn)(org, 'bundle_override', r.id),
    starts_at: r.starts_at,
    updated_at: r.updated_at,
});
exports.overrideJson = overrideJson;
const overrideDeviceJson = (org, r) => ({
    device_prn: (0, prn_js_1.prn)(org, 'device', r.device_id),
    inserted_at: r.inserted_at,
    updated_at: r.updated_at,
});
exports.overrideDeviceJson = overrideDeviceJson;
/** The webhook envelope (`version`, `prn`, `type`, `inserted_at`, `data: {type, data}`) plus the list's keys. */
const eventJson = (org, r) => ({
    actor_prn: r.actor_prn,
    data: { type: r.subtype, data: r.data },
    event_subtype: r.subtype,
    inserted_at: r.inserted_at,
    prn: (0, prn_js_1.prn)(org, 'event', r.id),
    resource_prn: r.resource_prn,
    type: r.type,
    version: 1,
});
exports.eventJson = eventJson;


/***/ }),

/***/ 51:
/***/ ((__unused_webpack_module, exports) => {


Object.defineProperty(exports, "__esModule", ({ value: true }));
exports.phaseValueProblem = phaseValueProblem;
exports.phaseLimit = phaseLimit;
exports.claimLimit = claimLimit;
exports.phaseType = phaseType;
exports.isPhased = isPhased;
exports.scheduleComplete = scheduleComplete;
exports.hasAnyTag = hasAnyTag;
/**
 * Numeric phasing (spec `release-phase-value`): a value in [0, 1] is a share of the cohort's devices, an
 * integer in [2, 1e9] a device count, and exactly 1 means 100% (not phased, and final once set).
 */
const MAX_PHASE_VALUE = 1_000_000_000;
/** Why a phase_value is not allowed, or undefined when it is. */
function phaseValueProblem(value) {
    if (typeof value !== 'number' || !Number.isFinite(value))
        return 'must be a number';
    if (value < 0)
        return 'must be at least 0';
    if (value > MAX_PHASE_VALUE)
        return `must be at most ${MAX_PHASE_VALUE}`;
    if (value > 1 && (!Number.isInteger(value) || value < 2)) {
        return 'must be a share from 0 to 1 (e.g. 0.2 for 20%) or a whole device count from 2 to 1000000000';
    }
    return undefined;
}
function phaseLimit(release) {
    const v = release.phase_value;
    if (v === 1)
        return { kind: 'all' };
    if (v < 1)
        return { kind: 'share', share: v };
    return { kind: 'count', count: v };
}
/**
 * How many devices may claim a release. "Claimed by fewer than phase_value × the cohort's devices" admits
 * ceil(share × devices); the product is rounded to 1e-9 first so 0.1 × 30 is 3, not 3.0000000000000004.
 */
function claimLimit(limit, cohortDevices) {
    if (limit.kind === 'all')
        return Number.POSITIVE_INFINITY;
    if (limit.kind === 'count')
        return limit.count;
    return Math.ceil(Math.round(limit.share * cohortDevices * 1e9) / 1e9);
}
/** The spec's read-only `phase_type`: a count is "static", a share (including 1 = 100%) is "percent". */
function phaseType(release) {
    return release.phase_value > 1 ? 'static' : 'percent';
}
function isPhased(release) {
    return release.phase_mode === 'tags' || release.phase_value !== 1;
}
function scheduleComplete(release, now) {
    return Date.parse(release.schedule_date) <= now.getTime();
}
function hasAnyTag(deviceTags, phaseTags) {
    if (!deviceTags || !phaseTags)
        return false;
    return phaseTags.some((t) => deviceTags.includes(t));
}


/***/ }),

/***/ 6864:
/***/ ((__unused_webpack_module, exports, __webpack_require__) => {


Object.defineProperty(exports, "__esModule", ({ value: true }));
exports.prn = prn;
exports.splitPrn = splitPrn;
exports.pathId = pathId;
exports.bodyId = bodyId;
exports.requiredBodyId = requiredBodyId;
const base_1 = __webpack_require__(2444);
const http_js_1 = __webpack_require__(7969);
const UUID = base_1.UUID_PATTERN;
function prn(org, type, id) {
    return `prn:1:${org}:${type}:${id}`;
}
/** `{org, type, id}` of a well-formed resource PRN of any type, lowercased; else undefined. */
function splitPrn(value) {
    if (typeof value !== 'string')
        return undefined;
    const s = value.split(':');
    if (s.length !== 5 || s[0] !== 'prn' || s[1] !== '1' || !UUID.test(s[2]) || !UUID.test(s[4]))
        return undefined;
    return { org: s[2].toLowerCase(), type: s[3], id: s[4].toLowerCase() };
}
/** The id named by a path PRN; anything else (malformed, other type, other organization) is 404. */
function pathId(org, value, type) {
    const p = splitPrn(value);
    if (!p || p.type !== type || p.org !== org)
        throw (0, http_js_1.notFound)();
    return p.id;
}
/** The id named by a body PRN: malformed or of another type → 422 naming the field; another org → 404. */
function bodyId(org, body, key, type) {
    const value = body[key];
    if (value === undefined || value === null)
        return undefined;
    const p = splitPrn(value);
    if (!p || p.type !== type)
        throw (0, http_js_1.fieldError)(key, `is invalid: must be a ${type} PRN (prn:1:<org-uuid>:${type}:<uuid>)`);
    if (p.org !== org)
        throw (0, http_js_1.notFound)(`${key} ${value}`);
    return p.id;
}
function requiredBodyId(org, body, key, type) {
    const id = bodyId(org, body, key, type);
    if (id === undefined)
        throw (0, http_js_1.fieldError)(key, `can't be blank: give a ${type} PRN`);
    return id;
}


/***/ }),

/***/ 4144:
/***/ ((__unused_webpack_module, exports, __webpack_require__) => {


Object.defineProperty(exports, "__esModule", ({ value: true }));
exports.activeOverride = activeOverride;
exports.resolve = resolve;
const phase_js_1 = __webpack_require__(51);
const prn_js_1 = __webpack_require__(6864);
const version_js_1 = __webpack_require__(5640);
function activeOverride(overrides, now) {
    const t = now.getTime();
    const active = overrides.filter((o) => Date.parse(o.starts_at) <= t && (o.ends_at === null || t < Date.parse(o.ends_at)));
    // The most recently started wins; a tie goes to the most recently created.
    active.sort((a, b) => Date.parse(b.starts_at) - Date.parse(a.starts_at) || b.inserted_at.localeCompare(a.inserted_at));
    return active[0];
}
function findStart(input, byId) {
    const { request, releases, org } = input;
    const rel = (0, prn_js_1.splitPrn)(request.release_prn);
    if (rel && rel.type === 'release' && rel.org === org && byId.has(rel.id)) {
        const current = byId.get(rel.id);
        if (!current.next_release_id)
            return { none: 'the reported release is the latest release of the cohort' };
        return { candidate: byId.get(current.next_release_id), via: 'release_prn' };
    }
    const bun = (0, prn_js_1.splitPrn)(request.bundle_prn);
    if (bun && bun.type === 'bundle' && bun.org === org) {
        // Several releases may carry one bundle: the most recently created one is the device's position.
        const carrying = releases
            .filter((r) => r.bundle_id === bun.id)
            .sort((a, b) => b.inserted_at.localeCompare(a.inserted_at))[0];
        if (carrying) {
            if (!carrying.next_release_id)
                return { none: 'the reported bundle is in the latest release of the cohort' };
            return { candidate: byId.get(carrying.next_release_id), via: 'bundle_prn' };
        }
    }
    const version = request.release_version;
    if (version === undefined || !(0, version_js_1.isVersion)(version))
        return { none: 'nothing reported matches a release of the cohort' };
    const v = (0, version_js_1.parseVersion)(version);
    const dynamic = releases
        .filter((r) => r.version !== null && r.version_requirement !== null && (0, version_js_1.isVersion)(r.version))
        .filter((r) => {
        try {
            return (0, version_js_1.matches)(v, (0, version_js_1.parseRequirement)(r.version_requirement));
        }
        catch {
            return false;
        }
    })
        .sort((a, b) => (0, version_js_1.compareVersions)((0, version_js_1.parseVersion)(a.version), (0, version_js_1.parseVersion)(b.version)));
    if (dynamic.length === 0)
        return { none: `no release's version_requirement is satisfied by version ${version}` };
    return { candidate: dynamic[0], via: 'release_version' };
}
/** Step 5: from the candidate forward to the first required release or the latest one. */
function walkForward(candidate, byId) {
    const path = [candidate];
    const seen = new Set([candidate.id]);
    let current = candidate;
    while (!current.required && current.next_release_id) {
        const next = byId.get(current.next_release_id);
        if (!next || seen.has(next.id))
            break; // a broken or cyclic link never loops the check
        path.push(next);
        seen.add(next.id);
        current = next;
    }
    return path;
}
function meetsRequirement(release, version) {
    // Without a reported version there is nothing to check against.
    if (release.version_requirement === null || version === undefined)
        return true;
    try {
        return (0, version_js_1.matches)(version, release.version_requirement);
    }
    catch {
        return false;
    }
}
async function resolve(input) {
    const { device, now } = input;
    if (device.quarantined)
        return { status: 'device_quarantine' };
    const override = activeOverride(input.overrides, now);
    if (override) {
        if (input.request.bundle_prn !== undefined &&
            (0, prn_js_1.splitPrn)(input.request.bundle_prn)?.id === override.bundle_id) {
            return { status: 'no_update', reason: "the device is already on its bundle override's bundle" };
        }
        if (!(await input.bundleSigned(override.bundle_id))) {
            return { status: 'no_update', reason: 'the bundle override has a binary that is not signed' };
        }
        return { status: 'update', source: 'bundle_override', override };
    }
    if (device.cohort_id === null)
        return { status: 'no_update', reason: 'the device is in no cohort' };
    const byId = new Map(input.releases.map((r) => [r.id, r]));
    const start = findStart(input, byId);
    if ('none' in start)
        return { status: 'no_update', reason: start.none };
    const path = walkForward(start.candidate, byId);
    const version = input.request.release_version;
    for (let i = path.length - 1; i >= 0; i--) {
        const release = path[i];
        if (release.disabled)
            continue;
        if (!meetsRequirement(release, version))
            continue;
        if (!(0, phase_js_1.scheduleComplete)(release, now))
            continue;
        const signed = await input.bundleSigned(release.bundle_id);
        if (release.phase_mode === 'tags') {
            if (!(0, phase_js_1.hasAnyTag)(device.tags, release.phase_tags))
                continue;
        }
        else if ((0, phase_js_1.isPhased)(release) && !(await input.numericPhaseAdmits(release, signed))) {
            continue;
        }
        if (!signed)
            return { status: 'no_update', reason: `release ${release.id} has a binary that is not signed` };
        return { status: 'update', source: 'release', release, via: start.via };
    }
    return { status: 'no_update', reason: 'no release on the path is available to the device' };
}


/***/ }),

/***/ 3618:
/***/ ((__unused_webpack_module, exports, __webpack_require__) => {


Object.defineProperty(exports, "__esModule", ({ value: true }));
exports.updateCheck = updateCheck;
const http_js_1 = __webpack_require__(7969);
const fields_js_1 = __webpack_require__(4703);
const phase_js_1 = __webpack_require__(51);
const prn_js_1 = __webpack_require__(6864);
const resolve_js_1 = __webpack_require__(4144);
function reportedField(input, key) {
    const value = input[key];
    if (value === undefined || value === null)
        return undefined;
    if (typeof value !== 'string' || value.length === 0 || value.length > 1024)
        throw (0, http_js_1.fieldError)(key, 'is invalid: must be a non-empty string');
    return value;
}
function deviceRef(org, device, cohort) {
    return {
        prn: (0, prn_js_1.prn)(org, 'device', device.id),
        identifier: device.identifier,
        cohort: cohort ? { cohort_prn: (0, prn_js_1.prn)(org, 'cohort', cohort.id), cohort_name: cohort.name } : null,
    };
}
async function updateCheck(d, devicePrn, input, baseUrl) {
    const found = await d.store.deviceForCheck((0, prn_js_1.pathId)(d.org, devicePrn, 'device'));
    if (!found)
        throw (0, http_js_1.notFound)();
    const { device, overrides } = found;
    const write = (0, fields_js_1.optionalBoolean)(input, 'write') ?? false;
    let request = {
        release_prn: reportedField(input, 'release_prn'),
        bundle_prn: reportedField(input, 'bundle_prn'),
        release_version: reportedField(input, 'release_version'),
    };
    // None given: the device's recorded state stands in (so a check right after `write: true` needs no body).
    if (request.release_prn === undefined &&
        request.bundle_prn === undefined &&
        request.release_version === undefined) {
        request = {
            release_prn: device.reported.release_prn ?? undefined,
            bundle_prn: device.reported.bundle_prn ?? undefined,
            release_version: device.reported.release_version ?? undefined,
        };
    }
    const now = d.now();
    const catalog = d.catalog.view(found.catalogVersion);
    const cohort = device.cohort_id === null ? undefined : await catalog.getCohort(device.cohort_id);
    const ref = deviceRef(d.org, device, cohort);
    const releases = cohort ? await catalog.cohortReleases(cohort.id) : [];
    // Bundles and binaries are read as resolution reaches them: a check typically looks at one or two of the
    // cohort's releases, and reading every release's bundle up front was most of its cost.
    const bundleSigned = async (id) => {
        const bundle = await catalog.getBundle(id);
        if (!bundle)
            return false;
        for (const b of bundle.binaries)
            if ((await catalog.binary(b.binary_id))?.state !== 'signed')
                return false;
        return true;
    };
    const claimedEvent = (release) => ({
        type: 'device',
        subtype: 'claimed_release',
        resource_prn: ref.prn,
        actor_prn: ref.prn,
        data: { device: ref, release: { prn: (0, prn_js_1.prn)(d.org, 'release', release.id), version: release.version } },
    });
    const resolution = await (0, resolve_js_1.resolve)({
        org: d.org,
        device,
        request,
        now,
        overrides,
        releases,
        bundleSigned,
        async numericPhaseAdmits(release, commit) {
            const limit = (0, phase_js_1.phaseLimit)(release);
            // A look first: once a phase is full, most checks are of devices it does not admit, and a claim is a
            // durable write. A refusal now is what the claim would have answered at this instant.
            const admits = await d.store.wouldAdmit(release, device.id, limit);
            if (!admits || !commit)
                return admits;
            return (await d.store.claimPhaseSlot(release, device.id, limit, () => claimedEvent(release))).admitted;
        },
    });
    let body;
    let targetRelease;
    let targetBundle;
    if (resolution.status === 'update') {
        targetBundle = (await catalog.getBundle(resolution.source === 'release' ? resolution.release.bundle_id : resolution.override.bundle_id));
        targetRelease = resolution.source === 'release' ? resolution.release : undefined;
        const manifest = [];
        for (const entry of targetBundle.binaries) {
            const b = (await catalog.binary(entry.binary_id));
            manifest.push({
                artifact_prn: (0, prn_js_1.prn)(d.org, 'artifact', b.artifact_id),
                artifact_version: (0, prn_js_1.prn)(d.org, 'artifact_version', b.artifact_version_id),
                binary_prn: (0, prn_js_1.prn)(d.org, 'binary', b.id),
                custom_metadata: entry.custom_metadata,
                hash: b.hash,
                signatures: b.signatures.map((s) => ({
                    signature: s.signature,
                    signing_key_prn: (0, prn_js_1.prn)(d.org, 'signing_key', s.signing_key_id),
                    keyid: s.keyid,
                    public_value: s.public_value,
                })),
                size: b.size,
                target: b.target,
                url: await d.binaries.downloadUrl(baseUrl, b),
            });
        }
        body = {
            status: 'update',
            source_type: resolution.source,
            source_prn: resolution.source === 'release'
                ? (0, prn_js_1.prn)(d.org, 'release', resolution.release.id)
                : (0, prn_js_1.prn)(d.org, 'bundle_override', resolution.override.id),
            bundle_prn: (0, prn_js_1.prn)(d.org, 'bundle', targetBundle.id),
            manifest,
        };
    }
    else {
        if (resolution.status === 'no_update')
            d.logger.debug(`update check device=${ref.prn}: no_update (${resolution.reason})`);
        body = { status: resolution.status, source_type: null, source_prn: null, bundle_prn: null, manifest: [] };
    }
    await d.events.append({
        type: 'device',
        subtype: 'checked_for_release',
        resource_prn: ref.prn,
        actor_prn: ref.prn,
        data: {
            device: ref,
            release: targetRelease
                ? { prn: (0, prn_js_1.prn)(d.org, 'release', targetRelease.id), version: targetRelease.version }
                : null,
            bundle: targetBundle ? { prn: (0, prn_js_1.prn)(d.org, 'bundle', targetBundle.id), name: targetBundle.name } : null,
        },
    });
    if (write)
        await recordReported(d, device, ref, request, releases);
    return body;
}
/** `write: true`: the reported triple, all at once; a known release fills in its bundle and version. */
async function recordReported(d, device, ref, request, releases) {
    const rel = (0, prn_js_1.splitPrn)(request.release_prn);
    const known = rel && rel.type === 'release' && rel.org === d.org
        ? (releases.find((r) => r.id === rel.id) ?? (await d.store.getRelease(rel.id)))
        : undefined;
    const reported = {
        release_prn: request.release_prn ?? null,
        bundle_prn: request.bundle_prn ?? (known ? (0, prn_js_1.prn)(d.org, 'bundle', known.bundle_id) : null),
        release_version: request.release_version ?? known?.version ?? null,
    };
    const bundle = (0, prn_js_1.splitPrn)(reported.bundle_prn);
    const bundleKnown = !!bundle && bundle.type === 'bundle' && bundle.org === d.org && !!(await d.store.getBundle(bundle.id));
    await d.store.reportDeviceState(device.id, reported, (previous) => {
        if (previous.release_prn === reported.release_prn && previous.bundle_prn === reported.bundle_prn)
            return undefined;
        return {
            type: 'device',
            subtype: 'release_changed',
            resource_prn: ref.prn,
            actor_prn: ref.prn,
            data: {
                device: ref,
                from_release: previous.release_prn
                    ? { prn: previous.release_prn, version: previous.release_version }
                    : null,
                to_release: reported.release_prn
                    ? { prn: reported.release_prn, version: reported.release_version, known: !!known }
                    : null,
                from_bundle: previous.bundle_prn ? { prn: previous.bundle_prn } : null,
                to_bundle: reported.bundle_prn ? { prn: reported.bundle_prn, known: bundleKnown } : null,
            },
        };
    });
}


/***/ }),

/***/ 5640:
/***/ ((__unused_webpack_module, exports) => {


Object.defineProperty(exports, "__esModule", ({ value: true }));
exports.VersionSyntaxError = void 0;
exports.parseVersion = parseVersion;
exports.isVersion = isVersion;
exports.compareVersions = compareVersions;
exports.parseRequirement = parseRequirement;
exports.matches = matches;
const OPERATORS = ['==', '!=', '>=', '<=', '~>', '>', '<'];
class VersionSyntaxError extends Error {
}
exports.VersionSyntaxError = VersionSyntaxError;
const NUMBER = /^(0|[1-9]\d*)$/;
const IDENT = /^[0-9A-Za-z-]+$/;
function parsePre(text, original) {
    return text.split('.').map((id) => {
        if (!IDENT.test(id))
            throw new VersionSyntaxError(`'${original}': pre-release part '${id}' is invalid`);
        if (/^\d+$/.test(id)) {
            if (!NUMBER.test(id))
                throw new VersionSyntaxError(`'${original}': numeric pre-release '${id}' has a leading zero`);
            return Number(id);
        }
        return id;
    });
}
function parseParts(text, allowPartial) {
    const original = text;
    let rest = text;
    let build;
    const plus = rest.indexOf('+');
    if (plus >= 0) {
        build = rest.slice(plus + 1);
        rest = rest.slice(0, plus);
        if (!build || !build.split('.').every((id) => IDENT.test(id)))
            throw new VersionSyntaxError(`'${original}': build metadata is invalid`);
    }
    let pre = [];
    const dash = rest.indexOf('-');
    if (dash >= 0) {
        pre = parsePre(rest.slice(dash + 1), original);
        rest = rest.slice(0, dash);
    }
    const numbers = rest.split('.');
    const partial = allowPartial && numbers.length === 2 && pre.length === 0 && build === undefined;
    if (numbers.length !== 3 && !partial) {
        throw new VersionSyntaxError(`'${original}' is not a version: expected MAJOR.MINOR.PATCH (e.g. 1.2.3, no 'v' prefix)`);
    }
    for (const n of numbers) {
        if (!NUMBER.test(n)) {
            throw new VersionSyntaxError(`'${original}' is not a version: '${n}' must be a number without leading zeros`);
        }
    }
    const [major, minor, patch = 0] = numbers.map(Number);
    return { version: { major, minor, patch, pre, build }, parts: numbers.length };
}
function parseVersion(text) {
    return parseParts(text, false).version;
}
function isVersion(text) {
    try {
        parseVersion(text);
        return true;
    }
    catch {
        return false;
    }
}
function compareIds(a, b) {
    if (typeof a === 'number' && typeof b === 'number')
        return a - b;
    if (typeof a === 'number')
        return -1;
    if (typeof b === 'number')
        return 1;
    return a < b ? -1 : a > b ? 1 : 0;
}
/** SemVer precedence; build metadata is ignored, a pre-release sorts before its release. */
function compareVersions(a, b) {
    const d = a.major - b.major || a.minor - b.minor || a.patch - b.patch;
    if (d !== 0)
        return Math.sign(d);
    if (a.pre.length === 0 && b.pre.length === 0)
        return 0;
    if (a.pre.length === 0)
        return 1;
    if (b.pre.length === 0)
        return -1;
    for (let i = 0; i < Math.min(a.pre.length, b.pre.length); i++) {
        const c = compareIds(a.pre[i], b.pre[i]);
        if (c !== 0)
            return Math.sign(c);
    }
    return Math.sign(a.pre.length - b.pre.length);
}
function parseClause(text, original) {
    const trimmed = text.trim();
    const op = OPERATORS.find((o) => trimmed.startsWith(o));
    // A bare version means `==`, as in Elixir.
    const versionText = (op ? trimmed.slice(op.length) : trimmed).trim();
    if (!versionText)
        throw new VersionSyntaxError(`'${original}': '${trimmed}' has no version after the operator`);
    try {
        const { version, parts } = parseParts(versionText, op === '~>');
        return { op: op ?? '==', version, parts };
    }
    catch (err) {
        throw new VersionSyntaxError(`'${original}' is not a valid version requirement: ${err.message} (operators: == != > >= < <= ~>, joined by 'and' / 'or')`);
    }
}
function parseRequirement(text) {
    if (text.trim() === '')
        throw new VersionSyntaxError(`'${text}' is not a valid version requirement: it is empty`);
    if (/\|\||&&|\^|,/.test(text)) {
        throw new VersionSyntaxError(`'${text}' is not a valid version requirement: use Elixir syntax (== != > >= < <= ~>, joined by 'and' / 'or'), not npm ranges`);
    }
    return text.split(/\s+or\s+/).map((alt) => alt.split(/\s+and\s+/).map((c) => parseClause(c, text)));
}
function matchClause(v, clause) {
    const c = compareVersions(v, clause.version);
    switch (clause.op) {
        case '==':
            return c === 0;
        case '!=':
            return c !== 0;
        case '>':
            return c > 0;
        case '>=':
            return c >= 0;
        case '<':
            return c < 0;
        case '<=':
            return c <= 0;
        case '~>': {
            const { major, minor } = clause.version;
            // Elixir's upper bound is the next minor (or major) with pre-release `0`, so its pre-releases are out too.
            const upper = clause.parts === 2
                ? { major: major + 1, minor: 0, patch: 0, pre: [0], build: undefined }
                : { major, minor: minor + 1, patch: 0, pre: [0], build: undefined };
            return c >= 0 && compareVersions(v, upper) < 0;
        }
    }
}
function matches(version, requirement) {
    const v = typeof version === 'string' ? parseVersion(version) : version;
    const req = typeof requirement === 'string' ? parseRequirement(requirement) : requirement;
    return req.some((all) => all.every((clause) => matchClause(v, clause)));
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
const content_js_1 = __webpack_require__(8556);
const fields_js_1 = __webpack_require__(8884);
const http_js_1 = __webpack_require__(7969);
const lifecycle_js_1 = __webpack_require__(3837);
const list_js_1 = __webpack_require__(9369);
const records_js_1 = __webpack_require__(7099);
const destroy_warning_js_1 = __webpack_require__(5107);
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
/** After a destroy committed: which releases it affects, as response headers (releases/index.ts). */
async function affectedReleaseHeaders(ctx, binaryId) {
    return (0, destroy_warning_js_1.destroyedBinaryHeaders)((await ctx.binaryDestroyed?.(binaryId)) ?? []);
}
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
                const signatures = await ctx.store.signatures.forBinaries(page.rows.map((r) => r.id));
                const binaries = await Promise.all(page.rows.map((r) => (0, records_js_1.binaryJson)(ctx, r, signatures.get(r.id))));
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
                // Parts sent straight to the content store count once the store shows them.
                if (patch.state === 'hashable')
                    await (0, content_js_1.syncDirectParts)(ctx, existing);
                let startHashing = false;
                let destroyed = false;
                const row = await (0, lifecycle_js_1.changeBinary)(ctx, existing.id, async (tx) => {
                    const current = (await (0, lifecycle_js_1.findBinary)(ctx, existing.id, tx)) ?? existing;
                    checkContentChange(current, patch);
                    destroyed = patch.state === 'destroyed' && current.state !== 'destroyed';
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
                if (row.state === 'hashable' && existing.state === 'uploadable')
                    await (0, content_js_1.completeDirectUpload)(ctx, row);
                if (startHashing)
                    ctx.enqueueHashing(row.id);
                const headers = destroyed ? await affectedReleaseHeaders(ctx, row.id) : undefined;
                return { status: 200, body: { binary: await (0, records_js_1.binaryJson)(ctx, row) }, headers };
            },
        },
        {
            method: 'DELETE',
            pattern: '/binaries/:prn',
            auth: true,
            async handler({ params }) {
                const existing = await getBinary(ctx, params.prn);
                const destroyed = await (0, lifecycle_js_1.changeBinary)(ctx, existing.id, async (tx) => {
                    const current = await (0, lifecycle_js_1.findBinary)(ctx, existing.id, tx);
                    if (!current || current.state === 'destroyed')
                        return false;
                    if (current.state === 'signable' || current.state === 'signed') {
                        await (0, lifecycle_js_1.destroy)(tx, current);
                        return true;
                    }
                    await (0, lifecycle_js_1.deleteUnfinished)(tx, current);
                    return false;
                });
                return {
                    status: 204,
                    headers: destroyed ? await affectedReleaseHeaders(ctx, existing.id) : undefined,
                };
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
                    body: { download_url: await (0, content_js_1.downloadUrl)(ctx, baseUrl, binary) },
                };
            },
        },
    ];
}


/***/ }),

/***/ 5550:
/***/ ((__unused_webpack_module, exports, __webpack_require__) => {


Object.defineProperty(exports, "__esModule", ({ value: true }));
exports.bundleOverrideRoutes = bundleOverrideRoutes;
const fields_js_1 = __webpack_require__(8884);
const http_js_1 = __webpack_require__(7969);
const fields_js_2 = __webpack_require__(4703);
const json_js_1 = __webpack_require__(9140);
const prn_js_1 = __webpack_require__(6864);
function checkWindow(o) {
    if (o.ends_at !== null && Date.parse(o.ends_at) <= Date.parse(o.starts_at))
        throw (0, http_js_1.fieldError)('ends_at', `must be after starts_at (${o.starts_at})`);
}
/** Bundle overrides: a bundle for chosen devices during a time window, ahead of any release. */
function bundleOverrideRoutes(d) {
    const get = async (value) => {
        const row = await d.store.getOverride((0, prn_js_1.pathId)(d.org, value, 'bundle_override'));
        if (!row)
            throw (0, http_js_1.notFound)();
        return row;
    };
    const checkBundle = async (input, id) => {
        if (!(await d.store.getBundle(id)))
            throw (0, http_js_1.notFound)(`bundle_prn ${String(input.bundle_prn)}`);
    };
    return [
        {
            method: 'POST',
            pattern: '/bundle_overrides',
            auth: true,
            async handler({ body }) {
                const input = await body();
                const bundleId = (0, prn_js_1.requiredBodyId)(d.org, input, 'bundle_prn', 'bundle');
                const record = {
                    bundle_id: bundleId,
                    name: (0, fields_js_1.requiredString)(input, 'name', 128),
                    description: (0, fields_js_2.nullableString)(input, 'description', 256) ?? null,
                    starts_at: (0, fields_js_2.requiredDateTime)(input, 'starts_at'),
                    ends_at: (0, fields_js_2.optionalDateTime)(input, 'ends_at') ?? null,
                };
                checkWindow(record);
                await checkBundle(input, bundleId);
                const row = await d.store.createOverride(record);
                return { status: 201, body: { bundle_override: (0, json_js_1.overrideJson)(d.org, row) } };
            },
        },
        {
            method: 'GET',
            pattern: '/bundle_overrides',
            auth: true,
            async handler({ query }) {
                const page = await d.store.listOverrides(query);
                return {
                    status: 200,
                    body: {
                        bundle_overrides: page.items.map((r) => (0, json_js_1.overrideJson)(d.org, r)),
                        next_page: page.next_page,
                    },
                };
            },
        },
        {
            method: 'GET',
            pattern: '/bundle_overrides/:prn',
            auth: true,
            async handler({ params }) {
                return { status: 200, body: { bundle_override: (0, json_js_1.overrideJson)(d.org, await get(params.prn)) } };
            },
        },
        {
            method: 'PATCH',
            pattern: '/bundle_overrides/:prn',
            auth: true,
            async handler({ params, body }) {
                const existing = await get(params.prn);
                const input = await body();
                const patch = {};
                const bundleId = (0, prn_js_1.bodyId)(d.org, input, 'bundle_prn', 'bundle');
                if (bundleId !== undefined) {
                    await checkBundle(input, bundleId);
                    patch.bundle_id = bundleId;
                }
                if (input.name !== undefined && input.name !== null)
                    patch.name = (0, fields_js_1.requiredString)(input, 'name', 128);
                const description = (0, fields_js_2.nullableString)(input, 'description', 256);
                if (description !== undefined)
                    patch.description = description;
                const startsAt = (0, fields_js_2.optionalDateTime)(input, 'starts_at');
                if (startsAt !== undefined)
                    patch.starts_at = startsAt;
                if ('ends_at' in input)
                    patch.ends_at = (0, fields_js_2.optionalDateTime)(input, 'ends_at') ?? null;
                checkWindow({ ...existing, ...patch });
                const row = await d.store.updateOverride(existing.id, patch);
                return { status: 200, body: { bundle_override: (0, json_js_1.overrideJson)(d.org, row) } };
            },
        },
        {
            method: 'DELETE',
            pattern: '/bundle_overrides/:prn',
            auth: true,
            async handler({ params }) {
                const existing = await get(params.prn);
                await d.store.deleteOverride(existing.id);
                return { status: 204 };
            },
        },
        {
            method: 'POST',
            pattern: '/bundle_overrides/:prn/devices',
            auth: true,
            async handler({ params, body }) {
                const existing = await get(params.prn);
                const input = await body();
                const deviceId = (0, prn_js_1.requiredBodyId)(d.org, input, 'device_prn', 'device');
                if (!(await d.store.getDevice(deviceId)))
                    throw (0, http_js_1.notFound)(`device_prn ${String(input.device_prn)}`);
                const { device, created } = await d.store.addOverrideDevice(existing.id, deviceId);
                return { status: created ? 201 : 200, body: { device: (0, json_js_1.overrideDeviceJson)(d.org, device) } };
            },
        },
        {
            method: 'GET',
            pattern: '/bundle_overrides/:prn/devices',
            auth: true,
            async handler({ params, query }) {
                const existing = await get(params.prn);
                const page = await d.store.listOverrideDevices(existing.id, query);
                return {
                    status: 200,
                    body: { devices: page.items.map((r) => (0, json_js_1.overrideDeviceJson)(d.org, r)), next_page: page.next_page },
                };
            },
        },
        {
            method: 'DELETE',
            pattern: '/bundle_overrides/:prn/devices/:device',
            auth: true,
            async handler({ params }) {
                const existing = await get(params.prn);
                const deviceId = (0, prn_js_1.pathId)(d.org, params.device, 'device');
                if (!(await d.store.removeOverrideDevice(existing.id, deviceId)))
                    throw (0, http_js_1.notFound)();
                return { status: 204 };
            },
        },
    ];
}


/***/ }),

/***/ 3564:
/***/ ((__unused_webpack_module, exports, __webpack_require__) => {


Object.defineProperty(exports, "__esModule", ({ value: true }));
exports.bundleSignatureRoutes = bundleSignatureRoutes;
const base_1 = __webpack_require__(2444);
const http_js_1 = __webpack_require__(7969);
const json_js_1 = __webpack_require__(9140);
const prn_js_1 = __webpack_require__(6864);
/**
 * Bundle signatures: Ed25519 over the ASCII of the bundle's lowercase hex `hash` (or its raw digest, as
 * for binaries), checked at creation. Attestation for tooling: devices never see them.
 */
function bundleSignatureRoutes(d) {
    async function resolveKey(input) {
        const byId = (0, prn_js_1.bodyId)(d.org, input, 'signing_key_prn', 'signing_key');
        const keyid = input.signing_key_keyid ?? undefined;
        if (keyid !== undefined && keyid !== null && typeof keyid !== 'string')
            throw (0, http_js_1.fieldError)('signing_key_keyid', 'is invalid: must be a string');
        if (byId === undefined && (keyid === undefined || keyid === null))
            throw (0, http_js_1.fieldError)('signing_key_prn', "can't be blank: give signing_key_prn or signing_key_keyid");
        const key = byId !== undefined
            ? await d.binaries.signingKey({ id: byId })
            : await d.binaries.signingKey({ keyid: keyid });
        if (!key) {
            if (byId !== undefined)
                throw (0, http_js_1.notFound)(`signing_key_prn ${String(input.signing_key_prn)}`);
            throw (0, http_js_1.fieldError)('signing_key_keyid', 'does not match a signing key');
        }
        if (byId !== undefined && typeof keyid === 'string' && keyid !== key.keyid)
            throw (0, http_js_1.fieldError)('signing_key_keyid', 'does not match the key of signing_key_prn');
        return key;
    }
    return [
        {
            method: 'POST',
            pattern: '/bundle_signatures',
            auth: true,
            async handler({ body }) {
                const input = await body();
                const bundleId = (0, prn_js_1.requiredBodyId)(d.org, input, 'bundle_prn', 'bundle');
                const signature = input.signature;
                if (typeof signature !== 'string' || !/^[0-9a-fA-F]{128}$/.test(signature)) {
                    throw (0, http_js_1.fieldError)('signature', 'is invalid: must be the 64-byte Ed25519 signature as 128 hex characters');
                }
                const key = await resolveKey(input);
                const bundle = await d.store.getBundle(bundleId);
                if (!bundle)
                    throw (0, http_js_1.notFound)(`bundle_prn ${String(input.bundle_prn)}`);
                if (!(0, base_1.verifyHashSignature)(bundle.hash, signature, key.value, { allowRawDigest: true })) {
                    throw (0, http_js_1.fieldError)('signature', `Invalid signature: it does not verify with signing key ${key.keyid}; sign the hash of the bundle (its 64 lowercase hex characters, ${bundle.hash})`);
                }
                const { signature: row, created } = await d.store.createBundleSignature({
                    bundle_id: bundle.id,
                    signing_key_id: key.id,
                    keyid: key.keyid,
                    signature,
                });
                return { status: created ? 201 : 200, body: { bundle_signature: (0, json_js_1.bundleSignatureJson)(d.org, row) } };
            },
        },
        {
            method: 'GET',
            pattern: '/bundle_signatures',
            auth: true,
            async handler({ query }) {
                const page = await d.store.listBundleSignatures(query);
                return {
                    status: 200,
                    body: {
                        bundle_signatures: page.items.map((r) => (0, json_js_1.bundleSignatureJson)(d.org, r)),
                        next_page: page.next_page,
                    },
                };
            },
        },
        {
            method: 'GET',
            pattern: '/bundle_signatures/:prn',
            auth: true,
            async handler({ params }) {
                const row = await d.store.getBundleSignature((0, prn_js_1.pathId)(d.org, params.prn, 'bundle_signature'));
                if (!row)
                    throw (0, http_js_1.notFound)();
                return { status: 200, body: { bundle_signature: (0, json_js_1.bundleSignatureJson)(d.org, row) } };
            },
        },
        {
            method: 'DELETE',
            pattern: '/bundle_signatures/:prn',
            auth: true,
            async handler({ params }) {
                if (!(await d.store.deleteBundleSignature((0, prn_js_1.pathId)(d.org, params.prn, 'bundle_signature'))))
                    throw (0, http_js_1.notFound)();
                return { status: 204 };
            },
        },
        {
            method: 'GET',
            pattern: '/bundles/:prn/signatures',
            auth: true,
            async handler({ params }) {
                const bundleId = (0, prn_js_1.pathId)(d.org, params.prn, 'bundle');
                if (!(await d.store.getBundle(bundleId)))
                    throw (0, http_js_1.notFound)();
                const rows = await d.store.signaturesOfBundle(bundleId);
                // The spec's key; the Rust SDK's struct reads `signatures` (release-management docs: decision).
                return {
                    status: 200,
                    body: {
                        bundle_signatures: rows.map((r) => ({
                            signature: r.signature,
                            signing_key_prn: (0, prn_js_1.prn)(d.org, 'signing_key', r.signing_key_id),
                            keyid: r.keyid,
                        })),
                    },
                };
            },
        },
    ];
}


/***/ }),

/***/ 8093:
/***/ ((__unused_webpack_module, exports, __webpack_require__) => {


Object.defineProperty(exports, "__esModule", ({ value: true }));
exports.bundleRoutes = bundleRoutes;
const node_crypto_1 = __webpack_require__(7598);
const fields_js_1 = __webpack_require__(8884);
const http_js_1 = __webpack_require__(7969);
const bundle_js_1 = __webpack_require__(5790);
const fields_js_2 = __webpack_require__(4703);
const json_js_1 = __webpack_require__(9140);
const prn_js_1 = __webpack_require__(6864);
const conflict = (field, message) => new http_js_1.HttpError(409, { errors: { [field]: [message] } });
/**
 * Bundles: immutable ordered lists of signed binaries with their custom_metadata resolved at creation.
 * Only the name can change; a bundle a release or override uses cannot be deleted.
 */
function bundleRoutes(d) {
    const get = async (value) => {
        const row = await d.store.getBundle((0, prn_js_1.pathId)(d.org, value, 'bundle'));
        if (!row)
            throw (0, http_js_1.notFound)();
        return row;
    };
    /** `binaries` → resolved entries plus the binaries' hashes, refusing anything but this org's signed binaries. */
    async function entries(input) {
        const list = input.binaries;
        if (!Array.isArray(list) || list.length === 0) {
            throw (0, http_js_1.fieldError)('binaries', "can't be blank: give a list of {prn, custom_metadata} for signed binaries");
        }
        const out = [];
        for (const [i, item] of list.entries()) {
            const field = `binaries[${i}].prn`;
            if (item === null || typeof item !== 'object' || Array.isArray(item)) {
                throw (0, http_js_1.fieldError)(`binaries[${i}]`, 'is invalid: must be an object {prn, custom_metadata}');
            }
            const entry = item;
            const given = (0, fields_js_2.optionalObject)(entry, 'custom_metadata');
            const p = (0, prn_js_1.splitPrn)(entry.prn);
            if (!p || (p.type !== 'binary' && p.type !== 'artifact_version'))
                throw (0, http_js_1.fieldError)(field, 'is invalid: must be a binary PRN');
            if (p.org !== d.org)
                throw (0, http_js_1.notFound)(`${field} ${String(entry.prn)}`);
            let binaries;
            if (p.type === 'artifact_version') {
                // The Peridio CLI's `binaries create --cohort-prn` sends an artifact version PRN here: its binaries.
                const ofVersion = await d.binaries.binariesOfArtifactVersion(p.id);
                if (!ofVersion)
                    throw (0, http_js_1.notFound)(`${field} ${String(entry.prn)}`);
                if (ofVersion.length === 0)
                    throw (0, http_js_1.fieldError)(field, 'is an artifact version without binaries');
                binaries = ofVersion;
            }
            else {
                const binary = await d.binaries.binary(p.id);
                if (!binary)
                    throw (0, http_js_1.notFound)(`${field} ${String(entry.prn)}`);
                binaries = [binary];
            }
            for (const b of binaries) {
                if (b.state !== 'signed') {
                    throw (0, http_js_1.fieldError)(field, `binary ${(0, prn_js_1.prn)(d.org, 'binary', b.id)} is ${b.state}; only signed binaries can be in a bundle`);
                }
                if (out.some((o) => o.binary_id === b.id))
                    throw (0, http_js_1.fieldError)(field, `binary ${(0, prn_js_1.prn)(d.org, 'binary', b.id)} is listed twice`);
                out.push({
                    binary_id: b.id,
                    hash: b.hash,
                    custom_metadata: (0, bundle_js_1.resolveMetadata)({ given, ...b.metadata }),
                });
            }
        }
        return out;
    }
    return [
        {
            method: 'POST',
            pattern: '/bundles',
            auth: true,
            async handler({ body }) {
                const input = await body();
                const id = (0, fields_js_1.optionalId)(input);
                const name = (0, fields_js_2.nullableString)(input, 'name', 256) ?? null;
                const resolved = await entries(input);
                const binaries = resolved.map(({ binary_id, custom_metadata }) => ({ binary_id, custom_metadata }));
                const hash = (0, bundle_js_1.bundleHash)(resolved);
                const { bundle, created } = await d.store
                    .createBundle({ id: id ?? (0, node_crypto_1.randomUUID)(), name, hash, binaries })
                    .catch((err) => {
                    throw conflict('id', `has already been taken: ${err.message}`);
                });
                if (!created && !(0, bundle_js_1.sameContent)(bundle.binaries, binaries)) {
                    throw conflict('id', `has already been taken by bundle ${(0, prn_js_1.prn)(d.org, 'bundle', bundle.id)} with other content (hash ${bundle.hash}, this request's is ${hash}); bundles are immutable: use a new id`);
                }
                return { status: created ? 201 : 200, body: { bundle: (0, json_js_1.bundleJson)(d.org, bundle) } };
            },
        },
        {
            method: 'GET',
            pattern: '/bundles',
            auth: true,
            async handler({ query }) {
                const page = await d.store.listBundles(query);
                return {
                    status: 200,
                    body: { bundles: page.items.map((r) => (0, json_js_1.bundleJson)(d.org, r)), next_page: page.next_page },
                };
            },
        },
        {
            method: 'GET',
            pattern: '/bundles/:prn',
            auth: true,
            async handler({ params }) {
                return { status: 200, body: { bundle: (0, json_js_1.bundleJson)(d.org, await get(params.prn)) } };
            },
        },
        {
            method: 'PATCH',
            pattern: '/bundles/:prn',
            auth: true,
            async handler({ params, body }) {
                const existing = await get(params.prn);
                const input = await body();
                for (const key of ['binaries', 'hash', 'id']) {
                    if (input[key] !== undefined) {
                        throw (0, http_js_1.fieldError)(key, 'cannot change: a bundle is immutable except for its name; create a new bundle instead');
                    }
                }
                const name = (0, fields_js_2.nullableString)(input, 'name', 256);
                const row = name === undefined ? existing : await d.store.updateBundle(existing.id, { name });
                return { status: 200, body: { bundle: (0, json_js_1.bundleJson)(d.org, row) } };
            },
        },
        {
            method: 'DELETE',
            pattern: '/bundles/:prn',
            auth: true,
            async handler({ params }) {
                const existing = await get(params.prn);
                const result = await d.store.deleteBundle(existing.id);
                if (!result.deleted) {
                    const users = [
                        ...result.releases.map((r) => `release ${(0, prn_js_1.prn)(d.org, 'release', r)}`),
                        ...result.overrides.map((o) => `bundle override ${(0, prn_js_1.prn)(d.org, 'bundle_override', o)}`),
                    ];
                    throw conflict('bundle', `is in use by ${users.join(', ')}; delete those (or point them at another bundle) first`);
                }
                return { status: 204 };
            },
        },
    ];
}


/***/ }),

/***/ 898:
/***/ ((__unused_webpack_module, exports, __webpack_require__) => {


Object.defineProperty(exports, "__esModule", ({ value: true }));
exports.cohortRoutes = cohortRoutes;
const fields_js_1 = __webpack_require__(8884);
const http_js_1 = __webpack_require__(7969);
const fields_js_2 = __webpack_require__(4703);
const json_js_1 = __webpack_require__(9140);
const prn_js_1 = __webpack_require__(6864);
/** Cohorts: a product's group of devices with one release channel. PATCH takes name and description. */
function cohortRoutes(d) {
    const get = async (value) => {
        const row = await d.store.getCohort((0, prn_js_1.pathId)(d.org, value, 'cohort'));
        if (!row)
            throw (0, http_js_1.notFound)();
        return row;
    };
    return [
        {
            method: 'POST',
            pattern: '/cohorts',
            auth: true,
            async handler({ body }) {
                const input = await body();
                const name = (0, fields_js_1.requiredString)(input, 'name', 128);
                const productId = (0, prn_js_1.requiredBodyId)(d.org, input, 'product_prn', 'product');
                const description = (0, fields_js_1.optionalString)(input, 'description', 256) ?? null;
                if (!(await d.store.getProduct(productId)))
                    throw (0, http_js_1.notFound)(`product_prn ${String(input.product_prn)}`);
                const row = await d.store.createCohort({ product_id: productId, name, description });
                return { status: 201, body: { cohort: (0, json_js_1.cohortJson)(d.org, row) } };
            },
        },
        {
            method: 'GET',
            pattern: '/cohorts',
            auth: true,
            async handler({ query }) {
                const page = await d.store.listCohorts(query);
                return {
                    status: 200,
                    body: { cohorts: page.items.map((r) => (0, json_js_1.cohortJson)(d.org, r)), next_page: page.next_page },
                };
            },
        },
        {
            method: 'GET',
            pattern: '/cohorts/:prn',
            auth: true,
            async handler({ params }) {
                return { status: 200, body: { cohort: (0, json_js_1.cohortJson)(d.org, await get(params.prn)) } };
            },
        },
        {
            method: 'PATCH',
            pattern: '/cohorts/:prn',
            auth: true,
            async handler({ params, body }) {
                const existing = await get(params.prn);
                const input = await body();
                const name = (0, fields_js_1.optionalString)(input, 'name', 128);
                const description = (0, fields_js_2.nullableString)(input, 'description', 256);
                const patch = {
                    ...(name !== undefined ? { name } : {}),
                    ...(description !== undefined ? { description } : {}),
                };
                const row = await d.store.updateCohort(existing.id, patch);
                return { status: 200, body: { cohort: (0, json_js_1.cohortJson)(d.org, row) } };
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

/***/ 992:
/***/ ((__unused_webpack_module, exports, __webpack_require__) => {


Object.defineProperty(exports, "__esModule", ({ value: true }));
exports.deviceUpdateRoutes = deviceUpdateRoutes;
const update_check_js_1 = __webpack_require__(3618);
/** The Admin API's update check for one device (releases/update-check.ts does the work). */
function deviceUpdateRoutes(d) {
    return [
        {
            method: 'POST',
            pattern: '/devices/:prn/update',
            auth: true,
            async handler({ params, body, baseUrl }) {
                return { status: 200, body: await (0, update_check_js_1.updateCheck)(d, params.prn, await body(), baseUrl) };
            },
        },
    ];
}


/***/ }),

/***/ 6731:
/***/ ((__unused_webpack_module, exports, __webpack_require__) => {


Object.defineProperty(exports, "__esModule", ({ value: true }));
exports.deviceRoutes = deviceRoutes;
const fields_js_1 = __webpack_require__(8884);
const http_js_1 = __webpack_require__(7969);
const fields_js_2 = __webpack_require__(4703);
const json_js_1 = __webpack_require__(9140);
const prn_js_1 = __webpack_require__(6864);
const release_store_js_1 = __webpack_require__(2938);
/** Devices: the identity, cohort, tags and quarantine flag resolution reads, plus the reported triple. */
function deviceRoutes(d) {
    const get = async (value) => {
        const row = await d.store.getDevice((0, prn_js_1.pathId)(d.org, value, 'device'));
        if (!row)
            throw (0, http_js_1.notFound)();
        return row;
    };
    /** The cohort must exist and belong to the device's product. */
    const checkCohort = async (input, cohortId, productId) => {
        const cohort = await d.store.getCohort(cohortId);
        if (!cohort)
            throw (0, http_js_1.notFound)(`cohort_prn ${String(input.cohort_prn)}`);
        if (cohort.product_id !== productId)
            throw (0, http_js_1.fieldError)('cohort_prn', "must be a cohort of the device's product (product_prn)");
    };
    return [
        {
            method: 'POST',
            pattern: '/devices',
            auth: true,
            async handler({ body }) {
                const input = await body();
                const identifier = (0, fields_js_1.requiredString)(input, 'identifier', 256);
                const productId = (0, prn_js_1.requiredBodyId)(d.org, input, 'product_prn', 'product');
                const cohortId = (0, prn_js_1.bodyId)(d.org, input, 'cohort_prn', 'cohort') ?? null;
                const description = (0, fields_js_1.optionalString)(input, 'description', 256, { allowControl: true }) ?? null;
                const quarantined = (0, fields_js_2.optionalBoolean)(input, 'quarantined') ?? false;
                const tags = (0, fields_js_2.optionalTags)(input, 'tags') ?? null;
                const target = (0, fields_js_1.optionalString)(input, 'target', 128) ?? null;
                if (!(await d.store.getProduct(productId)))
                    throw (0, http_js_1.notFound)(`product_prn ${String(input.product_prn)}`);
                if (cohortId !== null)
                    await checkCohort(input, cohortId, productId);
                const row = await d.store
                    .createDevice({
                    product_id: productId,
                    cohort_id: cohortId,
                    identifier,
                    description,
                    quarantined,
                    tags,
                    target,
                })
                    .catch((err) => {
                    if (err instanceof release_store_js_1.TakenError)
                        throw (0, http_js_1.fieldError)('identifier', 'has already been taken: device identifiers are unique in the organization');
                    throw err;
                });
                return { status: 201, body: { device: (0, json_js_1.deviceJson)(d.org, row) } };
            },
        },
        {
            method: 'GET',
            pattern: '/devices',
            auth: true,
            async handler({ query }) {
                const page = await d.store.listDevices(query);
                return {
                    status: 200,
                    body: { devices: page.items.map((r) => (0, json_js_1.deviceJson)(d.org, r)), next_page: page.next_page },
                };
            },
        },
        {
            method: 'GET',
            pattern: '/devices/:prn',
            auth: true,
            async handler({ params }) {
                return { status: 200, body: { device: (0, json_js_1.deviceJson)(d.org, await get(params.prn)) } };
            },
        },
        {
            method: 'PATCH',
            pattern: '/devices/:prn',
            auth: true,
            async handler({ params, body }) {
                const existing = await get(params.prn);
                const input = await body();
                const patch = {};
                if ('cohort_prn' in input) {
                    const cohortId = (0, prn_js_1.bodyId)(d.org, input, 'cohort_prn', 'cohort') ?? null;
                    if (cohortId !== null)
                        await checkCohort(input, cohortId, existing.product_id);
                    patch.cohort_id = cohortId;
                }
                const description = (0, fields_js_2.nullableString)(input, 'description', 256);
                if (description !== undefined)
                    patch.description = description;
                const quarantined = (0, fields_js_2.optionalBoolean)(input, 'quarantined');
                if (quarantined !== undefined)
                    patch.quarantined = quarantined;
                if ('tags' in input)
                    patch.tags = (0, fields_js_2.optionalTags)(input, 'tags') ?? null;
                const target = (0, fields_js_2.nullableString)(input, 'target', 128);
                if (target !== undefined)
                    patch.target = target;
                const row = await d.store.updateDevice(existing.id, patch);
                return { status: 200, body: { device: (0, json_js_1.deviceJson)(d.org, row) } };
            },
        },
    ];
}


/***/ }),

/***/ 8402:
/***/ ((__unused_webpack_module, exports, __webpack_require__) => {


Object.defineProperty(exports, "__esModule", ({ value: true }));
exports.parseRange = parseRange;
exports.downloadRoutes = downloadRoutes;
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
/** Per download, two of these: one being sent while the next is read. */
const SEND_BUFFER = 256 * 1024;
/**
 * Bytes [start, end] of the content to the response through two buffers that alternate: one is read
 * while the other is being written, and a buffer is read into again only once the socket has taken all of
 * it. No buffer is allocated per chunk, so a hundred downloads at once cost 2 × 256 KiB each and leave no
 * garbage behind (a stream pipeline allocated a buffer per 64 KiB read).
 */
async function send(reader, start, end, res) {
    const length = end - start + 1;
    const size = Math.min(SEND_BUFFER, length);
    const buffers = [Buffer.allocUnsafeSlow(size), Buffer.allocUnsafeSlow(size)];
    // A socket closed under a pending write never calls that write's callback: 'close' ends the wait instead.
    let gone = () => undefined;
    const closed = new Promise((_, reject) => (gone = reject));
    closed.catch(() => undefined);
    const onClose = () => gone(Object.assign(new Error('the client went away'), { code: 'ECONNRESET' }));
    res.once('close', onClose);
    try {
        let written = Promise.resolve();
        for (let sent = 0, turn = 0; sent < length; turn ^= 1) {
            const buffer = buffers[turn];
            const n = await reader.read(buffer, start + sent, Math.min(size, length - sent));
            if (n === 0)
                throw new Error(`the content ended ${length - sent} bytes early`);
            await Promise.race([written, closed]);
            written = new Promise((resolve, reject) => res.write(n === size ? buffer : buffer.subarray(0, n), (err) => (err ? reject(err) : resolve())));
            // Awaited on the next turn; a client gone meanwhile must not make it an unhandled rejection.
            written.catch(() => undefined);
            sent += n;
        }
        await Promise.race([written, closed]);
        await Promise.race([new Promise((resolve) => res.end(resolve)), closed]);
    }
    finally {
        res.off('close', onClose);
    }
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
                const reader = await ctx.blobs.openBlob(blob);
                try {
                    // Never announce a length the content cannot deliver (content lost on disk, or a broken blob).
                    if (reader?.size !== size) {
                        ctx.logger.error(`binary ${binaryId}: its content ${blob} is ${reader ? `${reader.size} bytes, not ${size}` : 'missing'}`);
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
                    if (req.method === 'HEAD' || size === 0)
                        res.end();
                    else
                        await send(reader, start, end, res);
                }
                finally {
                    await reader?.close();
                }
                return undefined;
            },
        },
    ];
}


/***/ }),

/***/ 3619:
/***/ ((__unused_webpack_module, exports, __webpack_require__) => {


Object.defineProperty(exports, "__esModule", ({ value: true }));
exports.eventRoutes = eventRoutes;
const json_js_1 = __webpack_require__(9140);
/** The event log: what devices did on update checks (docs/release-management.md, "Events"). */
function eventRoutes(d) {
    return [
        {
            method: 'GET',
            pattern: '/events',
            auth: true,
            async handler({ query }) {
                const page = await d.store.listEvents(query);
                return {
                    status: 200,
                    body: { events: page.items.map((r) => (0, json_js_1.eventJson)(d.org, r)), next_page: page.next_page },
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
const base_1 = __webpack_require__(2444);
const node_crypto_1 = __webpack_require__(7598);
const content_js_1 = __webpack_require__(8556);
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
                const { row, current } = await (0, lifecycle_js_1.changeBinary)(ctx, binary.id, async (tx) => {
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
                    return { row, current };
                });
                return {
                    status: 201,
                    body: {
                        binary_part: {
                            ...(0, records_js_1.partJson)(ctx, row),
                            presigned_upload_url: await (0, content_js_1.partUploadUrl)(ctx, baseUrl, current, row),
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
                await (0, content_js_1.syncDirectParts)(ctx, binary);
                const parts = await ctx.store.parts.list(binary.id);
                // Never paginated: a resuming client needs every part at once, as Peridio's API lists them.
                return { status: 200, body: { binary_parts: parts.map((p) => (0, records_js_1.partJson)(ctx, p)), next_page: null } };
            },
        },
    ];
}


/***/ }),

/***/ 4638:
/***/ ((__unused_webpack_module, exports, __webpack_require__) => {


Object.defineProperty(exports, "__esModule", ({ value: true }));
exports.productRoutes = productRoutes;
const fields_js_1 = __webpack_require__(8884);
const http_js_1 = __webpack_require__(7969);
const fields_js_2 = __webpack_require__(4703);
const json_js_1 = __webpack_require__(9140);
const prn_js_1 = __webpack_require__(6864);
const release_store_js_1 = __webpack_require__(2938);
/** Products (no DELETE in Peridio: archive instead). Single objects come as `{"product": …}`, as the SDK reads. */
function productRoutes(d) {
    const get = async (value) => {
        const row = await d.store.getProduct((0, prn_js_1.pathId)(d.org, value, 'product'));
        if (!row)
            throw (0, http_js_1.notFound)();
        return row;
    };
    const taken = (err) => {
        if (err instanceof release_store_js_1.TakenError)
            throw (0, http_js_1.fieldError)('name', 'has already been taken: product names are unique in the organization');
        throw err;
    };
    return [
        {
            method: 'POST',
            pattern: '/products',
            auth: true,
            async handler({ body }) {
                const input = await body();
                const name = (0, fields_js_1.requiredString)(input, 'name', 256);
                const archived = (0, fields_js_2.optionalBoolean)(input, 'archived') ?? false;
                const row = await d.store.createProduct({ name, archived }).catch(taken);
                return { status: 201, body: { product: (0, json_js_1.productJson)(d.org, row) } };
            },
        },
        {
            method: 'GET',
            pattern: '/products',
            auth: true,
            async handler({ query }) {
                const page = await d.store.listProducts(query);
                return {
                    status: 200,
                    body: { products: page.items.map((r) => (0, json_js_1.productJson)(d.org, r)), next_page: page.next_page },
                };
            },
        },
        {
            method: 'GET',
            pattern: '/products/:prn',
            auth: true,
            async handler({ params }) {
                return { status: 200, body: { product: (0, json_js_1.productJson)(d.org, await get(params.prn)) } };
            },
        },
        {
            method: 'PATCH',
            pattern: '/products/:prn',
            auth: true,
            async handler({ params, body }) {
                const existing = await get(params.prn);
                const input = await body();
                const name = (0, fields_js_1.optionalString)(input, 'name', 256);
                const archived = (0, fields_js_2.optionalBoolean)(input, 'archived');
                const row = await d.store.updateProduct(existing.id, { name, archived }).catch(taken);
                return { status: 200, body: { product: (0, json_js_1.productJson)(d.org, row) } };
            },
        },
    ];
}


/***/ }),

/***/ 5404:
/***/ ((__unused_webpack_module, exports, __webpack_require__) => {


Object.defineProperty(exports, "__esModule", ({ value: true }));
exports.releaseRoutes = releaseRoutes;
const node_crypto_1 = __webpack_require__(7598);
const fields_js_1 = __webpack_require__(8884);
const http_js_1 = __webpack_require__(7969);
const fields_js_2 = __webpack_require__(4703);
const graph_js_1 = __webpack_require__(3316);
const json_js_1 = __webpack_require__(9140);
const phase_js_1 = __webpack_require__(51);
const prn_js_1 = __webpack_require__(6864);
const version_js_1 = __webpack_require__(5640);
const time_js_1 = __webpack_require__(7360);
function versionField(input) {
    if (!('version' in input))
        return undefined;
    if (input.version === null)
        return null;
    if (typeof input.version !== 'string')
        throw (0, http_js_1.fieldError)('version', 'is invalid: must be a string such as 1.2.3');
    try {
        (0, version_js_1.parseVersion)(input.version);
    }
    catch (err) {
        throw (0, http_js_1.fieldError)('version', `is invalid: ${err.message}`);
    }
    return input.version;
}
/** `version_requirement`, or the spec's request spelling `version-requirement`; both must agree. */
function requirementField(input) {
    const keys = ['version_requirement', 'version-requirement'].filter((k) => k in input);
    if (keys.length === 0)
        return undefined;
    const values = keys.map((k) => input[k]);
    if (keys.length === 2 && values[0] !== values[1])
        throw (0, http_js_1.fieldError)('version_requirement', 'and version-requirement disagree; send one of them');
    const value = values[0];
    if (value === null)
        return null;
    if (typeof value !== 'string')
        throw (0, http_js_1.fieldError)('version_requirement', "is invalid: must be a string such as '>= 1.0.0 and < 2.0.0'");
    try {
        (0, version_js_1.parseRequirement)(value);
    }
    catch (err) {
        if (err instanceof version_js_1.VersionSyntaxError)
            throw (0, http_js_1.fieldError)('version_requirement', `is invalid: ${err.message}`);
        throw err;
    }
    return value;
}
function phaseValueField(input) {
    if (input.phase_value === undefined || input.phase_value === null)
        return undefined;
    const problem = (0, phase_js_1.phaseValueProblem)(input.phase_value);
    if (problem)
        throw (0, http_js_1.fieldError)('phase_value', problem);
    return input.phase_value;
}
function phaseModeField(input) {
    if (input.phase_mode === undefined || input.phase_mode === null)
        return undefined;
    if (input.phase_mode !== 'numeric' && input.phase_mode !== 'tags')
        throw (0, http_js_1.fieldError)('phase_mode', "is invalid: must be 'numeric' or 'tags'");
    return input.phase_mode;
}
function checkTags(r) {
    if (r.phase_mode === 'tags' && (!r.phase_tags || r.phase_tags.length === 0))
        throw (0, http_js_1.fieldError)('phase_tags', "can't be blank when phase_mode is 'tags': give the tags a device needs (any one of them)");
}
const graphRefusal = (err) => {
    if (err instanceof graph_js_1.GraphError)
        throw (0, http_js_1.fieldError)(err.field, err.message);
    throw err;
};
/** Releases: a cohort's release channel, kept valid by releases/graph.ts on every change. */
function releaseRoutes(d) {
    const get = async (value) => {
        const row = await d.store.getRelease((0, prn_js_1.pathId)(d.org, value, 'release'));
        if (!row)
            throw (0, http_js_1.notFound)();
        return row;
    };
    return [
        {
            method: 'POST',
            pattern: '/releases',
            auth: true,
            async handler({ body }) {
                const input = await body();
                const bundleId = (0, prn_js_1.requiredBodyId)(d.org, input, 'bundle_prn', 'bundle');
                const cohortId = (0, prn_js_1.requiredBodyId)(d.org, input, 'cohort_prn', 'cohort');
                const name = (0, fields_js_1.requiredString)(input, 'name', 256);
                const required = (0, fields_js_2.requiredBoolean)(input, 'required');
                const scheduleDate = (0, fields_js_2.requiredDateTime)(input, 'schedule_date');
                const phaseMode = phaseModeField(input) ?? 'numeric';
                const phaseValue = phaseValueField(input) ?? 1;
                const phaseTags = (0, fields_js_2.optionalTags)(input, 'phase_tags') ?? null;
                const next = (0, prn_js_1.bodyId)(d.org, input, 'next_release_prn', 'release');
                const previous = (0, prn_js_1.bodyId)(d.org, input, 'previous_release_prn', 'release');
                const now = (0, time_js_1.nowTimestamp)();
                const record = {
                    id: (0, node_crypto_1.randomUUID)(),
                    cohort_id: cohortId,
                    bundle_id: bundleId,
                    name,
                    description: (0, fields_js_2.nullableString)(input, 'description', 4096) ?? null,
                    required,
                    disabled: (0, fields_js_2.optionalBoolean)(input, 'disabled') ?? false,
                    schedule_date: scheduleDate,
                    phase_mode: phaseMode,
                    phase_value: phaseValue,
                    phase_tags: phaseTags,
                    version: versionField(input) ?? null,
                    version_requirement: requirementField(input) ?? null,
                    next_release_id: null,
                    inserted_at: now,
                    updated_at: now,
                };
                checkTags(record);
                if (!(await d.store.getBundle(bundleId)))
                    throw (0, http_js_1.notFound)(`bundle_prn ${String(input.bundle_prn)}`);
                if (!(await d.store.getCohort(cohortId)))
                    throw (0, http_js_1.notFound)(`cohort_prn ${String(input.cohort_prn)}`);
                const created = await d.store
                    .withCohortReleases(cohortId, (releases) => {
                    const links = (0, graph_js_1.placeNew)(releases, record, { next, previous }, d.now());
                    const own = links.find((l) => l.id === record.id);
                    const create = { ...record, next_release_id: own.next_release_id };
                    return { create, links, result: create };
                })
                    .catch(graphRefusal);
                return { status: 201, body: { release: (0, json_js_1.releaseJson)(d.org, created, d.now()) } };
            },
        },
        {
            method: 'GET',
            pattern: '/releases',
            auth: true,
            async handler({ query }) {
                const page = await d.store.listReleases(query);
                const now = d.now();
                return {
                    status: 200,
                    body: { releases: page.items.map((r) => (0, json_js_1.releaseJson)(d.org, r, now)), next_page: page.next_page },
                };
            },
        },
        {
            method: 'GET',
            pattern: '/releases/:prn',
            auth: true,
            async handler({ params }) {
                return { status: 200, body: { release: (0, json_js_1.releaseJson)(d.org, await get(params.prn), d.now()) } };
            },
        },
        {
            method: 'PATCH',
            pattern: '/releases/:prn',
            auth: true,
            async handler({ params, body }) {
                const existing = await get(params.prn);
                const input = await body();
                for (const key of ['bundle_prn', 'cohort_prn', 'previous_release_prn']) {
                    if (input[key] !== undefined && input[key] !== null) {
                        throw (0, http_js_1.fieldError)(key, 'cannot change on an existing release; create a new release instead');
                    }
                }
                const patch = {};
                if (input.name !== undefined && input.name !== null)
                    patch.name = (0, fields_js_1.requiredString)(input, 'name', 256);
                const description = (0, fields_js_2.nullableString)(input, 'description', 4096);
                if (description !== undefined)
                    patch.description = description;
                const disabled = (0, fields_js_2.optionalBoolean)(input, 'disabled');
                if (disabled !== undefined)
                    patch.disabled = disabled;
                const required = (0, fields_js_2.optionalBoolean)(input, 'required');
                if (required !== undefined)
                    patch.required = required;
                const scheduleDate = (0, fields_js_2.optionalDateTime)(input, 'schedule_date');
                if (scheduleDate !== undefined)
                    patch.schedule_date = scheduleDate;
                const phaseMode = phaseModeField(input);
                if (phaseMode !== undefined)
                    patch.phase_mode = phaseMode;
                const phaseValue = phaseValueField(input);
                if (phaseValue !== undefined)
                    patch.phase_value = phaseValue;
                if ('phase_tags' in input)
                    patch.phase_tags = (0, fields_js_2.optionalTags)(input, 'phase_tags') ?? null;
                const version = versionField(input);
                if (version !== undefined)
                    patch.version = version;
                const requirement = requirementField(input);
                if (requirement !== undefined)
                    patch.version_requirement = requirement;
                if ('next_release_prn' in input)
                    patch.next_release_id = (0, prn_js_1.bodyId)(d.org, input, 'next_release_prn', 'release') ?? null;
                const updated = await d.store
                    .withCohortReleases(existing.cohort_id, (releases) => {
                    const current = releases.find((r) => r.id === existing.id);
                    if (!current)
                        throw (0, http_js_1.notFound)();
                    const graphPatch = {};
                    for (const k of ['next_release_id', 'phase_mode', 'phase_value', 'schedule_date']) {
                        if (patch[k] !== undefined && patch[k] !== current[k])
                            graphPatch[k] = patch[k];
                    }
                    (0, graph_js_1.checkUpdate)(releases, current.id, graphPatch, d.now());
                    const update = { ...current, ...patch, updated_at: (0, time_js_1.nowTimestamp)() };
                    checkTags(update);
                    return { update, links: [], result: update };
                })
                    .catch(graphRefusal);
                return { status: 200, body: { release: (0, json_js_1.releaseJson)(d.org, updated, d.now()) } };
            },
        },
        {
            method: 'DELETE',
            pattern: '/releases/:prn',
            auth: true,
            async handler({ params }) {
                const existing = await get(params.prn);
                await d.store
                    .withCohortReleases(existing.cohort_id, (releases) => ({
                    delete: existing.id,
                    links: (0, graph_js_1.planDelete)(releases, existing.id, d.now()),
                    result: undefined,
                }))
                    .catch(graphRefusal);
                return { status: 204 };
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
        // Nothing else reads the body: its chunks can be freed as soon as they are on disk.
        return await ctx.blobs.stagePart(req, part.size, { releaseChunks: true });
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
exports.prnField = exports.stringField = exports.integerField = exports.dateField = void 0;
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
const MAX_CLAUSES = 5;
function compileSearch(query, fields) {
    if (query === null || query.trim() === '')
        return [];
    const clauses = splitClauses(query);
    if (clauses.length > MAX_CLAUSES)
        throw unsupported(`at most ${MAX_CLAUSES} clauses joined by "and"`);
    return clauses.map((text) => compileClause(parseClause(text), fields));
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
const PRESIGN_SECRET_HEX_CHARS = 64;
/**
 * The HMAC key of presigned URLs; kept across restarts so URLs handed out stay valid until they expire.
 * Anything but 64 hex characters is refused: Buffer.from(text, 'hex') would quietly yield a short or empty
 * key, and URLs signed with an empty key can be forged by anyone.
 */
function loadPresignSecret(dataDir) {
    const text = fileSecret(dataDir, 'presign-secret', () => (0, node_crypto_1.randomBytes)(PRESIGN_SECRET_HEX_CHARS / 2).toString('hex')).value;
    if (!new RegExp(`^[0-9a-fA-F]{${PRESIGN_SECRET_HEX_CHARS}}$`).test(text)) {
        throw new Error(`${(0, node_path_1.join)(dataDir, 'presign-secret')} does not hold a presign secret: expected exactly ` +
            `${PRESIGN_SECRET_HEX_CHARS} hex characters, found ${text.length} characters` +
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

/***/ 2661:
/***/ ((__unused_webpack_module, exports, __webpack_require__) => {


Object.defineProperty(exports, "__esModule", ({ value: true }));
exports.serve = serve;
/** `peridio-registry serve`: open the backends, start listening, and drain on SIGTERM/SIGINT. */
const node_fs_1 = __webpack_require__(3024);
const node_path_1 = __webpack_require__(6760);
const base_1 = __webpack_require__(2444);
const backends_js_1 = __webpack_require__(9352);
const cli_js_1 = __webpack_require__(1467);
const secrets_js_1 = __webpack_require__(2196);
const server_js_1 = __webpack_require__(8002);
async function serve(values, env, logger) {
    const port = (0, cli_js_1.integer)(values.port, 'port', 0, 65535);
    const presignTtlSeconds = (0, cli_js_1.integer)(values['presign-ttl'], 'presign-ttl', 1, 7 * 24 * 3600);
    const publicUrl = values['public-url'];
    if (publicUrl !== undefined && !/^https?:\/\/[^/]+/.test(publicUrl))
        (0, cli_js_1.fail)('--public-url must be an http(s) URL');
    const idleTimeoutMs = (0, cli_js_1.integer)(values['idle-timeout'], 'idle-timeout', 1, 24 * 3600) * 1000;
    const bodyTimeoutMs = (0, cli_js_1.integer)(values['body-timeout'], 'body-timeout', 1, 24 * 3600) * 1000;
    const maxConnections = (0, cli_js_1.integer)(values['max-connections'], 'max-connections', 1, 1_000_000);
    const abandonedAge = (0, cli_js_1.integer)(values['s3-abandoned-upload-age'], 's3-abandoned-upload-age', 1, 365 * 24 * 3600);
    const dataDir = (0, node_path_1.resolve)(values['data-dir']);
    const hashingDelayMs = Number(env.PERIDIO_REGISTRY_HASHING_DELAY_MS ?? 0) || 0;
    const leaseMs = Number(env.PERIDIO_REGISTRY_LEASE_MS ?? 0) || 30_000;
    const choice = {
        databaseUrl: values['database-url'] ?? (env.PERIDIO_REGISTRY_DATABASE_URL || undefined),
        blobStore: values['blob-store'] ?? (env.PERIDIO_REGISTRY_BLOB_STORE || undefined),
        s3ForcePathStyle: values['s3-force-path-style'] ?? env.PERIDIO_REGISTRY_S3_FORCE_PATH_STYLE === '1',
    };
    const problem = (0, backends_js_1.checkChoice)(choice);
    if (problem)
        (0, cli_js_1.fail)(problem);
    const signingCas = values['signing-ca'].flatMap((file) => {
        let certs;
        try {
            certs = (0, base_1.parseCertificates)((0, node_fs_1.readFileSync)(file, 'utf8'));
        }
        catch (err) {
            (0, cli_js_1.fail)(`--signing-ca ${file}: ${err.message}`);
        }
        if (certs.length === 0)
            (0, cli_js_1.fail)(`--signing-ca ${file} holds no PEM certificate`);
        return certs;
    });
    // The database, content and secrets are created owner-only; SQLite and the content store obey the umask.
    process.umask(0o077);
    (0, node_fs_1.mkdirSync)(dataDir, { recursive: true, mode: 0o700 });
    let backends;
    try {
        backends = await (0, backends_js_1.openBackends)(choice, dataDir, env, (err) => logger.warning(`database connection dropped: ${err.message}`));
    }
    catch (err) {
        (0, cli_js_1.runtimeFail)(`cannot start: ${err.message}`);
    }
    // One instance: secrets in the data dir as always. Several: in the database they share.
    let apiKey;
    let keyNote;
    let presignSecret;
    // A key generated by a start that then cannot listen is forgotten again, so the start that does listen
    // generates (and prints) one: otherwise the only print would be lost with the failed start.
    let forgetKey = () => { };
    if (backends.shared) {
        const secrets = await (0, backends_js_1.sharedSecrets)(backends.store, env);
        apiKey = secrets.apiKey;
        presignSecret = secrets.presignSecret;
        if (secrets.generated)
            keyNote = `peridio-registry api key: ${apiKey} (stored in the database)`;
    }
    else {
        const envKey = env.PERIDIO_REGISTRY_API_KEY?.trim();
        const keyFileExisted = (0, node_fs_1.existsSync)((0, node_path_1.join)(dataDir, 'api-key'));
        const stored = envKey ? undefined : (0, secrets_js_1.loadApiKey)(dataDir);
        apiKey = envKey || stored.apiKey;
        if (stored?.generated) {
            keyNote = `peridio-registry api key: ${apiKey} (stored in ${stored.path})`;
            if (!keyFileExisted)
                forgetKey = () => (0, node_fs_1.rmSync)(stored.path, { force: true });
        }
    }
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
            store: backends.store,
            blobs: backends.blobs,
            shared: backends.shared,
            leaseMs,
            presignSecret,
            abandonedUploadAgeMs: abandonedAge * 1000,
            allowInsecureWebhooks: values['allow-insecure-webhooks'],
            webhookDispatch: webhookDispatchFromEnv(env),
        });
    }
    catch (err) {
        forgetKey();
        (0, cli_js_1.runtimeFail)(`cannot start: ${err.message}`);
    }
    let address;
    try {
        address = await registry.listen(port, values.host);
    }
    catch (err) {
        await registry.close();
        forgetKey();
        (0, cli_js_1.runtimeFail)(`cannot listen on ${values.host}:${port}: ${err.message}`);
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
    if (keyNote)
        process.stdout.write(`${keyNote}\n`);
    process.stdout.write(`peridio-registry records: ${backends.records}\n`);
    process.stdout.write(`peridio-registry content: ${backends.content}\n`);
    if (backends.shared && !backends.blobs.direct)
        logger.warning("content is in this instance's data dir: run one instance only, or give --blob-store s3://…");
    process.stdout.write(`peridio-registry listening on ${address.url}\n`);
    logger.info(`data dir ${dataDir}; organization prn:1:${registry.context.org}`);
}
/** Test hook: PERIDIO_REGISTRY_WEBHOOK_BACKOFF_MS="<base-ms>,<max-ms>" shortens the delivery back-off. */
function webhookDispatchFromEnv(env) {
    const raw = env.PERIDIO_REGISTRY_WEBHOOK_BACKOFF_MS;
    if (!raw)
        return undefined;
    const [base, max] = raw.split(',').map(Number);
    if (!base || !max)
        (0, cli_js_1.fail)('PERIDIO_REGISTRY_WEBHOOK_BACKOFF_MS must be "<base-ms>,<max-ms>"');
    return { baseDelayMs: base, maxDelayMs: max, pollMs: Math.min(1000, base) };
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
const base_1 = __webpack_require__(2444);
const layer_js_1 = __webpack_require__(1209);
const event_writer_js_1 = __webpack_require__(4993);
const blob_store_js_1 = __webpack_require__(927);
const local_blob_store_js_1 = __webpack_require__(913);
const hasher_js_1 = __webpack_require__(5518);
const http_js_1 = __webpack_require__(7969);
const janitor_js_1 = __webpack_require__(4664);
const lifecycle_js_1 = __webpack_require__(3837);
const lock_js_1 = __webpack_require__(6750);
const presign_js_1 = __webpack_require__(2665);
const index_js_1 = __webpack_require__(6492);
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
const store_js_1 = __webpack_require__(5554);
const DEFAULT_IDLE_TIMEOUT_MS = 60_000;
const DEFAULT_BODY_TIMEOUT_MS = 30_000;
const DEFAULT_MAX_CONNECTIONS = 256;
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
/**
 * Aborts multipart uploads nobody finished within the age (a client gave up, a binary deleted while a
 * crash kept its garbage), under a lease so one instance sweeps at a time.
 */
function startUploadSweeper(ctx, direct, ageMs) {
    const sweep = async () => {
        const lease = 'sweep:abandoned-uploads';
        if (!(await ctx.store.leases.claim(lease, ctx.instanceId, 10 * 60_000)))
            return;
        try {
            const aborted = await direct.sweepAbandoned(ageMs);
            if (aborted > 0)
                ctx.logger.info(`aborted ${aborted} abandoned multipart upload(s) older than ${ageMs} ms`);
        }
        finally {
            await ctx.store.leases.release(lease, ctx.instanceId);
        }
    };
    const run = () => void sweep().catch((err) => ctx.logger.warning(`upload sweep failed: ${err.message}`));
    run();
    const timer = setInterval(run, Math.min(Math.max(ageMs / 4, 1000), 10 * 60_000));
    timer.unref();
    return timer;
}
async function createRegistry(options) {
    const logger = options.logger ?? base_1.silentLogger;
    // Records, content and secrets are the operator's alone: the data dir is 0700 whatever the umask.
    (0, node_fs_1.mkdirSync)(options.dataDir, { recursive: true, mode: 0o700 });
    (0, node_fs_1.chmodSync)(options.dataDir, 0o700);
    // Checked before anything is opened, so a refused secret leaves no database handle behind.
    const presigner = new presign_js_1.Presigner(options.presignSecret ?? (0, secrets_js_1.loadPresignSecret)(options.dataDir), options.presignTtlSeconds ?? 3600);
    const store = options.store ?? new sqlite_store_js_1.SqliteStore((0, node_path_1.join)(options.dataDir, 'registry.db'));
    const blobs = options.blobs ?? (await local_blob_store_js_1.LocalBlobStore.open(options.dataDir));
    const locks = new lock_js_1.KeyedLock();
    const instanceId = (0, node_crypto_1.randomUUID)();
    const leaseMs = options.leaseMs ?? 30_000;
    const publicUrl = options.publicUrl?.replace(/\/+$/, '');
    let hasher;
    const context = {
        store,
        blobs,
        locks,
        janitor: new janitor_js_1.Janitor(store, blobs, locks, logger, options.shared ? instanceId : undefined),
        instanceId,
        presigner,
        logger,
        org: await (0, secrets_js_1.loadOrganization)(store),
        publicUrl,
        signingCas: options.signingCas ?? [],
        enqueueHashing: (id) => hasher.enqueue(id),
        partValid: (id) => hasher.prefixes.partValid(id),
    };
    hasher = new hasher_js_1.Hasher(context, {
        delayMs: options.hashingDelayMs ?? 0,
        leaseMs,
        shared: options.shared ?? false,
    });
    // What a crash left: content deletions not yet done, parts no upload owns.
    await context.janitor.sweep();
    if (!blobs.direct)
        await sweepOrphanParts(context);
    const sweeper = blobs.direct
        ? startUploadSweeper(context, blobs.direct, options.abandonedUploadAgeMs ?? 24 * 3600_000)
        : undefined;
    // One group commit for every event a request records (the audit trail's, the update check's).
    const events = new event_writer_js_1.EventWriter(store.accessStore(context.org), () => access.dispatcher.wake());
    const releases = (0, index_js_1.defaultReleaseDeps)(context, logger, events);
    context.binaryDestroyed = (id) => (0, index_js_1.warnBinaryDestroyed)(releases, id);
    const access = new layer_js_1.AccessLayer(context, releases.store, events, {
        bootstrapKey: options.apiKey,
        allowInsecureWebhooks: options.allowInsecureWebhooks,
        webhookDispatch: options.webhookDispatch,
        sharedLeaseMs: options.shared ? leaseMs : undefined,
    });
    const routes = access.seal([
        ...access.routes,
        ...(0, artifacts_js_1.artifactRoutes)(context),
        ...(0, artifact_versions_js_1.artifactVersionRoutes)(context),
        ...(0, binaries_js_1.binaryRoutes)(context),
        ...(0, parts_js_1.partRoutes)(context),
        ...(0, signatures_js_1.signatureRoutes)(context),
        ...(0, signing_keys_js_1.signingKeyRoutes)(context),
        // The registry's own content URLs; a direct store hands out its own and never sends bytes here.
        ...(blobs.direct ? [] : [...(0, uploads_js_1.uploadRoutes)(context), ...(0, download_js_1.downloadRoutes)(context)]),
        ...(0, index_js_1.releaseManagementRoutes)(releases),
        ...(0, console_js_1.consoleRoutes)(),
        {
            method: 'GET',
            pattern: '/health',
            auth: false,
            handler: () => ({ status: 200, body: { status: 'ok' } }),
        },
    ]);
    const router = new router_js_1.Router(routes);
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
            const actor = route.auth ? await access.authenticate(req) : undefined;
            if (route.auth)
                checkApiVersion(req);
            const baseUrl = publicUrl ?? baseUrlFromHost(req, `${listening.host}:${listening.port}`);
            const request = (0, router_js_1.makeRequest)(req, res, params, new URLSearchParams(search), baseUrl);
            const result = await access.run(route, request, actor);
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
            if (err instanceof store_js_1.StoreFeatureMissing && !res.headersSent) {
                (0, http_js_1.sendJson)(res, 501, { errors: { detail: `Not Implemented: ${err.message}` } });
                return;
            }
            if ((err instanceof store_js_1.StoreUnavailable || err instanceof blob_store_js_1.ContentUnavailable) && !res.headersSent) {
                // Nothing was recorded: the client may retry, and should once the backend is back.
                logger.warning(`request id=${requestId} ${method} ${loggablePath(req.url ?? '/')}: 503: ${err.message}`);
                const what = err instanceof store_js_1.StoreUnavailable ? 'database' : 'content store';
                (0, http_js_1.sendJson)(res, 503, {
                    errors: {
                        detail: `Service Unavailable: the registry's ${what} cannot be reached; retry shortly`,
                    },
                }, { 'retry-after': '1', ...(bodyUnread(req) ? { connection: 'close' } : {}) });
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
    const bodyTimeoutMs = options.bodyTimeoutMs ?? DEFAULT_BODY_TIMEOUT_MS;
    const server = (0, node_http_1.createServer)({ requestTimeout: 3_600_000, headersTimeout: 60_000 }, (req, res) => {
        void handle(req, res);
    });
    // No 'timeout' listener: Node destroys a socket that has been silent this long (mid-body or idle).
    server.setTimeout(options.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS);
    server.maxConnections = options.maxConnections ?? DEFAULT_MAX_CONNECTIONS;
    await hasher.requeueInterrupted();
    let closing;
    return {
        server,
        context,
        hasher,
        routes,
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
                clearInterval(sweeper);
                await hasher.close();
                await access.close();
                await store.close();
            })();
            return closing;
        },
    };
}


/***/ }),

/***/ 7465:
/***/ ((__unused_webpack_module, exports) => {


Object.defineProperty(exports, "__esModule", ({ value: true }));
exports.RecordCopier = exports.AFTER_CONTENT = exports.BEFORE_CONTENT = void 0;
exports.insertRecord = insertRecord;
exports.advanceSequences = advanceSequences;
/** Anything a column can hold as PostgreSQL gets it. Text stays text: JSON columns are TEXT on both sides. */
function plain(value, where) {
    if (value === null || typeof value === 'string' || typeof value === 'number')
        return value;
    if (typeof value === 'bigint')
        return Number.isSafeInteger(Number(value)) ? Number(value) : value.toString();
    throw new Error(`${where} holds binary data, which no registry column keeps`);
}
/** SQLite's INTEGER 0/1 flag → BOOLEAN. */
const bool = (value, where) => {
    if (value === null)
        return null;
    if (value === 0 || value === 1 || value === 0n || value === 1n)
        return Number(value) === 1;
    const shown = typeof value === 'object' ? 'binary data' : JSON.stringify(String(value));
    throw new Error(`${where} is ${shown}, not a 0/1 flag`);
};
/** Copied before the binaries: what they refer to. `organization` is written by migrate, last. */
exports.BEFORE_CONTENT = [
    { table: 'meta', label: 'settings', key: ['key'], skip: (row) => row.key === 'organization' },
    { table: 'artifacts', label: 'artifacts', key: ['id'] },
    { table: 'artifact_versions', label: 'artifact versions', key: ['id'] },
    { table: 'signing_keys', label: 'signing keys', key: ['id'] },
];
/**
 * Copied after the binaries, parents before children. `releases.next_release_id` has no foreign key in
 * either schema (the release graph keeps the chain), so releases linked in any order go in as they are;
 * a later schema that adds one must make it DEFERRABLE or split the link into an UPDATE here.
 */
exports.AFTER_CONTENT = [
    { table: 'binary_signatures', label: 'binary signatures', key: ['id'] },
    { table: 'products', label: 'products', key: ['id'], convert: { archived: bool } },
    { table: 'cohorts', label: 'cohorts', key: ['id'] },
    { table: 'devices', label: 'devices', key: ['id'], convert: { quarantined: bool } },
    { table: 'bundles', label: 'bundles', key: ['id'] },
    { table: 'bundle_binaries', label: 'bundle binaries', key: ['bundle_id', 'idx'] },
    { table: 'bundle_signatures', label: 'bundle signatures', key: ['id'] },
    {
        table: 'releases',
        label: 'releases',
        key: ['id'],
        convert: { required: bool, disabled: bool },
    },
    { table: 'release_claims', label: 'phase claims', key: ['release_id', 'device_id'] },
    { table: 'bundle_overrides', label: 'bundle overrides', key: ['id'] },
    { table: 'bundle_override_devices', label: 'override devices', key: ['override_id', 'device_id'] },
    { table: 'events', label: 'events', key: ['id'] },
    // ---- access control: extension point ----------------------------------------------------------------
    // PostgreSQL keeps these once its schema has them (another change adds them); until then they are
    // reported as left behind. Same columns on both sides: nothing to convert. The fan-out cursor and the
    // delivery queue are not records to copy (NOT_COPIED): when adding the PostgreSQL fan-out, check that
    // a missing cursor row starts at the newest event, so the migrated events are not delivered again.
    { table: 'api_keys', label: 'API keys', key: ['id'], later: true },
    { table: 'webhooks', label: 'webhooks', key: ['id'], later: true },
];
/** Every other table of the SQLite schema, and why it is not copied. */
const NOT_COPIED = {
    binaries: 'copied by migrate with their content',
    binary_parts: 'copied by migrate with their binary',
    content_garbage: 'local files to delete; the S3 content has its own',
    leases: 'held by running instances only',
    multipart_uploads: "the S3 uploads of a registry's own bucket; migrate starts its own",
    webhook_deliveries: 'pending deliveries are not carried over',
    webhook_cursor: 'the fan-out position of this database',
    sqlite_sequence: "SQLite's own",
};
const ident = (name) => {
    if (!/^[a-z_][a-z0-9_]*$/.test(name))
        throw new Error(`unexpected name ${JSON.stringify(name)}`);
    return `"${name}"`;
};
/** Parameters per statement stay well under PostgreSQL's 65535. */
const MAX_PARAMS = 30_000;
const MAX_ROWS = 500;
class RecordCopier {
    source;
    target;
    sourceTables;
    targetColumns;
    problems = [];
    notes = [];
    counts = [];
    constructor(source, target, sourceTables, targetColumns) {
        this.source = source;
        this.target = target;
        this.sourceTables = sourceTables;
        this.targetColumns = targetColumns;
    }
    static async open(source, target) {
        const tables = new Map((await source.describeTables()).map((t) => [t.name, t]));
        const columns = new Map();
        for (const { table_name, column_name } of await target.sql.all(`SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = current_schema()`)) {
            if (!columns.has(table_name))
                columns.set(table_name, new Set());
            columns.get(table_name).add(column_name);
        }
        return new RecordCopier(source, target, tables, columns);
    }
    /** Copies the tables in order; returns their counts (also kept in `counts`). */
    async copy(tables, log) {
        const counts = [];
        for (const entry of tables) {
            const stored = this.sourceTables.get(entry.table);
            if (!stored)
                continue; // a data dir of an older schema: nothing of it to copy
            const into = this.targetColumns.get(entry.table);
            if (!into) {
                if (stored.rows > 0)
                    this.problems.push(`${entry.table}: ${stored.rows} ${entry.label} not copied, the target database has no such table` +
                        (entry.later ? ' yet (a later peridio-registry keeps them: run migrate again with it)' : ''));
                continue;
            }
            const absent = stored.columns.filter((c) => !into.has(c));
            if (absent.length > 0) {
                this.problems.push(`${entry.table}: not copied, the target database has no column ${absent.join(', ')} (a newer data dir than this peridio-registry?)`);
                continue;
            }
            const count = await this.copyTable(entry, stored.columns);
            counts.push(count);
            log(`${entry.table}: ${count.rows} rows, ${count.inserted} written`);
        }
        this.counts.push(...counts);
        return counts;
    }
    async copyTable(entry, columns) {
        const count = { table: entry.table, label: entry.label, rows: 0, inserted: 0 };
        const limit = Math.max(1, Math.min(MAX_ROWS, Math.floor(MAX_PARAMS / columns.length)));
        for (let after = 0;;) {
            const page = await this.source.tablePage(entry.table, after, limit);
            if (page.length === 0)
                return count;
            const from = after;
            after = page.at(-1).rowid;
            const rows = page.map((p) => p.row).filter((row) => !entry.skip?.(row));
            if (rows.length === 0)
                continue;
            const values = rows.map((row) => columns.map((c) => (entry.convert?.[c] ?? plain)(row[c] ?? null, `${entry.table}.${c}`)));
            const keyAt = entry.key.map((k) => columns.indexOf(k));
            const { inserted, missing } = await this.target
                .sqlTransaction(async (sql) => {
                const inserted = await insertRows(sql, entry.table, columns, values);
                const keys = values.map((v) => keyAt.map((i) => v[i]));
                return { inserted, missing: await missingKeys(sql, entry.table, entry.key, keys) };
            })
                .catch((err) => {
                throw new Error(`copying ${entry.table} (rows after rowid ${from}): ${err.message}`, {
                    cause: err,
                });
            });
            count.rows += rows.length;
            count.inserted += inserted;
            for (const key of missing.slice(0, 5))
                this.problems.push(`${entry.table} ${entry.key.map((k, i) => `${k}=${String(key[i])}`).join(' ')}: not copied, another row of the target holds one of its unique values`);
            if (missing.length > 5)
                this.problems.push(`${entry.table}: ${missing.length - 5} more rows not copied`);
        }
    }
    /** Source tables migrate neither copies nor knows to leave: a later schema's, reported so none is lost. */
    checkAccounted() {
        const known = new Set([...exports.BEFORE_CONTENT, ...exports.AFTER_CONTENT].map((t) => t.table));
        for (const table of this.sourceTables.values()) {
            if (known.has(table.name))
                continue;
            const why = NOT_COPIED[table.name];
            if (why === undefined) {
                if (table.rows > 0)
                    this.problems.push(`${table.name}: ${table.rows} rows not copied, migrate does not know this table`);
            }
            else if (table.name === 'webhook_deliveries' && table.rows > 0) {
                this.notes.push(`${table.rows} pending webhook deliveries not carried over (they are not retried)`);
            }
        }
    }
}
exports.RecordCopier = RecordCopier;
/** `($1, $2), ($3, $4)…` for the rows, their values appended to `params`. */
function tuples(rows, params) {
    return rows.map((row) => `(${row.map((v) => `$${params.push(v)}`).join(', ')})`).join(', ');
}
async function insertRows(sql, table, columns, values) {
    const params = [];
    return sql.run(`INSERT INTO ${ident(table)} (${columns.map(ident).join(', ')}) VALUES ${tuples(values, params)} ON CONFLICT DO NOTHING`, params);
}
/** The keys of `keys` that the target does not hold. */
async function missingKeys(sql, table, key, keys) {
    const params = [];
    const cols = key.map(ident).join(', ');
    const found = await sql.all(`SELECT ${cols} FROM ${ident(table)} WHERE (${cols}) IN (${tuples(keys, params)})`, params);
    const text = (k) => JSON.stringify(k.map(String));
    const present = new Set(found.map((r) => text(key.map((c) => r[c]))));
    return keys.filter((k) => !present.has(text(k)));
}
/** One row (a binary's record, written by migrate's content path): false when its key was there already. */
async function insertRecord(target, table, row) {
    const columns = Object.keys(row);
    return (await insertRows(target.sql, table, columns, [columns.map((c) => row[c])])) === 1;
}
/**
 * Copied rows keep their `seq`, so every sequence of the target (every table with a serial, whether
 * migrate wrote it or not) is moved past its table's highest value: new rows must not collide. Never
 * moved back, so a re-run on a registry already in use changes nothing.
 */
async function advanceSequences(target) {
    const serials = await target.sql.all(`SELECT table_name, column_name, pg_get_serial_sequence(quote_ident(table_name), column_name) AS sequence
     FROM information_schema.columns
     WHERE table_schema = current_schema() AND column_default LIKE 'nextval(%'`);
    let moved = 0;
    for (const s of serials) {
        moved += await target.sql.run(`SELECT setval($1::regclass, m) FROM (SELECT max(${ident(s.column_name)}) AS m FROM ${ident(s.table_name)}) top
       WHERE m IS NOT NULL AND m > COALESCE(pg_sequence_last_value($1::regclass), 0)`, [s.sequence]);
    }
    return moved;
}


/***/ }),

/***/ 3587:
/***/ ((__unused_webpack_module, exports, __webpack_require__) => {


Object.defineProperty(exports, "__esModule", ({ value: true }));
exports.PgAccessStore = void 0;
const events_js_1 = __webpack_require__(108);
const list_js_1 = __webpack_require__(4245);
const apiKeyOf = (r) => ({
    seq: r.seq,
    id: r.id,
    name: r.name,
    role: r.role,
    hash: r.hash,
    expires_at: r.expires_at ?? null,
    revoked_at: r.revoked_at ?? null,
    inserted_at: r.inserted_at,
    updated_at: r.updated_at,
});
const withoutSeq = ({ seq: _seq, ...rest }) => rest;
const webhookOf = (r) => ({
    seq: r.seq,
    id: r.id,
    url: r.url,
    description: r.description ?? null,
    enabled_events: JSON.parse(r.enabled_events),
    state: r.state,
    secret: r.secret,
    previous_secret: r.previous_secret ?? null,
    previous_secret_expires_at: r.previous_secret_expires_at ?? null,
    inserted_at: r.inserted_at,
    updated_at: r.updated_at,
});
const deliveryOf = (r) => ({
    seq: r.seq,
    webhook_id: r.webhook_id,
    event_id: r.event_id,
    event: {
        ...(0, events_js_1.eventOf)({ ...r, id: r.event_id }),
        seq: r.event_seq,
    },
    attempts: r.attempts,
    next_attempt_at: r.next_attempt_at,
    first_queued_at: r.first_queued_at,
});
const WEBHOOK_COLUMNS = [
    'url',
    'description',
    'enabled_events',
    'state',
    'secret',
    'previous_secret',
    'previous_secret_expires_at',
    'updated_at',
];
/** Events of one INSERT statement at most (PostgreSQL takes up to 65535 parameters, 8 per event). */
const EVENTS_PER_STATEMENT = 1000;
/**
 * The fan-out's position. PostgreSQL hands out `seq` when a row is inserted but transactions commit in any
 * order, so an event with a lower `seq` can become visible after one with a higher: a cursor on `seq`
 * alone would skip it for good. The fan-out therefore reads only events whose inserting transaction
 * (`xid`, the column's default) is older than every transaction still running — that set can no longer
 * grow — in (xid, seq) order, and keeps its cursor as that pair.
 */
const FINISHED_HORIZON = 'SELECT pg_snapshot_xmin(pg_current_snapshot())::text AS xmin';
/**
 * AccessStore over PostgreSQL (tables of PG migration 5), for several registry instances on one database.
 * Each method is one statement or one transaction at READ COMMITTED; what concurrent instances must not
 * break is held by row locks: the fan-out cursor row is locked `FOR UPDATE`, so two instances fanning out
 * at once queue each event once, in one order. Who sends a webhook's head of line is decided by a lease
 * (the dispatcher's), not here.
 */
class PgAccessStore {
    db;
    org;
    constructor(db, org) {
        this.db = db;
        this.org = org;
    }
    async appendEvents(events) {
        if (events.length <= EVENTS_PER_STATEMENT) {
            await (0, events_js_1.insertEvents)(this.db.sql, this.org, events);
            return;
        }
        await this.db.sqlTransaction(async (tx) => {
            for (let i = 0; i < events.length; i += EVENTS_PER_STATEMENT)
                await (0, events_js_1.insertEvents)(tx, this.org, events.slice(i, i + EVENTS_PER_STATEMENT));
        });
    }
    async insertApiKey(row) {
        const r = await this.db.sql.get(`INSERT INTO api_keys (id, org, name, role, hash, expires_at, revoked_at, inserted_at, updated_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING *`, [
            row.id,
            this.org,
            row.name,
            row.role,
            row.hash,
            row.expires_at,
            row.revoked_at,
            row.inserted_at,
            row.updated_at,
        ]);
        return withoutSeq(apiKeyOf(r));
    }
    async getApiKey(id) {
        const r = await this.db.sql.get('SELECT * FROM api_keys WHERE id = $1 AND org = $2', [
            id,
            this.org,
        ]);
        return r && withoutSeq(apiKeyOf(r));
    }
    async pageApiKeys(query) {
        const page = await (0, list_js_1.listTable)(this.db.sql, 'api_keys', { ...query, org: this.org });
        return { rows: page.rows.map(apiKeyOf), more: page.more };
    }
    async revokeApiKey(id, at) {
        // One statement: of two revokes racing, the first time stays.
        const r = await this.db.sql.get(`UPDATE api_keys SET revoked_at = COALESCE(revoked_at, $1), updated_at = $1
       WHERE id = $2 AND org = $3 RETURNING *`, [at, id, this.org]);
        return r && withoutSeq(apiKeyOf(r));
    }
    async insertWebhook(row) {
        return this.db.sqlTransaction(async (tx) => {
            // While no webhook exists the fan-out sleeps; the first one starts from the newest event.
            // The cursor row is locked first, as the fan-out locks it: the two never interleave.
            await this.lockCursor(tx);
            if (!(await tx.get('SELECT 1 FROM webhooks WHERE org = $1 LIMIT 1', [this.org]))) {
                const newest = await this.newestCommitted(tx);
                await tx.run('UPDATE webhook_cursor SET last_xid = $1::xid8, last_seq = $2 WHERE org = $3', [
                    newest.xid,
                    newest.seq,
                    this.org,
                ]);
            }
            const r = await tx.get(`INSERT INTO webhooks (id, org, url, description, enabled_events, state, secret, previous_secret,
                               previous_secret_expires_at, inserted_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING *`, [
                row.id,
                this.org,
                row.url,
                row.description,
                JSON.stringify(row.enabled_events),
                row.state,
                row.secret,
                row.previous_secret,
                row.previous_secret_expires_at,
                row.inserted_at,
                row.updated_at,
            ]);
            return withoutSeq(webhookOf(r));
        });
    }
    async getWebhook(id) {
        const r = await this.db.sql.get('SELECT * FROM webhooks WHERE id = $1 AND org = $2', [
            id,
            this.org,
        ]);
        return r && withoutSeq(webhookOf(r));
    }
    async listWebhooks() {
        return (await this.allWebhooks(this.db.sql)).map(withoutSeq);
    }
    async allWebhooks(sql, lock = '') {
        const rows = await sql.all(`SELECT * FROM webhooks WHERE org = $1 ORDER BY seq ${lock}`, [
            this.org,
        ]);
        return rows.map(webhookOf);
    }
    async pageWebhooks(query) {
        const page = await (0, list_js_1.listTable)(this.db.sql, 'webhooks', { ...query, org: this.org });
        return { rows: page.rows.map(webhookOf), more: page.more };
    }
    async updateWebhook(id, patch) {
        const sets = [];
        const params = [];
        for (const column of WEBHOOK_COLUMNS) {
            const value = patch[column];
            if (value === undefined)
                continue;
            params.push(column === 'enabled_events' ? JSON.stringify(value) : value);
            sets.push(`${column} = $${params.length}`);
        }
        const r = await this.db.sql.get(`UPDATE webhooks SET ${sets.join(', ')} WHERE id = $${params.length + 1} AND org = $${params.length + 2}
       RETURNING *`, [...params, id, this.org]);
        return withoutSeq(webhookOf(r));
    }
    async deleteWebhook(id) {
        // Its queued deliveries go with it (ON DELETE CASCADE), in the same statement.
        return (await this.db.sql.run('DELETE FROM webhooks WHERE id = $1 AND org = $2', [id, this.org])) > 0;
    }
    async fanOut(limit, route) {
        return this.db.sqlTransaction(async (tx) => {
            // Another instance fanning out now waits here, then reads the cursor as that one left it.
            const cursor = await this.lockCursor(tx);
            // The horizon is read before the events, so the events' snapshot sees every transaction below it.
            const { xmin } = (await tx.get(FINISHED_HORIZON));
            const rows = await tx.all(`SELECT seq, id, type, subtype, resource_prn, actor_prn, data, inserted_at, xid::text AS xid
         FROM events
         WHERE org = $1 AND (xid, seq) > ($2::xid8, $3) AND xid < $4::xid8
         ORDER BY xid, seq LIMIT $5`, [this.org, cursor.xid, cursor.seq, xmin, limit]);
            if (rows.length === 0)
                return 0;
            const events = rows.map((r) => ({ ...(0, events_js_1.eventOf)(r), seq: r.seq }));
            // Read after the events, and share-locked: a webhook whose creation committed before an event did is
            // seen here, and one being deleted is waited for (and then not routed to) instead of failing the
            // deliveries' foreign key.
            const webhooks = (await this.allWebhooks(tx, 'FOR KEY SHARE')).map(withoutSeq);
            const deliveries = route(events, webhooks);
            for (let i = 0; i < deliveries.length; i += EVENTS_PER_STATEMENT) {
                const chunk = deliveries.slice(i, i + EVENTS_PER_STATEMENT);
                const params = [];
                const values = chunk.map((d) => {
                    params.push(this.org, d.webhook_id, d.event_id, d.next_attempt_at, d.first_queued_at);
                    const n = params.length;
                    return `($${n - 4}, $${n - 3}, $${n - 2}, 0, $${n - 1}, $${n})`;
                });
                // One statement per chunk, in event order: `seq` of the deliveries is their order per webhook.
                await tx.run(`INSERT INTO webhook_deliveries (org, webhook_id, event_id, attempts, next_attempt_at, first_queued_at)
           VALUES ${values.join(', ')}`, params);
            }
            const last = rows[rows.length - 1];
            await tx.run('UPDATE webhook_cursor SET last_xid = $1::xid8, last_seq = $2 WHERE org = $3', [
                last.xid,
                last.seq,
                this.org,
            ]);
            return events.length;
        });
    }
    /** The cursor row, created at the newest finished event the first time, locked for this transaction. */
    async lockCursor(tx) {
        const select = 'SELECT last_xid::text AS xid, last_seq AS seq FROM webhook_cursor WHERE org = $1 FOR UPDATE';
        const found = await tx.get(select, [this.org]);
        if (found)
            return found;
        // The first fan-out starts now: webhooks are told about what happens after they exist.
        const newest = await this.newestCommitted(tx);
        await tx.run(`INSERT INTO webhook_cursor (org, last_xid, last_seq) VALUES ($1, $2::xid8, $3)
       ON CONFLICT (org) DO NOTHING`, [this.org, newest.xid, newest.seq]);
        return (await tx.get(select, [this.org]));
    }
    /**
     * Where a fan-out starts: the newest event committed now. An event of a transaction still running is
     * concurrent with that start and may be passed over; every later one is fanned out.
     */
    async newestCommitted(tx) {
        const r = await tx.get('SELECT xid::text AS xid, seq FROM events WHERE org = $1 ORDER BY xid DESC, seq DESC LIMIT 1', [this.org]);
        return r ?? { xid: '0', seq: 0 };
    }
    async heads(webhookId) {
        const rows = await this.db.sql.all(`SELECT DISTINCT ON (d.webhook_id)
              d.seq, d.webhook_id, d.event_id, d.attempts, d.next_attempt_at, d.first_queued_at,
              e.seq AS event_seq, e.type, e.subtype, e.resource_prn, e.actor_prn, e.data, e.inserted_at
       FROM webhook_deliveries d JOIN events e ON e.id = d.event_id
       WHERE d.org = $1 AND ($2::text IS NULL OR d.webhook_id = $2)
       ORDER BY d.webhook_id, d.seq`, [this.org, webhookId ?? null]);
        return rows.map(deliveryOf);
    }
    async deliveryDone(seq) {
        await this.db.sql.run('DELETE FROM webhook_deliveries WHERE seq = $1 AND org = $2', [seq, this.org]);
    }
    async deliveryRetry(seq, attempts, nextAttemptAt) {
        await this.db.sql.run('UPDATE webhook_deliveries SET attempts = $1, next_attempt_at = $2 WHERE seq = $3 AND org = $4', [attempts, nextAttemptAt, seq, this.org]);
    }
    async pendingCount(webhookId) {
        const r = await this.db.sql.get(`SELECT COUNT(*)::int AS n FROM webhook_deliveries WHERE org = $1 AND ($2::text IS NULL OR webhook_id = $2)`, [this.org, webhookId ?? null]);
        return r?.n ?? 0;
    }
}
exports.PgAccessStore = PgAccessStore;


/***/ }),

/***/ 1373:
/***/ (function(__unused_webpack_module, exports, __webpack_require__) {


var __importDefault = (this && this.__importDefault) || function (mod) {
    return (mod && mod.__esModule) ? mod : { "default": mod };
};
Object.defineProperty(exports, "__esModule", ({ value: true }));
exports.TYPES = void 0;
exports.translate = translate;
exports.sqlOn = sqlOn;
const pg_1 = __importDefault(__webpack_require__(3273));
const store_js_1 = __webpack_require__(5554);
// Codes of a server going away or not there (admin shutdown, crash recovery, cannot connect now).
const UNAVAILABLE_CODES = new Set(['57P01', '57P02', '57P03', '08000', '08001', '08003', '08004', '08006']);
const NETWORK = /ECONNREFUSED|ECONNRESET|EPIPE|ETIMEDOUT|EHOSTUNREACH|ENOTFOUND|Connection terminated|connection timeout|Client has encountered a connection error|timeout exceeded when trying to connect/i;
function isUnavailable(err) {
    const e = err;
    return (e?.code !== undefined && UNAVAILABLE_CODES.has(e.code)) || NETWORK.test(e?.message ?? '');
}
/** PostgreSQL's error → the store's: a unique violation names the last column of the key, as SQLite's does. */
function translate(err) {
    const e = err;
    if (e?.code === '23505') {
        const columns = /Key \(([^)]*)\)/.exec(e.detail ?? '')?.[1]?.split(',') ?? [];
        return new store_js_1.UniqueViolation(columns.at(-1)?.trim() || 'unknown');
    }
    if (isUnavailable(err))
        return new store_js_1.StoreUnavailable(err);
    return err;
}
function sqlOn(client) {
    const query = async (text, params = []) => {
        try {
            return await client.query(text, params);
        }
        catch (err) {
            throw translate(err);
        }
    };
    return {
        all: async (text, params) => (await query(text, params)).rows,
        get: async (text, params) => (await query(text, params)).rows[0],
        run: async (text, params) => (await query(text, params)).rowCount ?? 0,
    };
}
/** BIGINT (seq, size) as a JavaScript number: every value the registry stores is below 2^53. */
exports.TYPES = {
    getTypeParser: ((oid, format) => oid === pg_1.default.types.builtins.INT8
        ? (value) => Number(value)
        : pg_1.default.types.getTypeParser(oid, format ?? 'text')),
};


/***/ }),

/***/ 108:
/***/ ((__unused_webpack_module, exports, __webpack_require__) => {


Object.defineProperty(exports, "__esModule", ({ value: true }));
exports.eventOf = void 0;
exports.insertEvents = insertEvents;
const node_crypto_1 = __webpack_require__(7598);
const time_js_1 = __webpack_require__(7360);
/**
 * Writes to the event log on PostgreSQL (the table of PG migration 3), which the audit trail, webhooks and
 * release management share. Each inserting transaction's id lands in `xid` by the column's default (PG
 * migration 5): what the webhook fan-out orders by (access-store.ts).
 */
const COLUMNS = 'id, type, subtype, resource_prn, actor_prn, data, inserted_at';
const eventOf = (r) => ({
    id: r.id,
    type: r.type,
    subtype: r.subtype,
    resource_prn: r.resource_prn,
    actor_prn: r.actor_prn,
    data: JSON.parse(r.data),
    inserted_at: r.inserted_at,
});
exports.eventOf = eventOf;
/** New events in one multi-row INSERT, in order: inside a transaction, or as one statement on the pool. */
async function insertEvents(sql, org, events) {
    if (events.length === 0)
        return [];
    const params = [];
    const rows = events.map((e) => {
        const at = params.length;
        params.push((0, node_crypto_1.randomUUID)(), org, e.type, e.subtype, e.resource_prn, e.actor_prn, JSON.stringify(e.data), (0, time_js_1.nowTimestamp)());
        return `(${Array.from({ length: 8 }, (_, i) => `$${at + i + 1}`).join(', ')})`;
    });
    const inserted = await sql.all(`INSERT INTO events (id, org, type, subtype, resource_prn, actor_prn, data, inserted_at)
     VALUES ${rows.join(', ')} RETURNING ${COLUMNS}`, params);
    return inserted.map(exports.eventOf);
}


/***/ }),

/***/ 4245:
/***/ ((__unused_webpack_module, exports, __webpack_require__) => {


Object.defineProperty(exports, "__esModule", ({ value: true }));
exports.listTable = listTable;
exports.listFiltered = listFiltered;
const list_js_1 = __webpack_require__(6046);
/** A filter as SQL over alias `t`; `next` numbers the placeholders. */
function condition(filter, columns, next) {
    if ('never' in filter)
        return 'false';
    const col = columns[filter.field];
    if (!col)
        throw new Error(`field ${filter.field} cannot be searched here`);
    if ('prn' in filter)
        return `(t.org = ${next(filter.prn.org)} AND ${col} = ${next(filter.prn.id)})`;
    if (filter.op === 'contains')
        return `strpos(${col}, ${next(filter.value)}) > 0`;
    if (filter.op === 'icontains')
        return `strpos(lower(${col}), lower(${next(filter.value)})) > 0`;
    if (filter.secondsOnly)
        return `substr(${col}, 1, 19) ${filter.op} ${next(filter.value)}`;
    return `${col} ${filter.op} ${next(filter.value)}`;
}
/** One page of a table in insertion order, after the cursor, filtered (the same columns as SQLite's). */
function listTable(sql, table, query) {
    return listFiltered(sql, table, list_js_1.COLUMNS[table], query);
}
/**
 * listTable over any table with a `seq` and an `org`, its search columns, and an optional fixed scope: SQL
 * over alias `t` that takes its values through `param` (which returns the placeholder).
 */
async function listFiltered(sql, table, columns, query, scope = () => 'true') {
    const params = [query.org];
    const next = (v) => {
        params.push(v);
        return `$${params.length}`;
    };
    const conditions = [scope(next), ...query.filters.map((f) => condition(f, columns, next))];
    const where = conditions.map((c) => `(${c})`).join(' AND ');
    const asc = query.order === 'asc';
    const rows = await sql.all(`SELECT t.* FROM ${table} t WHERE t.org = $1 AND ${where} AND t.seq ${asc ? '>' : '<'} ${next(query.after)}
     ORDER BY t.seq ${asc ? 'ASC' : 'DESC'} LIMIT ${next(query.limit + 1)}`, params);
    return { rows: rows.slice(0, query.limit), more: rows.length > query.limit };
}


/***/ }),

/***/ 6272:
/***/ ((__unused_webpack_module, exports) => {


Object.defineProperty(exports, "__esModule", ({ value: true }));
exports.PG_MIGRATIONS = void 0;
/**
 * Versioned schema for PostgreSQL, the same records as the SQLite schema (../sqlite/migrations.ts). Each entry
 * runs once, in order, in one transaction under an advisory lock, so instances starting together migrate once;
 * `schema_migrations` records which have run. Never edit a shipped entry: append a new one.
 *
 * Text compared by `<`/`>` (timestamps, names) uses the "C" collation, so ordering is by bytes as in SQLite
 * whatever locale the database was created with. Timestamps stay text in the wire format (microseconds,
 * `Z`): equality and ordering of what the API shows, without a round trip through a timestamp type.
 */
const T = 'TEXT COLLATE "C"';
exports.PG_MIGRATIONS = [
    `
  CREATE TABLE meta (key ${T} PRIMARY KEY, value TEXT NOT NULL);

  CREATE TABLE artifacts (
    seq BIGSERIAL PRIMARY KEY,
    id ${T} NOT NULL UNIQUE,
    org ${T} NOT NULL,
    name ${T} NOT NULL,
    description ${T},
    custom_metadata TEXT,
    inserted_at ${T} NOT NULL,
    updated_at ${T} NOT NULL,
    UNIQUE (org, name)
  );

  CREATE TABLE artifact_versions (
    seq BIGSERIAL PRIMARY KEY,
    id ${T} NOT NULL UNIQUE,
    org ${T} NOT NULL,
    artifact_id ${T} NOT NULL REFERENCES artifacts (id),
    version ${T} NOT NULL,
    description ${T},
    custom_metadata TEXT,
    inserted_at ${T} NOT NULL,
    updated_at ${T} NOT NULL,
    UNIQUE (artifact_id, version)
  );
  CREATE INDEX artifact_versions_org_seq ON artifact_versions (org, seq);

  CREATE TABLE binaries (
    seq BIGSERIAL PRIMARY KEY,
    id ${T} NOT NULL UNIQUE,
    org ${T} NOT NULL,
    artifact_version_id ${T} NOT NULL REFERENCES artifact_versions (id) ON DELETE CASCADE,
    target ${T} NOT NULL,
    hash ${T} NOT NULL,
    size BIGINT NOT NULL,
    state ${T} NOT NULL,
    description ${T},
    custom_metadata TEXT,
    revision INTEGER NOT NULL DEFAULT 0,
    upload_generation INTEGER NOT NULL DEFAULT 0,
    blob_hash ${T},
    hash_error TEXT,
    inserted_at ${T} NOT NULL,
    updated_at ${T} NOT NULL
  );
  -- The rule "one live binary per version and target" is the database's, so no two instances can break it.
  CREATE UNIQUE INDEX binaries_one_live_per_target ON binaries (artifact_version_id, target)
    WHERE state <> 'destroyed';
  CREATE INDEX binaries_state ON binaries (state);
  CREATE INDEX binaries_blob ON binaries (blob_hash);
  CREATE INDEX binaries_org_seq ON binaries (org, seq);
  -- What ensureBinary searches by (version and target), in listing order.
  CREATE INDEX binaries_version_target ON binaries (artifact_version_id, target, seq);

  CREATE TABLE binary_parts (
    binary_id ${T} NOT NULL REFERENCES binaries (id) ON DELETE CASCADE,
    idx INTEGER NOT NULL,
    id ${T} NOT NULL UNIQUE,
    org ${T} NOT NULL,
    hash ${T} NOT NULL,
    size BIGINT NOT NULL,
    state ${T} NOT NULL,
    file ${T},
    inserted_at ${T} NOT NULL,
    updated_at ${T} NOT NULL,
    PRIMARY KEY (binary_id, idx)
  );

  CREATE TABLE signing_keys (
    seq BIGSERIAL PRIMARY KEY,
    id ${T} NOT NULL UNIQUE,
    org ${T} NOT NULL,
    name ${T} NOT NULL,
    value ${T} NOT NULL,
    keyid ${T} NOT NULL,
    inserted_at ${T} NOT NULL,
    updated_at ${T} NOT NULL,
    UNIQUE (org, keyid)
  );

  CREATE TABLE binary_signatures (
    seq BIGSERIAL PRIMARY KEY,
    id ${T} NOT NULL UNIQUE,
    org ${T} NOT NULL,
    binary_id ${T} NOT NULL REFERENCES binaries (id) ON DELETE CASCADE,
    signing_key_id ${T} NOT NULL REFERENCES signing_keys (id),
    signature ${T} NOT NULL,
    inserted_at ${T} NOT NULL,
    updated_at ${T} NOT NULL,
    UNIQUE (binary_id, signing_key_id)
  );

  CREATE TABLE content_garbage (
    id BIGSERIAL PRIMARY KEY,
    item TEXT NOT NULL,
    inserted_at ${T} NOT NULL
  );

  -- Background work claimed by one instance at a time; the clock is the database's.
  CREATE TABLE leases (
    key ${T} PRIMARY KEY,
    owner ${T} NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL
  );

  -- The S3 multipart upload of each binary's upload generation (not a foreign key: the content may outlive
  -- its record until the janitor deletes it).
  CREATE TABLE multipart_uploads (
    binary_id ${T} NOT NULL,
    generation INTEGER NOT NULL,
    upload_id TEXT NOT NULL,
    inserted_at ${T} NOT NULL,
    PRIMARY KEY (binary_id, generation)
  );
  `,
    // The signing-key lookup the actions make on every sign (search by value), indexed so it stays flat.
    `
  CREATE INDEX signing_keys_value ON signing_keys (org, value);
  `,
    // The event log both later stores write: device events from release management, audit events from access
    // control. Same columns as SQLite's; `seq` orders the log and is the webhooks' fan-out cursor.
    `
  CREATE TABLE events (
    seq BIGSERIAL PRIMARY KEY,
    id ${T} NOT NULL UNIQUE,
    org ${T} NOT NULL,
    type ${T} NOT NULL,
    subtype ${T} NOT NULL,
    resource_prn ${T},
    actor_prn ${T},
    data TEXT NOT NULL,
    inserted_at ${T} NOT NULL
  );
  CREATE INDEX events_resource ON events (resource_prn);
  CREATE INDEX events_inserted_at ON events (org, inserted_at);
  CREATE INDEX events_actor ON events (actor_prn);
  `,
    // Release management (SQLite's migration 6, docs/release-management.md). Flags are BOOLEAN, JSON stays text.
    // The rules several instances must not break are the database's: one product name and one device
    // identifier per organization, one bundle per id, one signature per bundle and key, one membership per
    // override and device, one claim per release and device. Cohort names are not unique (the API's rule):
    // clients that race to create one keep the oldest, which is the lowest `seq` whatever the commit order.
    `
  CREATE TABLE products (
    seq BIGSERIAL PRIMARY KEY,
    id ${T} NOT NULL UNIQUE,
    org ${T} NOT NULL,
    name ${T} NOT NULL,
    archived BOOLEAN NOT NULL DEFAULT false,
    inserted_at ${T} NOT NULL,
    updated_at ${T} NOT NULL,
    UNIQUE (org, name)
  );

  CREATE TABLE cohorts (
    seq BIGSERIAL PRIMARY KEY,
    id ${T} NOT NULL UNIQUE,
    org ${T} NOT NULL,
    product_id ${T} NOT NULL REFERENCES products (id),
    name ${T} NOT NULL,
    description ${T},
    inserted_at ${T} NOT NULL,
    updated_at ${T} NOT NULL
  );

  CREATE TABLE devices (
    seq BIGSERIAL PRIMARY KEY,
    id ${T} NOT NULL UNIQUE,
    org ${T} NOT NULL,
    product_id ${T} NOT NULL REFERENCES products (id),
    cohort_id ${T} REFERENCES cohorts (id),
    identifier ${T} NOT NULL,
    description ${T},
    quarantined BOOLEAN NOT NULL DEFAULT false,
    tags TEXT,
    target ${T},
    last_connected_at ${T},
    reported_bundle_prn ${T},
    reported_release_prn ${T},
    reported_release_version ${T},
    inserted_at ${T} NOT NULL,
    updated_at ${T} NOT NULL,
    UNIQUE (org, identifier)
  );
  -- A share phase counts the cohort's devices at every claim.
  CREATE INDEX devices_cohort ON devices (cohort_id);

  CREATE TABLE bundles (
    seq BIGSERIAL PRIMARY KEY,
    id ${T} NOT NULL UNIQUE,
    org ${T} NOT NULL,
    name ${T},
    hash ${T} NOT NULL,
    inserted_at ${T} NOT NULL,
    updated_at ${T} NOT NULL
  );

  CREATE TABLE bundle_binaries (
    bundle_id ${T} NOT NULL REFERENCES bundles (id) ON DELETE CASCADE,
    idx INTEGER NOT NULL,
    binary_id ${T} NOT NULL,
    custom_metadata TEXT NOT NULL,
    PRIMARY KEY (bundle_id, idx)
  );
  CREATE INDEX bundle_binaries_binary ON bundle_binaries (binary_id);

  CREATE TABLE bundle_signatures (
    seq BIGSERIAL PRIMARY KEY,
    id ${T} NOT NULL UNIQUE,
    org ${T} NOT NULL,
    bundle_id ${T} NOT NULL REFERENCES bundles (id) ON DELETE CASCADE,
    signing_key_id ${T} NOT NULL,
    keyid ${T} NOT NULL,
    signature ${T} NOT NULL,
    inserted_at ${T} NOT NULL,
    updated_at ${T} NOT NULL,
    UNIQUE (bundle_id, signing_key_id)
  );

  CREATE TABLE releases (
    seq BIGSERIAL PRIMARY KEY,
    id ${T} NOT NULL UNIQUE,
    org ${T} NOT NULL,
    cohort_id ${T} NOT NULL REFERENCES cohorts (id),
    bundle_id ${T} NOT NULL REFERENCES bundles (id),
    name ${T} NOT NULL,
    description ${T},
    required BOOLEAN NOT NULL,
    disabled BOOLEAN NOT NULL,
    schedule_date ${T} NOT NULL,
    phase_mode ${T} NOT NULL,
    phase_value DOUBLE PRECISION NOT NULL,
    phase_tags TEXT,
    version ${T},
    version_requirement ${T},
    next_release_id ${T},
    claims INTEGER NOT NULL DEFAULT 0,
    inserted_at ${T} NOT NULL,
    updated_at ${T} NOT NULL
  );
  CREATE INDEX releases_cohort ON releases (cohort_id, seq);
  CREATE INDEX releases_bundle ON releases (bundle_id);

  CREATE TABLE release_claims (
    release_id ${T} NOT NULL REFERENCES releases (id) ON DELETE CASCADE,
    device_id ${T} NOT NULL,
    inserted_at ${T} NOT NULL,
    PRIMARY KEY (release_id, device_id)
  );

  CREATE TABLE bundle_overrides (
    seq BIGSERIAL PRIMARY KEY,
    id ${T} NOT NULL UNIQUE,
    org ${T} NOT NULL,
    bundle_id ${T} NOT NULL REFERENCES bundles (id),
    name ${T} NOT NULL,
    description ${T},
    starts_at ${T} NOT NULL,
    ends_at ${T},
    inserted_at ${T} NOT NULL,
    updated_at ${T} NOT NULL
  );
  CREATE INDEX bundle_overrides_bundle ON bundle_overrides (bundle_id);

  CREATE TABLE bundle_override_devices (
    seq BIGSERIAL PRIMARY KEY,
    org ${T} NOT NULL,
    override_id ${T} NOT NULL REFERENCES bundle_overrides (id) ON DELETE CASCADE,
    device_id ${T} NOT NULL REFERENCES devices (id),
    inserted_at ${T} NOT NULL,
    updated_at ${T} NOT NULL,
    UNIQUE (override_id, device_id)
  );
  CREATE INDEX bundle_override_devices_device ON bundle_override_devices (device_id);
  `,
    // Access, audit and webhooks (SQLite migration 7): scoped API keys, webhooks and their durable delivery
    // queue; audit events go into the events table above. Unlike SQLite, the fan-out cursor is a position in
    // (inserting transaction, seq) order: transactions commit in any order, so `seq` alone could pass an event
    // that becomes visible later (store/pg/access-store.ts). `xid` is filled by its default on every insert,
    // whoever inserts.
    `
  CREATE TABLE api_keys (
    seq BIGSERIAL PRIMARY KEY,
    id ${T} NOT NULL UNIQUE,
    org ${T} NOT NULL,
    name ${T} NOT NULL,
    role ${T} NOT NULL,
    hash ${T} NOT NULL,
    expires_at ${T},
    revoked_at ${T},
    inserted_at ${T} NOT NULL,
    updated_at ${T} NOT NULL
  );
  CREATE INDEX api_keys_org_seq ON api_keys (org, seq);

  CREATE TABLE webhooks (
    seq BIGSERIAL PRIMARY KEY,
    id ${T} NOT NULL UNIQUE,
    org ${T} NOT NULL,
    url ${T} NOT NULL,
    description ${T},
    enabled_events TEXT NOT NULL,
    state ${T} NOT NULL,
    secret ${T} NOT NULL,
    previous_secret ${T},
    previous_secret_expires_at ${T},
    inserted_at ${T} NOT NULL,
    updated_at ${T} NOT NULL
  );
  CREATE INDEX webhooks_org_seq ON webhooks (org, seq);

  CREATE TABLE webhook_deliveries (
    seq BIGSERIAL PRIMARY KEY,
    org ${T} NOT NULL,
    webhook_id ${T} NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE,
    event_id ${T} NOT NULL,
    attempts INTEGER NOT NULL,
    next_attempt_at BIGINT NOT NULL,
    first_queued_at BIGINT NOT NULL
  );
  CREATE INDEX webhook_deliveries_head ON webhook_deliveries (org, webhook_id, seq);

  CREATE TABLE webhook_cursor (org ${T} PRIMARY KEY, last_xid xid8 NOT NULL, last_seq BIGINT NOT NULL);

  ALTER TABLE events ADD COLUMN xid xid8 NOT NULL DEFAULT pg_current_xact_id();
  CREATE INDEX events_fanout ON events (org, xid, seq);
  `,
    // The catalog's version, for the update check's cache (releases/catalog-cache.ts): one counter, raised at
    // commit by every transaction that changes what a check reads of the catalog (cohorts, releases but not
    // their claims, bundles, binaries, their signatures, keys, versions, artifacts). Deferred to commit, the
    // counter's row lock is the last lock a transaction takes, so it cannot be part of a deadlock; and a
    // reader that sees the new number sees the changes committed with it.
    `
  CREATE TABLE catalog_version (only_row BOOLEAN PRIMARY KEY DEFAULT true CHECK (only_row), n BIGINT NOT NULL);
  INSERT INTO catalog_version (n) VALUES (0);
  CREATE FUNCTION catalog_changed() RETURNS trigger LANGUAGE plpgsql AS $$
  BEGIN
    UPDATE catalog_version SET n = n + 1;
    RETURN NULL;
  END
  $$;
  ${[
        'cohorts',
        'bundles',
        'bundle_binaries',
        'binaries',
        'binary_signatures',
        'signing_keys',
        'artifacts',
        'artifact_versions',
    ]
        .map((table) => `CREATE CONSTRAINT TRIGGER catalog_changed AFTER INSERT OR UPDATE OR DELETE ON ${table}
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION catalog_changed();`)
        .join('\n  ')}
  CREATE CONSTRAINT TRIGGER catalog_changed AFTER INSERT OR DELETE OR UPDATE OF cohort_id, bundle_id, name,
    description, required, disabled, schedule_date, phase_mode, phase_value, phase_tags, version,
    version_requirement, next_release_id ON releases
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION catalog_changed();
  `,
];


/***/ }),

/***/ 8868:
/***/ (function(__unused_webpack_module, exports, __webpack_require__) {


var __importDefault = (this && this.__importDefault) || function (mod) {
    return (mod && mod.__esModule) ? mod : { "default": mod };
};
Object.defineProperty(exports, "__esModule", ({ value: true }));
exports.PgStore = void 0;
const node_async_hooks_1 = __webpack_require__(6698);
const pg_1 = __importDefault(__webpack_require__(3273));
const access_store_js_1 = __webpack_require__(3587);
const connection_js_1 = __webpack_require__(1373);
const migrations_js_1 = __webpack_require__(6272);
const release_store_js_1 = __webpack_require__(1740);
const repositories_js_1 = __webpack_require__(7941);
/** Any number, the same for every registry: the key of the advisory lock migrations run under. */
const MIGRATION_LOCK = 0x70657269;
/** Transactions that lost a deadlock or a serialization check are run again this many times. */
const RETRIES = 4;
const RETRYABLE = new Set(['40001', '40P01']);
/**
 * Store over PostgreSQL, for several registry instances sharing one database. Transactions run at READ
 * COMMITTED: what must not be broken by concurrent instances is enforced by unique indexes, conditional
 * updates and row locks (see repositories.ts), never by a lock inside one process. A dropped or refused
 * connection surfaces as StoreUnavailable, so requests fail with a retryable 503 while the database restarts.
 */
class PgStore {
    /** API keys, webhooks and their delivery queue (access-store.ts), over this store's connections. */
    accessStore(org) {
        return new access_store_js_1.PgAccessStore(this, org);
    }
    /** Release management of one organization, on this database (release-store.ts). */
    releaseStore(org) {
        return new release_store_js_1.PgReleaseStore(this, org);
    }
    pool;
    inTransaction = new node_async_hooks_1.AsyncLocalStorage();
    meta;
    artifacts;
    artifactVersions;
    binaries;
    parts;
    signingKeys;
    signatures;
    contentGarbage;
    leases;
    multipartUploads;
    constructor(options) {
        this.pool = new pg_1.default.Pool({
            connectionString: options.url,
            max: options.maxConnections ?? 10,
            connectionTimeoutMillis: 5_000,
            idleTimeoutMillis: 30_000,
            types: connection_js_1.TYPES,
        });
        this.pool.on('error', (err) => options.onError?.(err));
        const repos = (0, repositories_js_1.pgRepositories)((0, connection_js_1.sqlOn)(this.pool));
        const guarded = (repo) => Object.fromEntries(Object.entries(repo).map(([name, fn]) => [
            name,
            (...args) => {
                this.assertOutsideTransaction(name);
                return fn(...args);
            },
        ]));
        this.meta = guarded(repos.meta);
        this.artifacts = guarded(repos.artifacts);
        this.artifactVersions = guarded(repos.artifactVersions);
        this.binaries = guarded(repos.binaries);
        this.parts = guarded(repos.parts);
        this.signingKeys = guarded(repos.signingKeys);
        this.signatures = guarded(repos.signatures);
        this.contentGarbage = guarded(repos.contentGarbage);
        this.leases = guarded(repos.leases);
        this.multipartUploads = guarded(repos.multipartUploads);
    }
    /** Connects and brings the schema up to date. */
    static async open(options) {
        const store = new PgStore(options);
        try {
            await store.migrate();
        }
        catch (err) {
            await store.pool.end();
            throw (0, connection_js_1.translate)(err);
        }
        return store;
    }
    async migrate() {
        const client = await this.pool.connect();
        try {
            await client.query('BEGIN');
            await client.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
            await client.query('CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL)');
            const { rows } = await client.query('SELECT max(version) AS v FROM schema_migrations');
            const current = rows[0]?.v ?? 0;
            if (current > migrations_js_1.PG_MIGRATIONS.length) {
                throw new Error(`database schema version ${current} is newer than this peridio-registry supports (${migrations_js_1.PG_MIGRATIONS.length})`);
            }
            for (let version = current; version < migrations_js_1.PG_MIGRATIONS.length; version++) {
                await client.query(migrations_js_1.PG_MIGRATIONS[version]);
                await client.query('INSERT INTO schema_migrations (version, applied_at) VALUES ($1, now())', [
                    version + 1,
                ]);
            }
            await client.query('COMMIT');
        }
        catch (err) {
            await client.query('ROLLBACK').catch(() => undefined);
            throw err;
        }
        finally {
            client.release();
        }
    }
    assertOutsideTransaction(what) {
        // Not a deadlock here as in SQLite, but a statement outside the transaction would not see its changes
        // and could wait on its row locks: always a bug.
        if (this.inTransaction.getStore()) {
            throw new Error(`store.${what} called inside a transaction: use the transaction's repositories`);
        }
    }
    /** Statements on the pool, for the stores of later resources (release management) on this database. */
    get sql() {
        return (0, connection_js_1.sqlOn)(this.pool);
    }
    /**
     * One transaction as raw statements, with the same retries and error mapping as `transaction`: for
     * stores of later resources that keep their own tables in this database.
     */
    sqlTransaction(fn) {
        return this.run(fn);
    }
    transaction(fn) {
        return this.run((sql) => fn((0, repositories_js_1.pgRepositories)(sql)));
    }
    async run(fn) {
        this.assertOutsideTransaction('transaction');
        for (let attempt = 1;; attempt++) {
            let client;
            try {
                client = await this.pool.connect();
            }
            catch (err) {
                throw (0, connection_js_1.translate)(err);
            }
            let broken = false;
            try {
                await client.query('BEGIN');
                const result = await this.inTransaction.run(true, () => fn((0, connection_js_1.sqlOn)(client)));
                await client.query('COMMIT');
                return result;
            }
            catch (err) {
                await client.query('ROLLBACK').catch(() => (broken = true));
                const code = err?.code;
                if (attempt < RETRIES && code !== undefined && RETRYABLE.has(code))
                    continue;
                throw (0, connection_js_1.translate)(err);
            }
            finally {
                // A connection that could not even roll back is dropped instead of going back to the pool.
                client.release(broken);
            }
        }
    }
    async close() {
        await this.pool.end();
    }
}
exports.PgStore = PgStore;


/***/ }),

/***/ 6220:
/***/ ((__unused_webpack_module, exports, __webpack_require__) => {


Object.defineProperty(exports, "__esModule", ({ value: true }));
exports.PgBundleStore = void 0;
const node_crypto_1 = __webpack_require__(7598);
const http_js_1 = __webpack_require__(7969);
const time_js_1 = __webpack_require__(7360);
const release_rows_js_1 = __webpack_require__(8078);
const release_store_js_1 = __webpack_require__(2938);
const release_tables_js_1 = __webpack_require__(1912);
/**
 * Bundles, their signatures and bundle overrides on PostgreSQL (part of PgReleaseStore). A bundle id, a
 * signature per bundle and key, and a device per override are unique constraints: a create racing another
 * instance's finds the winner's row.
 */
class PgBundleStore extends release_tables_js_1.PgReleaseTables {
    // ---- bundles ----
    /** The bundles of these rows with their binaries, in one query. */
    async bundlesOf(sql, rows) {
        const ids = rows.map((r) => r.id);
        const binaries = ids.length
            ? await sql.all(`SELECT bundle_id, binary_id, custom_metadata FROM bundle_binaries WHERE bundle_id = ANY($1)
           ORDER BY bundle_id, idx`, [ids])
            : [];
        return rows.map((r) => ({
            id: r.id,
            name: r.name,
            hash: r.hash,
            binaries: binaries
                .filter((b) => b.bundle_id === r.id)
                .map((b) => ({ binary_id: b.binary_id, custom_metadata: JSON.parse(b.custom_metadata) })),
            inserted_at: r.inserted_at,
            updated_at: r.updated_at,
        }));
    }
    async createBundle(input) {
        return this.db.sqlTransaction(async (sql) => {
            const now = (0, time_js_1.nowTimestamp)();
            const { row, created } = await (0, release_tables_js_1.insertOrFind)(sql, [
                `INSERT INTO bundles (id, org, name, hash, inserted_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6)
           ON CONFLICT (id) DO NOTHING RETURNING *`,
                [input.id, this.org, input.name, input.hash, now, now],
            ], ['SELECT * FROM bundles WHERE id = $1', [input.id]]);
            if (!created && row.org !== this.org)
                throw new release_store_js_1.TakenError('id');
            if (created && input.binaries.length) {
                const params = [input.id];
                const values = input.binaries.map((b, idx) => {
                    params.push(idx, b.binary_id, JSON.stringify(b.custom_metadata));
                    const n = params.length;
                    return `($1, $${n - 2}::integer, $${n - 1}, $${n})`;
                });
                await sql.run(`INSERT INTO bundle_binaries (bundle_id, idx, binary_id, custom_metadata) VALUES ${values.join(', ')}`, params);
            }
            return { bundle: (await this.bundlesOf(sql, [row]))[0], created };
        });
    }
    async getBundle(id) {
        const r = await this.one(this.db.sql, 'bundles', id);
        return r && (await this.bundlesOf(this.db.sql, [r]))[0];
    }
    async listBundles(query) {
        const page = await this.rows(query, 'bundles');
        return { items: await this.bundlesOf(this.db.sql, page.items), next_page: page.next_page };
    }
    async updateBundle(id, patch) {
        const row = await this.db.sql.get('UPDATE bundles SET name = $1, updated_at = $2 WHERE id = $3 AND org = $4 RETURNING *', [patch.name, (0, time_js_1.nowTimestamp)(), id, this.org]);
        return (await this.bundlesOf(this.db.sql, [row]))[0];
    }
    async deleteBundle(id) {
        return this.db.sqlTransaction(async (sql) => {
            // FOR UPDATE waits for transactions that reference the bundle (their foreign-key check holds KEY
            // SHARE), so a release or override committed meanwhile is seen below; later ones fail their check.
            await this.one(sql, 'bundles', id, 'FOR UPDATE');
            const ids = async (table) => (await sql.all(`SELECT id FROM ${table} WHERE bundle_id = $1 ORDER BY seq`, [id])).map((r) => r.id);
            const releases = await ids('releases');
            const overrides = await ids('bundle_overrides');
            if (releases.length || overrides.length)
                return { deleted: false, releases, overrides };
            await sql.run('DELETE FROM bundles WHERE id = $1 AND org = $2', [id, this.org]);
            return { deleted: true };
        });
    }
    async releasesUsingBinary(binaryId) {
        const rows = await this.db.sql.all(`SELECT r.* FROM releases r WHERE r.org = $1 AND r.bundle_id IN
       (SELECT bundle_id FROM bundle_binaries WHERE binary_id = $2) ORDER BY r.seq`, [this.org, binaryId]);
        return rows.map(release_rows_js_1.releaseOf);
    }
    // ---- bundle signatures ----
    async createBundleSignature(input) {
        const now = (0, time_js_1.nowTimestamp)();
        const { row, created } = await this.db.sqlTransaction((sql) => (0, release_tables_js_1.insertOrFind)(sql, [
            `INSERT INTO bundle_signatures (id, org, bundle_id, signing_key_id, keyid, signature, inserted_at,
           updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
           ON CONFLICT (bundle_id, signing_key_id) DO NOTHING RETURNING *`,
            [
                (0, node_crypto_1.randomUUID)(),
                this.org,
                input.bundle_id,
                input.signing_key_id,
                input.keyid,
                input.signature,
                now,
                now,
            ],
        ], [
            'SELECT * FROM bundle_signatures WHERE bundle_id = $1 AND signing_key_id = $2',
            [input.bundle_id, input.signing_key_id],
        ]));
        return { signature: (0, release_rows_js_1.signatureOf)(row), created };
    }
    async getBundleSignature(id) {
        const r = await this.one(this.db.sql, 'bundle_signatures', id);
        return r && (0, release_rows_js_1.signatureOf)(r);
    }
    async listBundleSignatures(query) {
        return this.page(query, 'bundle_signatures', release_rows_js_1.signatureOf);
    }
    async signaturesOfBundle(bundleId) {
        const rows = await this.db.sql.all('SELECT * FROM bundle_signatures WHERE bundle_id = $1 AND org = $2 ORDER BY seq', [bundleId, this.org]);
        return rows.map(release_rows_js_1.signatureOf);
    }
    async deleteBundleSignature(id) {
        return ((await this.db.sql.run('DELETE FROM bundle_signatures WHERE id = $1 AND org = $2', [id, this.org])) > 0);
    }
    // ---- overrides ----
    async createOverride(input) {
        const now = (0, time_js_1.nowTimestamp)();
        const row = await this.db.sql.get(`INSERT INTO bundle_overrides (id, org, bundle_id, name, description, starts_at, ends_at, inserted_at,
       updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING *`, [
            (0, node_crypto_1.randomUUID)(),
            this.org,
            input.bundle_id,
            input.name,
            input.description,
            input.starts_at,
            input.ends_at,
            now,
            now,
        ]);
        return (0, release_rows_js_1.overrideOf)(row);
    }
    async getOverride(id) {
        const r = await this.one(this.db.sql, 'bundle_overrides', id);
        return r && (0, release_rows_js_1.overrideOf)(r);
    }
    async listOverrides(query) {
        return this.page(query, 'bundle_overrides', release_rows_js_1.overrideOf);
    }
    async updateOverride(id, patch) {
        return this.db.sqlTransaction(async (sql) => {
            const next = { ...(0, release_rows_js_1.overrideOf)((await this.one(sql, 'bundle_overrides', id, 'FOR UPDATE'))), ...patch };
            const row = await sql.get(`UPDATE bundle_overrides SET bundle_id = $1, name = $2, description = $3, starts_at = $4, ends_at = $5,
         updated_at = $6 WHERE id = $7 AND org = $8 RETURNING *`, [
                next.bundle_id,
                next.name,
                next.description,
                next.starts_at,
                next.ends_at,
                (0, time_js_1.nowTimestamp)(),
                id,
                this.org,
            ]);
            return (0, release_rows_js_1.overrideOf)(row);
        });
    }
    async deleteOverride(id) {
        return ((await this.db.sql.run('DELETE FROM bundle_overrides WHERE id = $1 AND org = $2', [id, this.org])) > 0);
    }
    async addOverrideDevice(overrideId, deviceId) {
        const now = (0, time_js_1.nowTimestamp)();
        const { row, created } = await this.db.sqlTransaction((sql) => (0, release_tables_js_1.insertOrFind)(sql, [
            `INSERT INTO bundle_override_devices (org, override_id, device_id, inserted_at, updated_at)
           VALUES ($1, $2, $3, $4, $5) ON CONFLICT (override_id, device_id) DO NOTHING RETURNING *`,
            [this.org, overrideId, deviceId, now, now],
        ], [
            'SELECT * FROM bundle_override_devices WHERE override_id = $1 AND device_id = $2',
            [overrideId, deviceId],
        ]));
        return { device: (0, release_rows_js_1.overrideDeviceOf)(row), created };
    }
    async listOverrideDevices(overrideId, query) {
        if (query.get('search'))
            throw (0, http_js_1.fieldError)('search', 'is not supported on bundle override devices');
        return this.page(query, 'bundle_override_devices', release_rows_js_1.overrideDeviceOf, (param) => `t.override_id = ${param(overrideId)}`);
    }
    async removeOverrideDevice(overrideId, deviceId) {
        const removed = await this.db.sql.run('DELETE FROM bundle_override_devices WHERE override_id = $1 AND device_id = $2 AND org = $3', [overrideId, deviceId, this.org]);
        return removed > 0;
    }
    async overridesOfDevice(deviceId) {
        const rows = await this.db.sql.all(`SELECT o.* FROM bundle_overrides o JOIN bundle_override_devices d ON d.override_id = o.id
       WHERE d.device_id = $1 AND o.org = $2 ORDER BY o.seq`, [deviceId, this.org]);
        return rows.map(release_rows_js_1.overrideOf);
    }
}
exports.PgBundleStore = PgBundleStore;


/***/ }),

/***/ 9193:
/***/ ((__unused_webpack_module, exports, __webpack_require__) => {


Object.defineProperty(exports, "__esModule", ({ value: true }));
exports.cohortReleases = cohortReleases;
exports.withCohortReleases = withCohortReleases;
exports.claimPhaseSlot = claimPhaseSlot;
exports.wouldAdmit = wouldAdmit;
const phase_js_1 = __webpack_require__(51);
const time_js_1 = __webpack_require__(7360);
const release_rows_js_1 = __webpack_require__(8078);
const release_tables_js_1 = __webpack_require__(1912);
/**
 * The release operations that must hold under concurrent callers on several instances: changes to a cohort's
 * release graph (serialised by a row lock on the cohort) and phase claims (a conditional increment of the
 * release's `claims`, which PostgreSQL re-evaluates on the newest row once a concurrent claim commits).
 */
async function cohortReleases(sql, org, cohortId) {
    const rows = await sql.all('SELECT * FROM releases WHERE cohort_id = $1 AND org = $2 ORDER BY seq', [
        cohortId,
        org,
    ]);
    return rows.map(release_rows_js_1.releaseOf);
}
function withCohortReleases(db, org, cohortId, plan) {
    return db.sqlTransaction(async (sql) => {
        // Every change to the cohort's graph takes this lock first, so the releases read next (a fresh snapshot
        // at READ COMMITTED) are the ones the plan's changes apply to. NO KEY UPDATE leaves devices and releases
        // free to reference the cohort meanwhile (their foreign-key checks take KEY SHARE).
        await sql.run('SELECT 1 FROM cohorts WHERE id = $1 AND org = $2 FOR NO KEY UPDATE', [cohortId, org]);
        const p = plan(await cohortReleases(sql, org, cohortId));
        if (p.delete !== undefined) {
            for (const link of p.links)
                await setNext(sql, org, link.id, link.next_release_id);
            await sql.run('DELETE FROM releases WHERE id = $1 AND org = $2', [p.delete, org]);
            return p.result;
        }
        // A new release goes in before links pointing at it; its own next is part of the record.
        if (p.create)
            await writeRelease(sql, org, p.create, true);
        if (p.update)
            await writeRelease(sql, org, p.update, false);
        const own = p.create?.id ?? p.update?.id;
        for (const link of p.links)
            if (link.id !== own)
                await setNext(sql, org, link.id, link.next_release_id);
        return p.result;
    });
}
async function writeRelease(sql, org, r, insert) {
    const values = [
        r.cohort_id,
        r.bundle_id,
        r.name,
        r.description,
        r.required,
        r.disabled,
        r.schedule_date,
        r.phase_mode,
        r.phase_value,
        r.phase_tags === null ? null : JSON.stringify(r.phase_tags),
        r.version,
        r.version_requirement,
        r.next_release_id,
        r.updated_at,
        r.id,
        org,
    ];
    if (insert) {
        await sql.run(`INSERT INTO releases (cohort_id, bundle_id, name, description, required, disabled, schedule_date, phase_mode,
       phase_value, phase_tags, version, version_requirement, next_release_id, updated_at, id, org, inserted_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)`, [...values, r.inserted_at]);
    }
    else {
        await sql.run(`UPDATE releases SET cohort_id = $1, bundle_id = $2, name = $3, description = $4, required = $5,
       disabled = $6, schedule_date = $7, phase_mode = $8, phase_value = $9, phase_tags = $10, version = $11,
       version_requirement = $12, next_release_id = $13, updated_at = $14 WHERE id = $15 AND org = $16`, values);
    }
}
async function setNext(sql, org, id, next) {
    await sql.run('UPDATE releases SET next_release_id = $1, updated_at = $2 WHERE id = $3 AND org = $4', [
        next,
        (0, time_js_1.nowTimestamp)(),
        id,
        org,
    ]);
}
/**
 * The release's claim count, whether the device holds a claim, and the limit now (a share counts the cohort's
 * devices), in one read without locks: a claim is never taken back and `claims` only grows, so "claimed"
 * and "full" read here stay true.
 */
async function claimState(sql, release, deviceId, limit) {
    const row = await sql.get(`SELECT r.claims,
       EXISTS (SELECT 1 FROM release_claims c WHERE c.release_id = r.id AND c.device_id = $2) AS claimed,
       CASE WHEN $4 THEN (SELECT count(*) FROM devices d WHERE d.cohort_id = $3) ELSE 0 END AS devices
     FROM releases r WHERE r.id = $1`, [release.id, deviceId, release.cohort_id, limit.kind === 'share']);
    const max = (0, phase_js_1.claimLimit)(limit, row?.devices ?? 0);
    return { exists: !!row, claims: row?.claims ?? 0, claimed: !!row?.claimed, max };
}
async function hasClaim(sql, releaseId, deviceId) {
    const row = await sql.get('SELECT 1 FROM release_claims WHERE release_id = $1 AND device_id = $2', [
        releaseId,
        deviceId,
    ]);
    return row !== undefined;
}
/** Thrown inside the claim's transaction to roll its increment back: the device's claim won a race. */
class AlreadyClaimed extends Error {
}
async function claimPhaseSlot(db, org, release, deviceId, limit, makeEvent) {
    const state = await claimState(db.sql, release, deviceId, limit);
    if (state.claimed)
        return { admitted: true, claimed: false };
    if (!state.exists || state.claims >= state.max)
        return { admitted: false, claimed: false };
    try {
        return await db.sqlTransaction(async (sql) => {
            // The conditional increment is the claim: concurrent ones queue on the row and each is re-checked
            // against the count the previous one committed, so the limit holds across instances.
            const taken = await sql.run('UPDATE releases SET claims = claims + 1 WHERE id = $1 AND claims < $2', [
                release.id,
                Number.isFinite(state.max) ? state.max : Number.MAX_SAFE_INTEGER,
            ]);
            // Full once the claims before it committed; one of them may be this device's through another
            // instance, which admits it as SQLite's serial order would.
            if (taken === 0)
                return { admitted: await hasClaim(sql, release.id, deviceId), claimed: false };
            // The same device checking in through another instance at once: the later claim waits for the first
            // and then finds it; its increment is rolled back.
            const inserted = await sql.run(`INSERT INTO release_claims (release_id, device_id, inserted_at) VALUES ($1, $2, $3)
         ON CONFLICT (release_id, device_id) DO NOTHING`, [release.id, deviceId, (0, time_js_1.nowTimestamp)()]);
            if (inserted === 0)
                throw new AlreadyClaimed();
            await (0, release_tables_js_1.insertEvent)(sql, org, makeEvent());
            return { admitted: true, claimed: true };
        });
    }
    catch (err) {
        if (err instanceof AlreadyClaimed)
            return { admitted: true, claimed: false };
        throw err;
    }
}
async function wouldAdmit(db, release, deviceId, limit) {
    const state = await claimState(db.sql, release, deviceId, limit);
    return state.claimed || state.claims < state.max;
}


/***/ }),

/***/ 1740:
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
exports.PgReleaseStore = void 0;
const node_crypto_1 = __webpack_require__(7598);
const time_js_1 = __webpack_require__(7360);
const release_rows_js_1 = __webpack_require__(8078);
const release_bundles_js_1 = __webpack_require__(6220);
const graph = __importStar(__webpack_require__(9193));
const release_tables_js_1 = __webpack_require__(1912);
/**
 * ReleaseStore over PostgreSQL (tables of PG_MIGRATIONS' release-management entry), for several instances
 * on one database. A method of one statement runs it on the pool (a statement is its own transaction);
 * one of several runs them in one `sqlTransaction` (retried on deadlock or serialization failure), taking
 * the row lock of what it reads before it writes. Unique rules are constraints; bundles, signatures and
 * overrides are in release-bundles.ts, the release graph and phase claims in release-graph.ts.
 */
class PgReleaseStore extends release_bundles_js_1.PgBundleStore {
    // ---- products ----
    async createProduct(input) {
        const now = (0, time_js_1.nowTimestamp)();
        const row = await (0, release_tables_js_1.unique)('name', () => this.db.sql.get(`INSERT INTO products (id, org, name, archived, inserted_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6)
         RETURNING *`, [(0, node_crypto_1.randomUUID)(), this.org, input.name, input.archived, now, now]));
        return (0, release_rows_js_1.productOf)(row);
    }
    async getProduct(id) {
        const r = await this.one(this.db.sql, 'products', id);
        return r && (0, release_rows_js_1.productOf)(r);
    }
    async listProducts(query) {
        return this.page(query, 'products', release_rows_js_1.productOf);
    }
    async updateProduct(id, patch) {
        const row = await (0, release_tables_js_1.unique)('name', () => this.db.sql.get(`UPDATE products SET name = coalesce($1, name), archived = coalesce($2, archived), updated_at = $3
         WHERE id = $4 AND org = $5 RETURNING *`, [patch.name ?? null, patch.archived ?? null, (0, time_js_1.nowTimestamp)(), id, this.org]));
        return (0, release_rows_js_1.productOf)(row);
    }
    // ---- cohorts ----
    async createCohort(input) {
        const now = (0, time_js_1.nowTimestamp)();
        const row = await this.db.sql.get(`INSERT INTO cohorts (id, org, product_id, name, description, inserted_at, updated_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING *`, [(0, node_crypto_1.randomUUID)(), this.org, input.product_id, input.name, input.description, now, now]);
        return (0, release_rows_js_1.cohortOf)(row);
    }
    async getCohort(id) {
        const r = await this.one(this.db.sql, 'cohorts', id);
        return r && (0, release_rows_js_1.cohortOf)(r);
    }
    async listCohorts(query) {
        return this.page(query, 'cohorts', release_rows_js_1.cohortOf);
    }
    async updateCohort(id, patch) {
        const row = await this.db.sql.get(`UPDATE cohorts SET name = coalesce($1, name), description = CASE WHEN $2 THEN $3 ELSE description END,
       updated_at = $4 WHERE id = $5 AND org = $6 RETURNING *`, [
            patch.name ?? null,
            Object.prototype.hasOwnProperty.call(patch, 'description'),
            patch.description ?? null,
            (0, time_js_1.nowTimestamp)(),
            id,
            this.org,
        ]);
        return (0, release_rows_js_1.cohortOf)(row);
    }
    // ---- devices ----
    async createDevice(input) {
        const now = (0, time_js_1.nowTimestamp)();
        const row = await (0, release_tables_js_1.unique)('identifier', () => this.db.sql.get(`INSERT INTO devices (id, org, product_id, cohort_id, identifier, description, quarantined, tags, target,
         inserted_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING *`, [
            (0, node_crypto_1.randomUUID)(),
            this.org,
            input.product_id,
            input.cohort_id,
            input.identifier,
            input.description,
            input.quarantined,
            (0, release_tables_js_1.jsonOrNull)(input.tags),
            input.target,
            now,
            now,
        ]));
        return (0, release_rows_js_1.deviceOf)(row);
    }
    async getDevice(id) {
        const r = await this.one(this.db.sql, 'devices', id);
        return r && (0, release_rows_js_1.deviceOf)(r);
    }
    async deviceForCheck(id) {
        // One round trip instead of three: under a fleet's checks the registry's cost is mostly its queries.
        const r = await this.db.sql.get(`SELECT d.*, (SELECT n FROM catalog_version) AS catalog_version,
         (SELECT coalesce(json_agg(o ORDER BY o.seq), '[]') FROM bundle_overrides o
            JOIN bundle_override_devices od ON od.override_id = o.id
           WHERE od.device_id = d.id AND o.org = d.org) AS overrides
       FROM devices d WHERE d.id = $1 AND d.org = $2`, [id, this.org]);
        if (!r)
            return undefined;
        const { catalog_version, overrides, ...device } = r;
        return {
            device: (0, release_rows_js_1.deviceOf)(device),
            overrides: overrides.map(release_rows_js_1.overrideOf),
            catalogVersion: Number(catalog_version),
        };
    }
    async listDevices(query) {
        return this.page(query, 'devices', release_rows_js_1.deviceOf);
    }
    async updateDevice(id, patch) {
        return this.db.sqlTransaction(async (sql) => {
            // Locked, so a concurrent patch of other fields is applied after this one, not overwritten by it.
            const next = { ...(0, release_rows_js_1.deviceOf)((await this.one(sql, 'devices', id, 'FOR UPDATE'))), ...patch };
            const row = await sql.get(`UPDATE devices SET cohort_id = $1, description = $2, quarantined = $3, tags = $4, target = $5,
         updated_at = $6 WHERE id = $7 AND org = $8 RETURNING *`, [
                next.cohort_id,
                next.description,
                next.quarantined,
                (0, release_tables_js_1.jsonOrNull)(next.tags),
                next.target,
                (0, time_js_1.nowTimestamp)(),
                id,
                this.org,
            ]);
            return (0, release_rows_js_1.deviceOf)(row);
        });
    }
    async reportDeviceState(id, reported, makeEvent) {
        return this.db.sqlTransaction(async (sql) => {
            // Locked: two reports of one device at once each see the other's triple as their previous one.
            const previous = (0, release_rows_js_1.deviceOf)((await this.one(sql, 'devices', id, 'FOR UPDATE'))).reported;
            const now = (0, time_js_1.nowTimestamp)();
            const row = await sql.get(`UPDATE devices SET reported_release_prn = $1, reported_bundle_prn = $2, reported_release_version = $3,
         last_connected_at = $4, updated_at = $4 WHERE id = $5 AND org = $6 RETURNING *`, [reported.release_prn, reported.bundle_prn, reported.release_version, now, id, this.org]);
            const event = makeEvent(previous);
            if (event)
                await (0, release_tables_js_1.insertEvent)(sql, this.org, event);
            return { previous, device: (0, release_rows_js_1.deviceOf)(row) };
        });
    }
    // ---- releases ----
    async getRelease(id) {
        const r = await this.one(this.db.sql, 'releases', id);
        return r && (0, release_rows_js_1.releaseOf)(r);
    }
    async listReleases(query) {
        return this.page(query, 'releases', release_rows_js_1.releaseOf);
    }
    async cohortReleases(cohortId) {
        return graph.cohortReleases(this.db.sql, this.org, cohortId);
    }
    async withCohortReleases(cohortId, plan) {
        return graph.withCohortReleases(this.db, this.org, cohortId, plan);
    }
    // ---- phase claims ----
    async claimPhaseSlot(release, deviceId, limit, makeEvent) {
        return graph.claimPhaseSlot(this.db, this.org, release, deviceId, limit, makeEvent);
    }
    async wouldAdmit(release, deviceId, limit) {
        return graph.wouldAdmit(this.db, release, deviceId, limit);
    }
    // ---- events ----
    async appendEvent(event) {
        return (0, release_tables_js_1.insertEvent)(this.db.sql, this.org, event);
    }
    async listEvents(query) {
        const filters = (0, release_rows_js_1.eventFilters)(query);
        return this.page(query, 'events', release_rows_js_1.eventOf, (param) => filters.length ? filters.map((f) => `${f.column} ${f.op} ${param(f.value)}`).join(' AND ') : 'true');
    }
}
exports.PgReleaseStore = PgReleaseStore;


/***/ }),

/***/ 1912:
/***/ ((__unused_webpack_module, exports, __webpack_require__) => {


Object.defineProperty(exports, "__esModule", ({ value: true }));
exports.PgReleaseTables = exports.jsonOrNull = void 0;
exports.unique = unique;
exports.insertOrFind = insertOrFind;
exports.insertEvent = insertEvent;
const list_js_1 = __webpack_require__(9369);
const release_rows_js_1 = __webpack_require__(8078);
const release_store_js_1 = __webpack_require__(2938);
const events_js_1 = __webpack_require__(108);
const list_js_2 = __webpack_require__(4245);
/** A unique violation of `fn` as the TakenError naming the field, as the SQLite store raises it. */
async function unique(field, fn) {
    try {
        return await fn();
    }
    catch (err) {
        if ((0, release_rows_js_1.isUnique)(err))
            throw new release_store_js_1.TakenError(field);
        throw err;
    }
}
/**
 * Inserts with `ON CONFLICT DO NOTHING RETURNING *`, or finds the row that was there: a concurrent insert of
 * the same key (another instance) is waited for, and then found. Found nothing either (the row was deleted
 * between the two statements): tried again.
 */
async function insertOrFind(sql, insert, find) {
    for (;;) {
        const row = await sql.get(...insert);
        if (row)
            return { row, created: true };
        const existing = await sql.get(...find);
        if (existing)
            return { row: existing, created: false };
    }
}
const jsonOrNull = (v) => (v === null ? null : JSON.stringify(v));
exports.jsonOrNull = jsonOrNull;
async function insertEvent(sql, org, event) {
    return (await (0, events_js_1.insertEvents)(sql, org, [event]))[0];
}
/** One organization's rows of the release tables: the reads every part of the PostgreSQL release store shares. */
class PgReleaseTables {
    db;
    org;
    constructor(db, org) {
        this.db = db;
        this.org = org;
    }
    one(sql, table, id, lock = '') {
        return sql.get(`SELECT * FROM ${table} WHERE id = $1 AND org = $2 ${lock}`, [id, this.org]);
    }
    async rows(query, table, scope) {
        const { fields, columns } = release_rows_js_1.SEARCH[table];
        const repo = {
            list: (q) => (0, list_js_2.listFiltered)(this.db.sql, table, columns, q, scope),
        };
        const page = await (0, list_js_1.listRows)({ org: this.org }, query, repo, fields);
        return { items: page.rows, next_page: page.next_page };
    }
    async page(query, table, map, scope) {
        const page = await this.rows(query, table, scope);
        return { items: page.items.map(map), next_page: page.next_page };
    }
}
exports.PgReleaseTables = PgReleaseTables;


/***/ }),

/***/ 7941:
/***/ ((__unused_webpack_module, exports, __webpack_require__) => {


Object.defineProperty(exports, "__esModule", ({ value: true }));
exports.pgRepositories = pgRepositories;
const list_js_1 = __webpack_require__(4245);
/** The record operations every table keyed by a UUID `id` shares. */
function table(sql, name) {
    return {
        list: (query) => (0, list_js_1.listTable)(sql, name, query),
        find: (org, id) => sql.get(`SELECT * FROM ${name} WHERE id = $1 AND org = $2`, [id, org]),
        idTaken: async (id) => (await sql.get(`SELECT 1 FROM ${name} WHERE id = $1`, [id])) !== undefined,
        async insert(row) {
            const entries = Object.entries(row);
            return (await sql.get(`INSERT INTO ${name} (${entries.map(([k]) => k).join(', ')})
         VALUES (${entries.map((_, i) => `$${i + 1}`).join(', ')}) RETURNING *`, entries.map(([, v]) => v)));
        },
        async update(id, changes) {
            const entries = Object.entries(changes).filter(([, v]) => v !== undefined);
            return (await sql.get(`UPDATE ${name} SET ${entries.map(([k], i) => `${k} = $${i + 2}`).join(', ')} WHERE id = $1 RETURNING *`, [id, ...entries.map(([, v]) => v)]));
        },
        async delete(id) {
            await sql.run(`DELETE FROM ${name} WHERE id = $1`, [id]);
        },
    };
}
/**
 * The repositories over the pool (each call on its own) or one transaction's connection. Rules that must
 * hold across instances are the database's: unique indexes (one live binary per target, one version per
 * artifact, one keyid per organization), conditional updates (signable only for the generation being
 * hashed, valid only while uploadable), and `lock` (a row lock a binary's changes take first).
 */
function pgRepositories(sql) {
    const exists = async (text, params) => (await sql.get(text, params)) !== undefined;
    const binaries = table(sql, 'binaries');
    return {
        meta: {
            get: async (key) => (await sql.get('SELECT value FROM meta WHERE key = $1', [key]))?.value,
            async setIfAbsent(key, value) {
                await sql.run('INSERT INTO meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING', [
                    key,
                    value,
                ]);
                return (await sql.get('SELECT value FROM meta WHERE key = $1', [key])).value;
            },
        },
        artifacts: {
            ...table(sql, 'artifacts'),
            nameTaken: (org, name, exceptId = '') => exists('SELECT 1 FROM artifacts WHERE org = $1 AND name = $2 AND id <> $3', [org, name, exceptId]),
            hasVersions: (id) => exists('SELECT 1 FROM artifact_versions WHERE artifact_id = $1', [id]),
        },
        artifactVersions: {
            ...table(sql, 'artifact_versions'),
            versionTaken: (artifactId, version) => exists('SELECT 1 FROM artifact_versions WHERE artifact_id = $1 AND version = $2', [
                artifactId,
                version,
            ]),
        },
        binaries: {
            ...binaries,
            findLive: (versionId, target) => sql.get("SELECT * FROM binaries WHERE artifact_version_id = $1 AND target = $2 AND state <> 'destroyed'", [versionId, target]),
            hasLive: (versionId) => exists("SELECT 1 FROM binaries WHERE artifact_version_id = $1 AND state <> 'destroyed'", [versionId]),
            insert: (row) => binaries.insert({ ...row, state: 'uploadable' }),
            async lock(id) {
                await sql.run('SELECT 1 FROM binaries WHERE id = $1 FOR UPDATE', [id]);
            },
            async transition(id, change, at) {
                switch (change.to) {
                    case 'uploadable':
                        await sql.run(`UPDATE binaries SET state = 'uploadable', blob_hash = NULL, hash_error = $2,
               upload_generation = upload_generation + 1, updated_at = $3 WHERE id = $1`, [id, change.hashError, at]);
                        return true;
                    case 'hashable':
                        await sql.run("UPDATE binaries SET state = 'hashable', hash_error = NULL, updated_at = $2 WHERE id = $1", [id, at]);
                        return true;
                    case 'signable':
                        return ((await sql.run(`UPDATE binaries SET state = 'signable', blob_hash = $2, hash_error = NULL, updated_at = $3
                 WHERE id = $1 AND state = 'hashing' AND upload_generation = $4`, [id, change.blobHash, at, change.generation])) === 1);
                    case 'destroyed':
                        await sql.run("UPDATE binaries SET state = 'destroyed', blob_hash = NULL, updated_at = $2 WHERE id = $1", [id, at]);
                        return true;
                    default:
                        await sql.run('UPDATE binaries SET state = $2, updated_at = $3 WHERE id = $1', [
                            id,
                            change.to,
                            at,
                        ]);
                        return true;
                }
            },
            idsInState: async (state) => (await sql.all('SELECT id FROM binaries WHERE state = $1 ORDER BY updated_at', [
                state,
            ])).map((r) => r.id),
            blobReferenced: (hash) => exists('SELECT 1 FROM binaries WHERE blob_hash = $1', [hash]),
        },
        parts: {
            list: (binaryId) => sql.all('SELECT * FROM binary_parts WHERE binary_id = $1 ORDER BY idx', [binaryId]),
            find: (binaryId, idx) => sql.get('SELECT * FROM binary_parts WHERE binary_id = $1 AND idx = $2', [binaryId, idx]),
            hasAfter: (binaryId, idx) => exists('SELECT 1 FROM binary_parts WHERE binary_id = $1 AND idx > $2', [binaryId, idx]),
            async register(p) {
                const old = await sql.get('SELECT * FROM binary_parts WHERE binary_id = $1 AND idx = $2 FOR UPDATE', [p.binaryId, p.idx]);
                // The stored content stays attached only when the hash is the same (see the interface).
                const row = (await sql.get(`INSERT INTO binary_parts (binary_id, idx, id, org, hash, size, state, inserted_at, updated_at)
           VALUES ($1, $2, $3, $4, $5, $6, 'uploadable', $7, $7)
           ON CONFLICT (binary_id, idx) DO UPDATE SET hash = excluded.hash, size = excluded.size,
             state = 'uploadable', updated_at = excluded.updated_at,
             file = CASE WHEN binary_parts.hash = excluded.hash THEN binary_parts.file END
           RETURNING *`, [p.binaryId, p.idx, p.id, p.org, p.hash, p.size, p.at]));
                const keep = old?.hash === p.hash;
                return { row, replacedFile: !keep && old?.file ? old.file : null };
            },
            async markValid(binaryId, idx, expect, file, at) {
                return ((await sql.run(`UPDATE binary_parts SET state = 'valid', file = $3, updated_at = $4
             WHERE binary_id = $1 AND idx = $2 AND hash = $5 AND size = $6
             AND (SELECT state FROM binaries WHERE id = $1) = 'uploadable'`, [binaryId, idx, file, at, expect.hash, expect.size])) === 1);
            },
            async markRejected(binaryId, idx, expect, state, at) {
                return ((await sql.run(`UPDATE binary_parts SET state = $3, updated_at = $4
             WHERE binary_id = $1 AND idx = $2 AND hash = $5 AND size = $6 AND state <> 'valid'
             AND (SELECT state FROM binaries WHERE id = $1) = 'uploadable'`, [binaryId, idx, state, at, expect.hash, expect.size])) === 1);
            },
            async deleteAll(binaryId) {
                const rows = await sql.all('DELETE FROM binary_parts WHERE binary_id = $1 RETURNING idx, file', [binaryId]);
                return rows.sort((a, b) => a.idx - b.idx).flatMap((r) => (r.file ? [r.file] : []));
            },
        },
        signingKeys: {
            ...table(sql, 'signing_keys'),
            findByKeyid: (org, keyid) => sql.get('SELECT * FROM signing_keys WHERE org = $1 AND keyid = $2', [org, keyid]),
            findByKeyidPrefix: (org, prefix) => sql.get('SELECT * FROM signing_keys WHERE org = $1 AND substr(keyid, 1, 16) = $2 ORDER BY seq LIMIT 1', [org, prefix]),
            keyidTaken: (org, keyid, exceptId = '') => exists('SELECT 1 FROM signing_keys WHERE org = $1 AND keyid = $2 AND id <> $3', [
                org,
                keyid,
                exceptId,
            ]),
            inUse: (id) => exists('SELECT 1 FROM binary_signatures WHERE signing_key_id = $1', [id]),
            soleSignerOf: async (id) => (await sql.all(`SELECT b.id FROM binaries b JOIN binary_signatures s ON s.binary_id = b.id
             WHERE s.signing_key_id = $1 AND b.state = 'signed'
               AND (SELECT count(*) FROM binary_signatures o WHERE o.binary_id = b.id) = 1
             ORDER BY b.seq`, [id])).map((r) => r.id),
        },
        signatures: {
            ...table(sql, 'binary_signatures'),
            findByKey: (binaryId, keyId) => sql.get('SELECT * FROM binary_signatures WHERE binary_id = $1 AND signing_key_id = $2', [binaryId, keyId]),
            forBinary: (binaryId) => sql.all(`SELECT s.signature, s.signing_key_id, k.keyid, k.value FROM binary_signatures s
           JOIN signing_keys k ON k.id = s.signing_key_id WHERE s.binary_id = $1 ORDER BY s.seq`, [binaryId]),
            deleteByKey: async (keyId) => {
                await sql.run('DELETE FROM binary_signatures WHERE signing_key_id = $1', [keyId]);
            },
            async forBinaries(binaryIds) {
                const out = new Map(binaryIds.map((id) => [id, []]));
                if (binaryIds.length === 0)
                    return out;
                const rows = await sql.all(`SELECT s.binary_id, s.signature, s.signing_key_id, k.keyid, k.value FROM binary_signatures s
           JOIN signing_keys k ON k.id = s.signing_key_id WHERE s.binary_id = ANY($1) ORDER BY s.seq`, [binaryIds]);
                for (const { binary_id, ...sig } of rows)
                    out.get(binary_id)?.push(sig);
                return out;
            },
            count: async (binaryId) => (await sql.get('SELECT count(*)::int AS n FROM binary_signatures WHERE binary_id = $1', [binaryId])).n,
        },
        contentGarbage: {
            add: async (item, at) => (await sql.get('INSERT INTO content_garbage (item, inserted_at) VALUES ($1, $2) RETURNING id', [JSON.stringify(item), at])).id,
            pending: async () => (await sql.all('SELECT id, item FROM content_garbage ORDER BY id')).map((r) => ({
                id: r.id,
                item: JSON.parse(r.item),
            })),
            async done(id) {
                await sql.run('DELETE FROM content_garbage WHERE id = $1', [id]);
            },
        },
        leases: {
            // One statement: of two instances claiming at once, the unique key lets exactly one insert or update.
            claim: async (key, owner, ttlMs) => (await sql.run(`INSERT INTO leases (key, owner, expires_at) VALUES ($1, $2, now() + $3 * interval '1 millisecond')
           ON CONFLICT (key) DO UPDATE SET owner = excluded.owner, expires_at = excluded.expires_at
           WHERE leases.expires_at < now() OR leases.owner = excluded.owner`, [key, owner, ttlMs])) === 1,
            async release(key, owner) {
                await sql.run('DELETE FROM leases WHERE key = $1 AND owner = $2', [key, owner]);
            },
        },
        multipartUploads: {
            get: async (binaryId, generation) => (await sql.get('SELECT upload_id FROM multipart_uploads WHERE binary_id = $1 AND generation = $2', [binaryId, generation]))?.upload_id,
            async setIfAbsent(binaryId, generation, uploadId, at) {
                await sql.run(`INSERT INTO multipart_uploads (binary_id, generation, upload_id, inserted_at) VALUES ($1, $2, $3, $4)
           ON CONFLICT (binary_id, generation) DO NOTHING`, [binaryId, generation, uploadId, at]);
                return (await sql.get('SELECT upload_id FROM multipart_uploads WHERE binary_id = $1 AND generation = $2', [binaryId, generation])).upload_id;
            },
            async delete(binaryId, generation) {
                await sql.run('DELETE FROM multipart_uploads WHERE binary_id = $1 AND generation = $2', [
                    binaryId,
                    generation,
                ]);
            },
        },
    };
}


/***/ }),

/***/ 8078:
/***/ ((__unused_webpack_module, exports, __webpack_require__) => {


Object.defineProperty(exports, "__esModule", ({ value: true }));
exports.releaseOf = exports.eventOf = exports.overrideDeviceOf = exports.overrideOf = exports.signatureOf = exports.cohortOf = exports.productOf = exports.SEARCH = void 0;
exports.deviceOf = deviceOf;
exports.eventFilters = eventFilters;
exports.isUnique = isUnique;
const event_names_js_1 = __webpack_require__(6708);
const http_js_1 = __webpack_require__(7969);
const prn_js_1 = __webpack_require__(6864);
const search_js_1 = __webpack_require__(7389);
const store_js_1 = __webpack_require__(5554);
const text = (column, ops) => ({ field: (0, search_js_1.stringField)(ops), column });
const date = (column) => ({ field: (0, search_js_1.dateField)(), column });
// core's PRN parser knows the binary side's PRN types only, so a PRN here is compared as the text the
// column's id makes (ids and org are stored lowercase, as PRNs are written).
const idField = (column, type) => text(`('prn:1:' || t.org || ':${type}:' || ${column})`);
const textPrn = (column) => text(column);
const SEARCHABLE = {
    products: {
        // Bare `archived:true` / `archived:false`, compared as text since the search language has no boolean kind.
        archived: text("(CASE WHEN t.archived THEN 'true' ELSE 'false' END)"),
        inserted_at: date('t.inserted_at'),
        name: text('t.name', [':', '~']),
        prn: idField('t.id', 'product'),
        updated_at: date('t.updated_at'),
    },
    cohorts: {
        description: text('t.description', [':', '~']),
        inserted_at: date('t.inserted_at'),
        name: text('t.name', [':', '~', '-']),
        prn: idField('t.id', 'cohort'),
        product_prn: idField('t.product_id', 'product'),
        updated_at: date('t.updated_at'),
    },
    devices: {
        cohort_prn: idField('t.cohort_id', 'cohort'),
        description: text('t.description', [':', '~']),
        identifier: text('t.identifier', [':', '~']),
        inserted_at: date('t.inserted_at'),
        last_connected_at: date('t.last_connected_at'),
        prn: idField('t.id', 'device'),
        product_prn: idField('t.product_id', 'product'),
        reported_bundle_prn: textPrn('t.reported_bundle_prn'),
        reported_release_prn: textPrn('t.reported_release_prn'),
        reported_release_version: text('t.reported_release_version', [':', '~']),
        target: text('t.target', [':', '~']),
        updated_at: date('t.updated_at'),
    },
    bundles: {
        inserted_at: date('t.inserted_at'),
        name: text('t.name', [':', '~', '-']),
        prn: idField('t.id', 'bundle'),
        updated_at: date('t.updated_at'),
    },
    bundle_signatures: {
        bundle_prn: idField('t.bundle_id', 'bundle'),
        inserted_at: date('t.inserted_at'),
        prn: idField('t.id', 'bundle_signature'),
        signing_key_prn: idField('t.signing_key_id', 'signing_key'),
        updated_at: date('t.updated_at'),
    },
    releases: {
        cohort_prn: idField('t.cohort_id', 'cohort'),
        // Deleted releases are gone here, so `deleted_at` matches nothing but is accepted, as the spec lists it.
        deleted_at: date('NULL'),
        description: text('t.description', [':', '~']),
        inserted_at: date('t.inserted_at'),
        name: text('t.name', [':', '~']),
        next_release_prn: idField('t.next_release_id', 'release'),
        prn: idField('t.id', 'release'),
        updated_at: date('t.updated_at'),
        version: text('t.version', [':', '-']),
        version_requirement: text('t.version_requirement', [':', '-']),
    },
    bundle_overrides: {
        bundle_prn: idField('t.bundle_id', 'bundle'),
        inserted_at: date('t.inserted_at'),
        name: text('t.name', [':', '~', '-']),
        prn: idField('t.id', 'bundle_override'),
        updated_at: date('t.updated_at'),
    },
    bundle_override_devices: {},
    events: {},
};
/** Per table: the fields the search language accepts, and their SQL columns. */
exports.SEARCH = Object.fromEntries(Object.entries(SEARCHABLE).map(([table, entries]) => [
    table,
    {
        fields: Object.fromEntries(Object.entries(entries).map(([k, v]) => [k, v.field])),
        columns: Object.fromEntries(Object.entries(entries).map(([k, v]) => [k, v.column])),
    },
]));
// SQLite keeps flags as 0/1, PostgreSQL as BOOLEAN.
const bool = (v) => v === 1 || v === 1n || v === true;
const json = (v) => (v === null || v === undefined ? null : JSON.parse(v));
/**
 * A row → record conversion: bookkeeping columns dropped, flags as booleans, JSON columns parsed. Built
 * once per record type: an update check converts every release of the cohort, and looking each column's
 * kind up in arrays per row was the largest part of its cost.
 */
function recordOf(opts = {}) {
    const kinds = new Map([
        ...(opts.bools ?? []).map((k) => [k, 'bool']),
        ...(opts.jsons ?? []).map((k) => [k, 'json']),
        ...(opts.numbers ?? []).map((k) => [k, 'number']),
    ]);
    return (r) => {
        const out = {};
        for (const key in r) {
            // Bookkeeping: the insertion order, the organization, a counter, and (PostgreSQL) the inserting transaction.
            if (key === 'seq' || key === 'org' || key === 'claims' || key === 'xid')
                continue;
            const value = r[key];
            const kind = kinds.get(key);
            if (kind === 'bool')
                out[key] = bool(value);
            else if (kind === 'json')
                out[key] = json(value);
            else if (kind === 'number')
                out[key] = Number(value);
            else
                out[key] = typeof value === 'bigint' ? Number(value) : value;
        }
        return out;
    };
}
exports.productOf = recordOf({ bools: ['archived'] });
exports.cohortOf = recordOf();
exports.signatureOf = recordOf();
exports.overrideOf = recordOf();
exports.overrideDeviceOf = recordOf();
exports.eventOf = recordOf({ jsons: ['data'] });
exports.releaseOf = recordOf({
    bools: ['required', 'disabled'],
    jsons: ['phase_tags'],
    numbers: ['phase_value'],
});
const deviceFields = recordOf({
    bools: ['quarantined'],
    jsons: ['tags'],
});
function deviceOf(r) {
    const { reported_release_prn, reported_bundle_prn, reported_release_version, ...rest } = deviceFields(r);
    return {
        ...rest,
        reported: {
            release_prn: reported_release_prn ?? null,
            bundle_prn: reported_bundle_prn ?? null,
            release_version: reported_release_version ?? null,
        },
    };
}
// The audit trail's extension types and subtypes (audit/event-names.ts) filter too.
const EVENT_TYPES = [...new Set(['device', 'webhook', 'api_key', ...event_names_js_1.AUDIT_EVENT_TYPES])];
const EVENT_SUBTYPES = [
    ...new Set([
        'release_changed',
        'claimed_release',
        'checked_for_release',
        'connected',
        'disconnected',
        'updated',
        'authentication_failed',
        'created',
        'request_failed',
        'test_fire',
        ...event_names_js_1.AUDIT_EVENT_SUBTYPES,
    ]),
];
const DATE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?Z$/;
/**
 * The event list's filters (`type`, `subtype`, `resource_prn`, `actor_prn`, `inserted_at_lt`,
 * `inserted_at_gte`), validated: each a column of alias `t`, an operator and the value to compare with.
 */
function eventFilters(query) {
    const out = [];
    const type = query.get('type');
    if (type !== null) {
        if (!EVENT_TYPES.includes(type))
            throw (0, http_js_1.fieldError)('type', `must be one of ${EVENT_TYPES.join(', ')}`);
        out.push({ column: 't.type', op: '=', value: type });
    }
    const subtype = query.get('subtype');
    if (subtype !== null) {
        if (!EVENT_SUBTYPES.includes(subtype))
            throw (0, http_js_1.fieldError)('subtype', `must be one of ${EVENT_SUBTYPES.join(', ')}`);
        out.push({ column: 't.subtype', op: '=', value: subtype });
    }
    for (const key of ['resource_prn', 'actor_prn']) {
        const value = query.get(key);
        if (value === null)
            continue;
        if (!(0, prn_js_1.splitPrn)(value))
            throw (0, http_js_1.fieldError)(key, 'is invalid: must be a PRN');
        out.push({ column: `t.${key}`, op: '=', value });
    }
    for (const [key, op] of [
        ['inserted_at_lt', '<'],
        ['inserted_at_gte', '>='],
    ]) {
        const value = query.get(key);
        if (value === null)
            continue;
        if (!DATE.test(value))
            throw (0, http_js_1.fieldError)(key, "is invalid: must be a date-time like '2026-01-01T00:00:00Z'");
        // Stored timestamps carry microseconds: pad the given fraction so text comparison is time comparison.
        const padded = value.replace(/(\.\d+)?Z$/, (m, f) => `${(f ?? '.').padEnd(7, '0')}Z`);
        out.push({ column: 't.inserted_at', op, value: padded });
    }
    if (query.get('search'))
        throw (0, http_js_1.fieldError)('search', 'is not supported on events: use the type, subtype, resource_prn, actor_prn and inserted_at_* filters');
    return out;
}
/** Both databases' unique-constraint failures arrive as a UniqueViolation (database.ts, pg/connection.ts). */
function isUnique(err) {
    return err instanceof store_js_1.UniqueViolation;
}


/***/ }),

/***/ 2938:
/***/ ((__unused_webpack_module, exports) => {


Object.defineProperty(exports, "__esModule", ({ value: true }));
exports.TakenError = void 0;
/** A unique field that is already taken, e.g. a product name or a device identifier. */
class TakenError extends Error {
    field;
    constructor(field) {
        super(`${field} has already been taken`);
        this.field = field;
    }
}
exports.TakenError = TakenError;


/***/ }),

/***/ 4936:
/***/ ((__unused_webpack_module, exports, __webpack_require__) => {


Object.defineProperty(exports, "__esModule", ({ value: true }));
exports.SqliteAccessStore = void 0;
const node_crypto_1 = __webpack_require__(7598);
const time_js_1 = __webpack_require__(7360);
const list_js_1 = __webpack_require__(6046);
const release_rows_js_1 = __webpack_require__(8078);
const apiKeyOf = (r) => ({
    id: r.id,
    name: r.name,
    role: r.role,
    hash: r.hash,
    expires_at: r.expires_at ?? null,
    revoked_at: r.revoked_at ?? null,
    inserted_at: r.inserted_at,
    updated_at: r.updated_at,
});
const webhookOf = (r) => ({
    id: r.id,
    url: r.url,
    description: r.description ?? null,
    enabled_events: JSON.parse(r.enabled_events),
    state: r.state,
    secret: r.secret,
    previous_secret: r.previous_secret ?? null,
    previous_secret_expires_at: r.previous_secret_expires_at ?? null,
    inserted_at: r.inserted_at,
    updated_at: r.updated_at,
});
const deliveryOf = (r) => ({
    seq: Number(r.seq),
    webhook_id: r.webhook_id,
    event_id: r.event_id,
    event: {
        ...(0, release_rows_js_1.eventOf)({
            id: r.event_id,
            type: r.type,
            subtype: r.subtype,
            resource_prn: r.resource_prn,
            actor_prn: r.actor_prn,
            data: r.data,
            inserted_at: r.inserted_at,
        }),
        seq: Number(r.event_seq),
    },
    attempts: Number(r.attempts),
    next_attempt_at: Number(r.next_attempt_at),
    first_queued_at: Number(r.first_queued_at),
});
const WEBHOOK_COLUMNS = [
    'url',
    'description',
    'enabled_events',
    'state',
    'secret',
    'previous_secret',
    'previous_secret_expires_at',
    'updated_at',
];
/** AccessStore over the registry's node:sqlite database; SqliteStore runs each call under its lock. */
class SqliteAccessStore {
    db;
    org;
    constructor(db, org) {
        this.db = db;
        this.org = org;
    }
    async appendEvents(events) {
        this.db.transaction(() => {
            for (const event of events) {
                this.db.run('INSERT INTO events (id, org, type, subtype, resource_prn, actor_prn, data, inserted_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)', (0, node_crypto_1.randomUUID)(), this.org, event.type, event.subtype, event.resource_prn, event.actor_prn, JSON.stringify(event.data), (0, time_js_1.nowTimestamp)());
            }
        });
    }
    async insertApiKey(row) {
        this.db.run('INSERT INTO api_keys (id, org, name, role, hash, expires_at, revoked_at, inserted_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)', row.id, this.org, row.name, row.role, row.hash, row.expires_at, row.revoked_at, row.inserted_at, row.updated_at);
        return (await this.getApiKey(row.id));
    }
    async getApiKey(id) {
        const r = this.db.get('SELECT * FROM api_keys WHERE id = ? AND org = ?', id, this.org);
        return r && apiKeyOf(r);
    }
    async pageApiKeys(query) {
        const page = (0, list_js_1.listTable)(this.db, 'api_keys', { ...query, org: this.org });
        return { rows: page.rows.map((r) => ({ ...apiKeyOf(r), seq: Number(r.seq) })), more: page.more };
    }
    async revokeApiKey(id, at) {
        this.db.run('UPDATE api_keys SET revoked_at = COALESCE(revoked_at, ?), updated_at = ? WHERE id = ? AND org = ?', at, at, id, this.org);
        return this.getApiKey(id);
    }
    async insertWebhook(row) {
        return this.db.transaction(() => this.insertWebhookNow(row));
    }
    insertWebhookNow(row) {
        // While no webhook exists the fan-out sleeps; the first one starts from the newest event.
        if (!this.db.get('SELECT 1 FROM webhooks WHERE org = ?', this.org)) {
            this.db.run('INSERT INTO webhook_cursor (org, last_seq) VALUES (?, (SELECT COALESCE(MAX(seq), 0) FROM events WHERE org = ?)) ON CONFLICT (org) DO UPDATE SET last_seq = excluded.last_seq', this.org, this.org);
        }
        this.db.run('INSERT INTO webhooks (id, org, url, description, enabled_events, state, secret, previous_secret, previous_secret_expires_at, inserted_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)', row.id, this.org, row.url, row.description, JSON.stringify(row.enabled_events), row.state, row.secret, row.previous_secret, row.previous_secret_expires_at, row.inserted_at, row.updated_at);
        return webhookOf(this.db.get('SELECT * FROM webhooks WHERE id = ?', row.id));
    }
    async getWebhook(id) {
        const r = this.db.get('SELECT * FROM webhooks WHERE id = ? AND org = ?', id, this.org);
        return r && webhookOf(r);
    }
    async listWebhooks() {
        return this.allWebhooks();
    }
    allWebhooks() {
        return this.db.all('SELECT * FROM webhooks WHERE org = ? ORDER BY seq', this.org).map(webhookOf);
    }
    async pageWebhooks(query) {
        const page = (0, list_js_1.listTable)(this.db, 'webhooks', { ...query, org: this.org });
        return { rows: page.rows.map((r) => ({ ...webhookOf(r), seq: Number(r.seq) })), more: page.more };
    }
    async updateWebhook(id, patch) {
        const sets = [];
        const params = [];
        for (const column of WEBHOOK_COLUMNS) {
            if (patch[column] === undefined)
                continue;
            sets.push(`${column} = ?`);
            const value = patch[column];
            params.push(column === 'enabled_events' ? JSON.stringify(value) : value);
        }
        this.db.run(`UPDATE webhooks SET ${sets.join(', ')} WHERE id = ? AND org = ?`, ...params, id, this.org);
        return (await this.getWebhook(id));
    }
    async deleteWebhook(id) {
        return this.db.transaction(() => {
            this.db.run('DELETE FROM webhook_deliveries WHERE webhook_id = ? AND org = ?', id, this.org);
            return this.db.run('DELETE FROM webhooks WHERE id = ? AND org = ?', id, this.org).changes > 0;
        });
    }
    async fanOut(limit, route) {
        return this.db.transaction(() => {
            let cursor = this.db.get('SELECT last_seq FROM webhook_cursor WHERE org = ?', this.org)?.last_seq;
            if (cursor === undefined) {
                // The first fan-out starts now: webhooks are told about what happens after they exist.
                cursor = Number(this.db.get('SELECT MAX(seq) AS s FROM events WHERE org = ?', this.org)?.s ??
                    0);
                this.db.run('INSERT INTO webhook_cursor (org, last_seq) VALUES (?, ?)', this.org, cursor);
            }
            const rows = this.db.all('SELECT * FROM events WHERE org = ? AND seq > ? ORDER BY seq LIMIT ?', this.org, cursor, limit);
            if (rows.length === 0)
                return 0;
            const events = rows.map((r) => ({ ...(0, release_rows_js_1.eventOf)(r), seq: Number(r.seq) }));
            for (const d of route(events, this.allWebhooks())) {
                this.db.run('INSERT INTO webhook_deliveries (org, webhook_id, event_id, attempts, next_attempt_at, first_queued_at) VALUES (?, ?, ?, 0, ?, ?)', this.org, d.webhook_id, d.event_id, d.next_attempt_at, d.first_queued_at);
            }
            this.db.run('UPDATE webhook_cursor SET last_seq = ? WHERE org = ?', events[events.length - 1].seq, this.org);
            return events.length;
        });
    }
    async heads(webhookId) {
        return this.db
            .all(`SELECT d.seq, d.webhook_id, d.event_id, d.attempts, d.next_attempt_at, d.first_queued_at,
                e.seq AS event_seq, e.type, e.subtype, e.resource_prn, e.actor_prn, e.data, e.inserted_at
         FROM webhook_deliveries d
         JOIN (SELECT webhook_id, MIN(seq) AS seq FROM webhook_deliveries
               WHERE org = ? AND (? IS NULL OR webhook_id = ?) GROUP BY webhook_id) h
           ON d.seq = h.seq
         JOIN events e ON e.id = d.event_id`, this.org, webhookId ?? null, webhookId ?? null)
            .map(deliveryOf);
    }
    async deliveryDone(seq) {
        this.db.run('DELETE FROM webhook_deliveries WHERE seq = ? AND org = ?', seq, this.org);
    }
    async deliveryRetry(seq, attempts, nextAttemptAt) {
        this.db.run('UPDATE webhook_deliveries SET attempts = ?, next_attempt_at = ? WHERE seq = ? AND org = ?', attempts, nextAttemptAt, seq, this.org);
    }
    async pendingCount(webhookId) {
        const r = webhookId === undefined
            ? this.db.get('SELECT COUNT(*) AS n FROM webhook_deliveries WHERE org = ?', this.org)
            : this.db.get('SELECT COUNT(*) AS n FROM webhook_deliveries WHERE org = ? AND webhook_id = ?', this.org, webhookId);
        return Number(r?.n ?? 0);
    }
}
exports.SqliteAccessStore = SqliteAccessStore;


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
exports.listFiltered = listFiltered;
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
    api_keys: {
        inserted_at: 't.inserted_at',
        name: 't.name',
        role: 't.role',
        updated_at: 't.updated_at',
    },
    webhooks: {
        description: 't.description',
        inserted_at: 't.inserted_at',
        state: 't.state',
        updated_at: 't.updated_at',
        url: 't.url',
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
    return listFiltered(db, table, exports.COLUMNS[table], query);
}
/** listTable over any table with a `seq` and an `org`, its search columns, and an optional fixed scope. */
function listFiltered(db, table, columns, query, scope = { sql: '1', params: [] }) {
    const conditions = [scope, ...query.filters.map((f) => condition(f, columns))];
    const where = conditions.map((c) => `(${c.sql})`).join(' AND ');
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
    `
  CREATE TABLE leases (
    key TEXT PRIMARY KEY,
    owner TEXT NOT NULL,
    expires_at INTEGER NOT NULL
  );
  `,
    `
  CREATE TABLE multipart_uploads (
    binary_id TEXT NOT NULL,
    generation INTEGER NOT NULL,
    upload_id TEXT NOT NULL,
    inserted_at TEXT NOT NULL,
    PRIMARY KEY (binary_id, generation)
  );
  `,
    `
  -- What ensureBinary searches by (version and target), in listing order; the partial unique index cannot
  -- serve a search that does not name the state.
  CREATE INDEX binaries_version_target ON binaries (artifact_version_id, target, seq);
  `,
    // release management (docs/release-management.md). Only new tables: binaries and their content stay.
    `
  CREATE TABLE products (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    org TEXT NOT NULL,
    name TEXT NOT NULL,
    archived INTEGER NOT NULL DEFAULT 0,
    inserted_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    UNIQUE (org, name)
  );

  CREATE TABLE cohorts (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    org TEXT NOT NULL,
    product_id TEXT NOT NULL REFERENCES products (id),
    name TEXT NOT NULL,
    description TEXT,
    inserted_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
  );

  CREATE TABLE devices (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    org TEXT NOT NULL,
    product_id TEXT NOT NULL REFERENCES products (id),
    cohort_id TEXT REFERENCES cohorts (id),
    identifier TEXT NOT NULL,
    description TEXT,
    quarantined INTEGER NOT NULL DEFAULT 0,
    tags TEXT,
    target TEXT,
    last_connected_at TEXT,
    reported_bundle_prn TEXT,
    reported_release_prn TEXT,
    reported_release_version TEXT,
    inserted_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    UNIQUE (org, identifier)
  );
  CREATE INDEX devices_cohort ON devices (cohort_id);

  CREATE TABLE bundles (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    org TEXT NOT NULL,
    name TEXT,
    hash TEXT NOT NULL,
    inserted_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
  );

  CREATE TABLE bundle_binaries (
    bundle_id TEXT NOT NULL REFERENCES bundles (id) ON DELETE CASCADE,
    idx INTEGER NOT NULL,
    binary_id TEXT NOT NULL,
    custom_metadata TEXT NOT NULL,
    PRIMARY KEY (bundle_id, idx)
  );
  CREATE INDEX bundle_binaries_binary ON bundle_binaries (binary_id);

  CREATE TABLE bundle_signatures (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    org TEXT NOT NULL,
    bundle_id TEXT NOT NULL REFERENCES bundles (id) ON DELETE CASCADE,
    signing_key_id TEXT NOT NULL,
    keyid TEXT NOT NULL,
    signature TEXT NOT NULL,
    inserted_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    UNIQUE (bundle_id, signing_key_id)
  );

  CREATE TABLE releases (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    org TEXT NOT NULL,
    cohort_id TEXT NOT NULL REFERENCES cohorts (id),
    bundle_id TEXT NOT NULL REFERENCES bundles (id),
    name TEXT NOT NULL,
    description TEXT,
    required INTEGER NOT NULL,
    disabled INTEGER NOT NULL,
    schedule_date TEXT NOT NULL,
    phase_mode TEXT NOT NULL,
    phase_value REAL NOT NULL,
    phase_tags TEXT,
    version TEXT,
    version_requirement TEXT,
    next_release_id TEXT,
    claims INTEGER NOT NULL DEFAULT 0,
    inserted_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
  );
  CREATE INDEX releases_cohort ON releases (cohort_id);
  CREATE INDEX releases_bundle ON releases (bundle_id);

  CREATE TABLE release_claims (
    release_id TEXT NOT NULL REFERENCES releases (id) ON DELETE CASCADE,
    device_id TEXT NOT NULL,
    inserted_at TEXT NOT NULL,
    PRIMARY KEY (release_id, device_id)
  );

  CREATE TABLE bundle_overrides (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    org TEXT NOT NULL,
    bundle_id TEXT NOT NULL REFERENCES bundles (id),
    name TEXT NOT NULL,
    description TEXT,
    starts_at TEXT NOT NULL,
    ends_at TEXT,
    inserted_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
  );

  CREATE TABLE bundle_override_devices (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    org TEXT NOT NULL,
    override_id TEXT NOT NULL REFERENCES bundle_overrides (id) ON DELETE CASCADE,
    device_id TEXT NOT NULL REFERENCES devices (id),
    inserted_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    UNIQUE (override_id, device_id)
  );
  CREATE INDEX bundle_override_devices_device ON bundle_override_devices (device_id);

  CREATE TABLE events (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    org TEXT NOT NULL,
    type TEXT NOT NULL,
    subtype TEXT NOT NULL,
    resource_prn TEXT,
    actor_prn TEXT,
    data TEXT NOT NULL,
    inserted_at TEXT NOT NULL
  );
  CREATE INDEX events_resource ON events (resource_prn);
  `,
    // Access, audit and webhooks (w-audit): scoped API keys, webhooks and their durable delivery queue. Audit
    // events go into the existing events table; the index serves `audit export --since` and actor filters.
    `
  CREATE TABLE api_keys (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    org TEXT NOT NULL,
    name TEXT NOT NULL,
    role TEXT NOT NULL,
    hash TEXT NOT NULL,
    expires_at TEXT,
    revoked_at TEXT,
    inserted_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
  );

  CREATE TABLE webhooks (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    org TEXT NOT NULL,
    url TEXT NOT NULL,
    description TEXT,
    enabled_events TEXT NOT NULL,
    state TEXT NOT NULL,
    secret TEXT NOT NULL,
    previous_secret TEXT,
    previous_secret_expires_at TEXT,
    inserted_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
  );

  CREATE TABLE webhook_deliveries (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    org TEXT NOT NULL,
    webhook_id TEXT NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE,
    event_id TEXT NOT NULL,
    attempts INTEGER NOT NULL,
    next_attempt_at INTEGER NOT NULL,
    first_queued_at INTEGER NOT NULL
  );
  CREATE INDEX webhook_deliveries_head ON webhook_deliveries (org, webhook_id, seq);

  CREATE TABLE webhook_cursor (org TEXT PRIMARY KEY, last_seq INTEGER NOT NULL);

  CREATE INDEX events_inserted_at ON events (org, inserted_at);
  CREATE INDEX events_actor ON events (actor_prn);
  `,
    // The signing-key lookup the actions make on every sign (search by value), indexed so it stays flat.
    `
  CREATE INDEX signing_keys_value ON signing_keys (org, value);
  `,
];


/***/ }),

/***/ 6965:
/***/ ((__unused_webpack_module, exports, __webpack_require__) => {


Object.defineProperty(exports, "__esModule", ({ value: true }));
exports.SqliteReleaseStore = void 0;
const node_crypto_1 = __webpack_require__(7598);
const http_js_1 = __webpack_require__(7969);
const list_js_1 = __webpack_require__(9369);
const phase_js_1 = __webpack_require__(51);
const time_js_1 = __webpack_require__(7360);
const release_store_js_1 = __webpack_require__(2938);
const list_js_2 = __webpack_require__(6046);
const release_rows_js_1 = __webpack_require__(8078);
/** A TEXT column's value (node:sqlite types every column as any SQL value). */
const text = (v) => typeof v === 'string' ? v : typeof v === 'number' || typeof v === 'bigint' ? v.toString() : '';
/** Cohorts whose releases are kept between update checks, per database connection. */
const RELEASE_CACHE_COHORTS = 256;
const releaseCaches = new WeakMap();
class SqliteReleaseStore {
    db;
    org;
    constructor(db, org) {
        this.db = db;
        this.org = org;
    }
    get releaseCache() {
        let cache = releaseCaches.get(this.db);
        if (!cache)
            releaseCaches.set(this.db, (cache = { dataVersion: undefined, byCohort: new Map() }));
        return cache;
    }
    one(table, id) {
        return this.db.get(`SELECT * FROM ${table} WHERE id = ? AND org = ?`, id, this.org);
    }
    async page(query, table, map, scope) {
        const { fields, columns } = release_rows_js_1.SEARCH[table];
        const repo = {
            list: async (q) => (0, list_js_2.listFiltered)(this.db, table, columns, q, scope),
        };
        const page = await (0, list_js_1.listRows)({ org: this.org }, query, repo, fields);
        return { items: page.rows.map(map), next_page: page.next_page };
    }
    // ---- products ----
    async createProduct(input) {
        const id = (0, node_crypto_1.randomUUID)();
        const now = (0, time_js_1.nowTimestamp)();
        try {
            this.db.run('INSERT INTO products (id, org, name, archived, inserted_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)', id, this.org, input.name, input.archived ? 1 : 0, now, now);
        }
        catch (err) {
            if ((0, release_rows_js_1.isUnique)(err))
                throw new release_store_js_1.TakenError('name');
            throw err;
        }
        return (0, release_rows_js_1.productOf)(this.one('products', id));
    }
    async getProduct(id) {
        const r = this.one('products', id);
        return r && (0, release_rows_js_1.productOf)(r);
    }
    async listProducts(query) {
        return this.page(query, 'products', release_rows_js_1.productOf);
    }
    async updateProduct(id, patch) {
        try {
            this.db.run('UPDATE products SET name = coalesce(?, name), archived = coalesce(?, archived), updated_at = ? WHERE id = ? AND org = ?', patch.name ?? null, patch.archived === undefined ? null : patch.archived ? 1 : 0, (0, time_js_1.nowTimestamp)(), id, this.org);
        }
        catch (err) {
            if ((0, release_rows_js_1.isUnique)(err))
                throw new release_store_js_1.TakenError('name');
            throw err;
        }
        return (0, release_rows_js_1.productOf)(this.one('products', id));
    }
    // ---- cohorts ----
    async createCohort(input) {
        const id = (0, node_crypto_1.randomUUID)();
        const now = (0, time_js_1.nowTimestamp)();
        this.db.run('INSERT INTO cohorts (id, org, product_id, name, description, inserted_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)', id, this.org, input.product_id, input.name, input.description, now, now);
        return (0, release_rows_js_1.cohortOf)(this.one('cohorts', id));
    }
    async getCohort(id) {
        const r = this.one('cohorts', id);
        return r && (0, release_rows_js_1.cohortOf)(r);
    }
    async listCohorts(query) {
        return this.page(query, 'cohorts', release_rows_js_1.cohortOf);
    }
    async updateCohort(id, patch) {
        const has = (k) => Object.prototype.hasOwnProperty.call(patch, k);
        this.db.run(`UPDATE cohorts SET name = coalesce(?, name), description = CASE WHEN ? THEN ? ELSE description END,
       updated_at = ? WHERE id = ? AND org = ?`, patch.name ?? null, has('description') ? 1 : 0, patch.description ?? null, (0, time_js_1.nowTimestamp)(), id, this.org);
        return (0, release_rows_js_1.cohortOf)(this.one('cohorts', id));
    }
    // ---- devices ----
    async createDevice(input) {
        const id = (0, node_crypto_1.randomUUID)();
        const now = (0, time_js_1.nowTimestamp)();
        try {
            this.db.run(`INSERT INTO devices (id, org, product_id, cohort_id, identifier, description, quarantined, tags, target,
         inserted_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, id, this.org, input.product_id, input.cohort_id, input.identifier, input.description, input.quarantined ? 1 : 0, input.tags === null ? null : JSON.stringify(input.tags), input.target, now, now);
        }
        catch (err) {
            if ((0, release_rows_js_1.isUnique)(err))
                throw new release_store_js_1.TakenError('identifier');
            throw err;
        }
        return (0, release_rows_js_1.deviceOf)(this.one('devices', id));
    }
    async getDevice(id) {
        const r = this.one('devices', id);
        return r && (0, release_rows_js_1.deviceOf)(r);
    }
    async deviceForCheck(id) {
        const device = await this.getDevice(id);
        return device && { device, overrides: await this.overridesOfDevice(id), catalogVersion: undefined };
    }
    async listDevices(query) {
        return this.page(query, 'devices', release_rows_js_1.deviceOf);
    }
    async updateDevice(id, patch) {
        const current = (0, release_rows_js_1.deviceOf)(this.one('devices', id));
        const next = { ...current, ...patch };
        this.db.run(`UPDATE devices SET cohort_id = ?, description = ?, quarantined = ?, tags = ?, target = ?, updated_at = ?
       WHERE id = ? AND org = ?`, next.cohort_id, next.description, next.quarantined ? 1 : 0, next.tags === null ? null : JSON.stringify(next.tags), next.target, (0, time_js_1.nowTimestamp)(), id, this.org);
        return (0, release_rows_js_1.deviceOf)(this.one('devices', id));
    }
    async reportDeviceState(id, reported, makeEvent) {
        return this.db.transaction(() => {
            const previous = (0, release_rows_js_1.deviceOf)(this.one('devices', id)).reported;
            const now = (0, time_js_1.nowTimestamp)();
            this.db.run(`UPDATE devices SET reported_release_prn = ?, reported_bundle_prn = ?, reported_release_version = ?,
         last_connected_at = ?, updated_at = ? WHERE id = ? AND org = ?`, reported.release_prn, reported.bundle_prn, reported.release_version, now, now, id, this.org);
            const event = makeEvent(previous);
            if (event)
                this.insertEvent(event);
            return { previous, device: (0, release_rows_js_1.deviceOf)(this.one('devices', id)) };
        });
    }
    // ---- bundles ----
    bundleOf(r) {
        const binaries = this.db
            .all('SELECT binary_id, custom_metadata FROM bundle_binaries WHERE bundle_id = ? ORDER BY idx', text(r.id))
            .map((b) => ({
            binary_id: text(b.binary_id),
            custom_metadata: JSON.parse(text(b.custom_metadata)),
        }));
        return {
            id: text(r.id),
            name: r.name === null ? null : text(r.name),
            hash: text(r.hash),
            binaries,
            inserted_at: text(r.inserted_at),
            updated_at: text(r.updated_at),
        };
    }
    async createBundle(input) {
        return this.db.transaction(() => {
            const existing = this.db.get('SELECT * FROM bundles WHERE id = ?', input.id);
            if (existing) {
                if (text(existing.org) !== this.org)
                    throw new release_store_js_1.TakenError('id');
                return { bundle: this.bundleOf(existing), created: false };
            }
            const now = (0, time_js_1.nowTimestamp)();
            this.db.run('INSERT INTO bundles (id, org, name, hash, inserted_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)', input.id, this.org, input.name, input.hash, now, now);
            input.binaries.forEach((b, idx) => this.db.run('INSERT INTO bundle_binaries (bundle_id, idx, binary_id, custom_metadata) VALUES (?, ?, ?, ?)', input.id, idx, b.binary_id, JSON.stringify(b.custom_metadata)));
            return { bundle: this.bundleOf(this.one('bundles', input.id)), created: true };
        });
    }
    async getBundle(id) {
        const r = this.one('bundles', id);
        return r && this.bundleOf(r);
    }
    async listBundles(query) {
        return this.page(query, 'bundles', (r) => this.bundleOf(r));
    }
    async updateBundle(id, patch) {
        this.db.run('UPDATE bundles SET name = ?, updated_at = ? WHERE id = ? AND org = ?', patch.name, (0, time_js_1.nowTimestamp)(), id, this.org);
        return this.bundleOf(this.one('bundles', id));
    }
    async deleteBundle(id) {
        return this.db.transaction(() => {
            const releases = this.db
                .all('SELECT id FROM releases WHERE bundle_id = ? ORDER BY seq', id)
                .map((r) => text(r.id));
            const overrides = this.db
                .all('SELECT id FROM bundle_overrides WHERE bundle_id = ? ORDER BY seq', id)
                .map((r) => text(r.id));
            if (releases.length || overrides.length)
                return { deleted: false, releases, overrides };
            this.db.run('DELETE FROM bundles WHERE id = ? AND org = ?', id, this.org);
            return { deleted: true };
        });
    }
    async releasesUsingBinary(binaryId) {
        return this.db
            .all(`SELECT r.* FROM releases r WHERE r.org = ? AND r.bundle_id IN
         (SELECT bundle_id FROM bundle_binaries WHERE binary_id = ?) ORDER BY r.seq`, this.org, binaryId)
            .map(release_rows_js_1.releaseOf);
    }
    // ---- bundle signatures ----
    async createBundleSignature(input) {
        return this.db.transaction(() => {
            const existing = this.db.get('SELECT * FROM bundle_signatures WHERE bundle_id = ? AND signing_key_id = ?', input.bundle_id, input.signing_key_id);
            if (existing)
                return { signature: (0, release_rows_js_1.signatureOf)(existing), created: false };
            const id = (0, node_crypto_1.randomUUID)();
            const now = (0, time_js_1.nowTimestamp)();
            this.db.run(`INSERT INTO bundle_signatures (id, org, bundle_id, signing_key_id, keyid, signature, inserted_at, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, id, this.org, input.bundle_id, input.signing_key_id, input.keyid, input.signature, now, now);
            return { signature: (0, release_rows_js_1.signatureOf)(this.one('bundle_signatures', id)), created: true };
        });
    }
    async getBundleSignature(id) {
        const r = this.one('bundle_signatures', id);
        return r && (0, release_rows_js_1.signatureOf)(r);
    }
    async listBundleSignatures(query) {
        return this.page(query, 'bundle_signatures', release_rows_js_1.signatureOf);
    }
    async signaturesOfBundle(bundleId) {
        return this.db
            .all('SELECT * FROM bundle_signatures WHERE bundle_id = ? AND org = ? ORDER BY seq', bundleId, this.org)
            .map(release_rows_js_1.signatureOf);
    }
    async deleteBundleSignature(id) {
        return this.db.run('DELETE FROM bundle_signatures WHERE id = ? AND org = ?', id, this.org).changes > 0;
    }
    // ---- releases ----
    async getRelease(id) {
        const r = this.one('releases', id);
        return r && (0, release_rows_js_1.releaseOf)(r);
    }
    async listReleases(query) {
        return this.page(query, 'releases', release_rows_js_1.releaseOf);
    }
    async cohortReleases(cohortId) {
        const cache = this.releaseCache;
        const version = Number(this.db.get('PRAGMA data_version').data_version);
        if (version !== cache.dataVersion) {
            cache.byCohort.clear();
            cache.dataVersion = version;
        }
        const key = `${this.org}/${cohortId}`;
        let releases = cache.byCohort.get(key);
        if (!releases) {
            releases = this.db
                .all('SELECT * FROM releases WHERE cohort_id = ? AND org = ? ORDER BY seq', cohortId, this.org)
                .map((r) => Object.freeze((0, release_rows_js_1.releaseOf)(r)));
            if (cache.byCohort.size >= RELEASE_CACHE_COHORTS)
                cache.byCohort.delete(cache.byCohort.keys().next().value);
            cache.byCohort.set(key, releases);
        }
        return [...releases];
    }
    writeRelease(r, insert) {
        const values = [
            r.cohort_id,
            r.bundle_id,
            r.name,
            r.description,
            r.required ? 1 : 0,
            r.disabled ? 1 : 0,
            r.schedule_date,
            r.phase_mode,
            r.phase_value,
            r.phase_tags === null ? null : JSON.stringify(r.phase_tags),
            r.version,
            r.version_requirement,
            r.next_release_id,
            r.updated_at,
        ];
        if (insert) {
            this.db.run(`INSERT INTO releases (cohort_id, bundle_id, name, description, required, disabled, schedule_date, phase_mode,
         phase_value, phase_tags, version, version_requirement, next_release_id, updated_at, id, org, inserted_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, ...values, r.id, this.org, r.inserted_at);
        }
        else {
            this.db.run(`UPDATE releases SET cohort_id = ?, bundle_id = ?, name = ?, description = ?, required = ?, disabled = ?,
         schedule_date = ?, phase_mode = ?, phase_value = ?, phase_tags = ?, version = ?, version_requirement = ?,
         next_release_id = ?, updated_at = ? WHERE id = ? AND org = ?`, ...values, r.id, this.org);
        }
    }
    async withCohortReleases(cohortId, plan) {
        // Every change of a release record is made here: whatever it changed, committed or not, is re-read.
        this.releaseCache.byCohort.clear();
        // BEGIN IMMEDIATE takes SQLite's write lock before the read, so no other change interleaves.
        return this.db.transaction(() => {
            const releases = this.db
                .all('SELECT * FROM releases WHERE cohort_id = ? AND org = ? ORDER BY seq', cohortId, this.org)
                .map(release_rows_js_1.releaseOf);
            const p = plan(releases);
            if (p.delete !== undefined) {
                for (const link of p.links)
                    this.setNext(link.id, link.next_release_id);
                this.db.run('DELETE FROM releases WHERE id = ? AND org = ?', p.delete, this.org);
                return p.result;
            }
            // A new release goes in before links pointing at it; its own next is part of the record.
            if (p.create)
                this.writeRelease(p.create, true);
            if (p.update)
                this.writeRelease(p.update, false);
            const own = p.create?.id ?? p.update?.id;
            for (const link of p.links)
                if (link.id !== own)
                    this.setNext(link.id, link.next_release_id);
            return p.result;
        });
    }
    setNext(id, next) {
        this.db.run('UPDATE releases SET next_release_id = ?, updated_at = ? WHERE id = ? AND org = ?', next, (0, time_js_1.nowTimestamp)(), id, this.org);
    }
    // ---- overrides ----
    async createOverride(input) {
        const id = (0, node_crypto_1.randomUUID)();
        const now = (0, time_js_1.nowTimestamp)();
        this.db.run(`INSERT INTO bundle_overrides (id, org, bundle_id, name, description, starts_at, ends_at, inserted_at, updated_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`, id, this.org, input.bundle_id, input.name, input.description, input.starts_at, input.ends_at, now, now);
        return (0, release_rows_js_1.overrideOf)(this.one('bundle_overrides', id));
    }
    async getOverride(id) {
        const r = this.one('bundle_overrides', id);
        return r && (0, release_rows_js_1.overrideOf)(r);
    }
    async listOverrides(query) {
        return this.page(query, 'bundle_overrides', release_rows_js_1.overrideOf);
    }
    async updateOverride(id, patch) {
        const next = { ...(0, release_rows_js_1.overrideOf)(this.one('bundle_overrides', id)), ...patch };
        this.db.run(`UPDATE bundle_overrides SET bundle_id = ?, name = ?, description = ?, starts_at = ?, ends_at = ?, updated_at = ?
       WHERE id = ? AND org = ?`, next.bundle_id, next.name, next.description, next.starts_at, next.ends_at, (0, time_js_1.nowTimestamp)(), id, this.org);
        return (0, release_rows_js_1.overrideOf)(this.one('bundle_overrides', id));
    }
    async deleteOverride(id) {
        return this.db.run('DELETE FROM bundle_overrides WHERE id = ? AND org = ?', id, this.org).changes > 0;
    }
    async addOverrideDevice(overrideId, deviceId) {
        return this.db.transaction(() => {
            const existing = this.db.get('SELECT * FROM bundle_override_devices WHERE override_id = ? AND device_id = ?', overrideId, deviceId);
            if (existing)
                return { device: (0, release_rows_js_1.overrideDeviceOf)(existing), created: false };
            const now = (0, time_js_1.nowTimestamp)();
            this.db.run('INSERT INTO bundle_override_devices (org, override_id, device_id, inserted_at, updated_at) VALUES (?, ?, ?, ?, ?)', this.org, overrideId, deviceId, now, now);
            const row = this.db.get('SELECT * FROM bundle_override_devices WHERE override_id = ? AND device_id = ?', overrideId, deviceId);
            return { device: (0, release_rows_js_1.overrideDeviceOf)(row), created: true };
        });
    }
    async listOverrideDevices(overrideId, query) {
        if (query.get('search'))
            throw (0, http_js_1.fieldError)('search', 'is not supported on bundle override devices');
        return this.page(query, 'bundle_override_devices', release_rows_js_1.overrideDeviceOf, {
            sql: 't.override_id = ?',
            params: [overrideId],
        });
    }
    async removeOverrideDevice(overrideId, deviceId) {
        return (this.db.run('DELETE FROM bundle_override_devices WHERE override_id = ? AND device_id = ? AND org = ?', overrideId, deviceId, this.org).changes > 0);
    }
    async overridesOfDevice(deviceId) {
        return this.db
            .all(`SELECT o.* FROM bundle_overrides o JOIN bundle_override_devices d ON d.override_id = o.id
         WHERE d.device_id = ? AND o.org = ? ORDER BY o.seq`, deviceId, this.org)
            .map(release_rows_js_1.overrideOf);
    }
    // ---- phase claims ----
    limitNow(release, limit) {
        if (limit.kind !== 'share')
            return (0, phase_js_1.claimLimit)(limit, 0);
        const n = this.db.get('SELECT count(*) AS n FROM devices WHERE cohort_id = ?', release.cohort_id).n;
        return (0, phase_js_1.claimLimit)(limit, Number(n));
    }
    async claimPhaseSlot(release, deviceId, limit, makeEvent) {
        return this.db.transaction(() => this.claimOne({ release, deviceId, limit, makeEvent }));
    }
    /**
     * Several claims in one transaction (one commit: SQLite's blocks the process for its fsync), in order,
     * each decided exactly as claimPhaseSlot decides it. SqliteStore groups concurrent claims into it.
     */
    async claimPhaseSlots(claims) {
        return this.db.transaction(() => claims.map((claim) => this.claimOne(claim)));
    }
    claimOne({ release, deviceId, limit, makeEvent }) {
        if (this.db.get('SELECT 1 FROM release_claims WHERE release_id = ? AND device_id = ?', release.id, deviceId)) {
            return { admitted: true, claimed: false };
        }
        const max = this.limitNow(release, limit);
        // The conditional increment is the claim: it cannot pass the limit however many checks run at once.
        const taken = this.db.run('UPDATE releases SET claims = claims + 1 WHERE id = ? AND claims < ?', release.id, Number.isFinite(max) ? max : Number.MAX_SAFE_INTEGER);
        if (taken.changes === 0)
            return { admitted: false, claimed: false };
        this.db.run('INSERT INTO release_claims (release_id, device_id, inserted_at) VALUES (?, ?, ?)', release.id, deviceId, (0, time_js_1.nowTimestamp)());
        this.insertEvent(makeEvent());
        return { admitted: true, claimed: true };
    }
    async wouldAdmit(release, deviceId, limit) {
        if (this.db.get('SELECT 1 FROM release_claims WHERE release_id = ? AND device_id = ?', release.id, deviceId))
            return true;
        const claims = Number(this.db.get('SELECT claims FROM releases WHERE id = ?', release.id)?.claims ?? 0);
        return claims < this.limitNow(release, limit);
    }
    // ---- events ----
    insertEvent(event) {
        const id = (0, node_crypto_1.randomUUID)();
        this.db.run('INSERT INTO events (id, org, type, subtype, resource_prn, actor_prn, data, inserted_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)', id, this.org, event.type, event.subtype, event.resource_prn, event.actor_prn, JSON.stringify(event.data), (0, time_js_1.nowTimestamp)());
        return (0, release_rows_js_1.eventOf)(this.one('events', id));
    }
    async appendEvent(event) {
        return this.insertEvent(event);
    }
    async listEvents(query) {
        const filters = (0, release_rows_js_1.eventFilters)(query);
        const where = filters.map((f) => `${f.column} ${f.op} ?`);
        const params = filters.map((f) => f.value);
        return this.page(query, 'events', release_rows_js_1.eventOf, { sql: where.length ? where.join(' AND ') : '1', params });
    }
}
exports.SqliteReleaseStore = SqliteReleaseStore;


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
            // Transactions are serialised (SqliteStore): nothing else can change the row meanwhile.
            lock: async () => undefined,
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
            async forBinaries(binaryIds) {
                const out = new Map(binaryIds.map((id) => [id, []]));
                if (binaryIds.length === 0)
                    return out;
                const rows = db.all(`SELECT s.binary_id, s.signature, s.signing_key_id, k.keyid, k.value FROM binary_signatures s
           JOIN signing_keys k ON k.id = s.signing_key_id
           WHERE s.binary_id IN (${binaryIds.map(() => '?').join(', ')}) ORDER BY s.seq`, ...binaryIds);
                for (const { binary_id, ...sig } of rows)
                    out.get(binary_id)?.push(sig);
                return out;
            },
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
        leases: {
            async claim(key, owner, ttlMs) {
                const now = Date.now();
                return (db.run(`INSERT INTO leases (key, owner, expires_at) VALUES (?, ?, ?)
             ON CONFLICT (key) DO UPDATE SET owner = excluded.owner, expires_at = excluded.expires_at
             WHERE leases.expires_at < ? OR leases.owner = excluded.owner`, key, owner, now + ttlMs, now).changes === 1);
            },
            async release(key, owner) {
                db.run('DELETE FROM leases WHERE key = ? AND owner = ?', key, owner);
            },
        },
        multipartUploads: {
            get: async (binaryId, generation) => db.get('SELECT upload_id FROM multipart_uploads WHERE binary_id = ? AND generation = ?', binaryId, generation)?.upload_id,
            async setIfAbsent(binaryId, generation, uploadId, at) {
                db.run('INSERT OR IGNORE INTO multipart_uploads (binary_id, generation, upload_id, inserted_at) VALUES (?, ?, ?, ?)', binaryId, generation, uploadId, at);
                return db.get('SELECT upload_id FROM multipart_uploads WHERE binary_id = ? AND generation = ?', binaryId, generation).upload_id;
            },
            async delete(binaryId, generation) {
                db.run('DELETE FROM multipart_uploads WHERE binary_id = ? AND generation = ?', binaryId, generation);
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
const group_commit_js_1 = __webpack_require__(4990);
const access_store_js_1 = __webpack_require__(4936);
const database_js_1 = __webpack_require__(9875);
const release_store_js_1 = __webpack_require__(6965);
const repositories_js_1 = __webpack_require__(4794);
/** A table's name as it may be written into SQL (the names come from the schema, this only makes sure). */
function tableName(name) {
    if (!/^[a-z_][a-z0-9_]*$/.test(name))
        throw new Error(`unexpected table name ${JSON.stringify(name)}`);
    return name;
}
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
    leases;
    multipartUploads;
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
        this.leases = locked(this.inner.leases);
        this.multipartUploads = locked(this.inner.multipartUploads);
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
    releaseStore(org) {
        const inner = new release_store_js_1.SqliteReleaseStore(this.db, org);
        const store = this.lockedClass('releaseStore', inner);
        // The update checks' claims share commits (each still decided exactly, in order, in one transaction).
        const claims = new group_commit_js_1.GroupCommit((batch) => this.exclusive(() => inner.claimPhaseSlots(batch)));
        return {
            ...store,
            claimPhaseSlot: (release, deviceId, limit, makeEvent) => {
                this.assertOutsideTransaction('releaseStore().claimPhaseSlot');
                return claims.submit({ release, deviceId, limit, makeEvent });
            },
        };
    }
    accessStore(org) {
        return this.lockedClass('accessStore', new access_store_js_1.SqliteAccessStore(this.db, org));
    }
    /** A class instance's methods (they live on the prototype), each bound and run under the lock. */
    lockedClass(what, inner) {
        const methods = Object.getOwnPropertyNames(Object.getPrototypeOf(inner)).filter((n) => n !== 'constructor');
        return Object.fromEntries(methods.map((name) => [
            name,
            (...args) => {
                this.assertOutsideTransaction(`${what}().${name}`);
                return this.exclusive(() => inner[name].apply(inner, args));
            },
        ]));
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
    /**
     * Every table of the database with its columns and row count: what `migrate` must account for
     * (../copy-records.ts), so a table added by a later schema is never left behind unnoticed.
     */
    describeTables() {
        this.assertOutsideTransaction('describeTables');
        return this.exclusive(async () => this.db
            .all("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
            .map(({ name }) => ({
            name,
            columns: this.db
                .all(`SELECT name FROM pragma_table_info(?)`, name)
                .map((c) => c.name),
            rows: this.db.get(`SELECT count(*) AS n FROM "${tableName(name)}"`).n,
        })));
    }
    /** Up to `limit` rows of a table as stored, in rowid order after `afterRowid` (a page of `migrate`). */
    tablePage(table, afterRowid, limit) {
        this.assertOutsideTransaction('tablePage');
        return this.exclusive(async () => this.db
            .all(`SELECT rowid AS __rowid, * FROM "${tableName(table)}" WHERE rowid > ? ORDER BY rowid LIMIT ?`, afterRowid, limit)
            .map(({ __rowid, ...row }) => ({ rowid: Number(__rowid), row })));
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
exports.UniqueViolation = exports.StoreFeatureMissing = exports.StoreUnavailable = void 0;
/**
 * The database cannot be reached or dropped the connection (a restart, a failover): nothing was changed by
 * the call that raised it, or its transaction was rolled back. Routes answer 503 so clients retry.
 */
class StoreUnavailable extends Error {
    constructor(cause) {
        super(`the database is unavailable: ${cause?.message ?? String(cause)}`, { cause });
    }
}
exports.StoreUnavailable = StoreUnavailable;
/** A store that does not keep some kind of record yet: the request is answered 501 naming what is missing. */
class StoreFeatureMissing extends Error {
}
exports.StoreFeatureMissing = StoreFeatureMissing;
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


/***/ }),

/***/ 1955:
/***/ ((__unused_webpack_module, exports, __webpack_require__) => {


Object.defineProperty(exports, "__esModule", ({ value: true }));
exports.WebhookDispatcher = exports.DEFAULT_DISPATCH = void 0;
exports.retryDelay = retryDelay;
const json_js_1 = __webpack_require__(9140);
const prn_js_1 = __webpack_require__(6864);
const time_js_1 = __webpack_require__(7360);
const post_js_1 = __webpack_require__(4132);
const signature_js_1 = __webpack_require__(5177);
const url_policy_js_1 = __webpack_require__(8412);
exports.DEFAULT_DISPATCH = {
    timeoutMs: 10_000,
    baseDelayMs: 5_000,
    maxDelayMs: 3_600_000,
    giveUpAfterMs: 3 * 24 * 3600 * 1000,
    pollMs: 1_000,
    allowInsecure: false,
};
const MIN_CYCLE_GAP_MS = 100;
/** The event name a webhook subscribes to. */
const eventName = (e) => `${e.type}.${e.subtype}`;
/** Whether a webhook gets this event: test fires go only to their own webhook; failures never go out. */
function wants(webhook, event, org) {
    const name = eventName(event);
    if (name === 'webhook.request_failed')
        return false;
    if (name === 'webhook.test_fire')
        return event.resource_prn === (0, prn_js_1.prn)(org, 'webhook', webhook.id);
    return (webhook.state === 'enabled' &&
        event.inserted_at >= webhook.inserted_at &&
        webhook.enabled_events.includes(name));
}
function retryDelay(attempts, o, random = Math.random) {
    const base = Math.min(o.maxDelayMs, o.baseDelayMs * 2 ** Math.max(0, attempts - 1));
    return Math.round(base * (0.5 + random()));
}
/**
 * Delivers events to webhooks in the background: fans new events out into the durable queue, then sends
 * each webhook's oldest delivery, one at a time per webhook (so in order), retrying with jittered backoff.
 * Nothing here runs inside a request; the API only wakes it. A delivery is deleted only after a 2xx, so a
 * crash at any point re-sends it after restart (at least once; receivers deduplicate on the event prn).
 */
class WebhookDispatcher {
    access;
    events;
    org;
    logger;
    options;
    timer;
    running;
    again = false;
    closed = false;
    inFlight = new Map();
    stopping = new AbortController();
    constructor(access, events, org, logger, options) {
        this.access = access;
        this.events = events;
        this.org = org;
        this.logger = logger;
        this.options = options;
    }
    start() {
        this.wake();
    }
    /** Something happened: look for work soon (coalesced; never awaited by the API). */
    wake() {
        if (this.closed)
            return;
        if (this.running) {
            this.again = true;
            return;
        }
        clearTimeout(this.timer);
        this.running = this.cycle()
            .catch((err) => {
            // A failed cycle (the database unreachable) polls again later: other instances' events and due
            // retries are found by polling alone.
            this.logger.error(`webhooks: ${err.message}`);
            this.pollIn(this.options.pollMs);
        })
            .finally(() => {
            this.running = undefined;
            if (this.again) {
                this.again = false;
                this.wake();
            }
        });
    }
    async cycle() {
        // Wake-ups in a burst share one cycle: fan-out writes one batch instead of one commit per event.
        await new Promise((r) => setTimeout(r, MIN_CYCLE_GAP_MS));
        const webhooks = new Map((await this.access.listWebhooks()).map((w) => [w.id, w]));
        if (webhooks.size === 0) {
            // Nothing to tell (insertWebhook restarts the cursor); polled still, for a webhook made elsewhere.
            this.pollIn(this.options.pollMs);
            return;
        }
        while ((await this.access.fanOut(500, (events, current) => this.route(events, current))) > 0) {
            /* until caught up */
        }
        const now = Date.now();
        let nextDue = now + this.options.pollMs;
        for (const head of await this.access.heads()) {
            if (this.inFlight.has(head.webhook_id))
                continue;
            const webhook = webhooks.get(head.webhook_id);
            if (!webhook)
                continue;
            if (head.next_attempt_at > now) {
                nextDue = Math.min(nextDue, head.next_attempt_at);
                continue;
            }
            const attempt = this.deliverHead(webhook, head).finally(() => {
                this.inFlight.delete(head.webhook_id);
                this.wake();
            });
            this.inFlight.set(head.webhook_id, attempt);
        }
        this.pollIn(nextDue - Date.now());
    }
    pollIn(ms) {
        if (this.closed)
            return;
        clearTimeout(this.timer);
        this.timer = setTimeout(() => this.wake(), Math.max(10, ms));
        this.timer.unref();
    }
    route(events, webhooks) {
        const at = Date.now();
        const out = [];
        for (const event of events) {
            for (const webhook of webhooks) {
                if (!wants(webhook, event, this.org))
                    continue;
                out.push({ webhook_id: webhook.id, event_id: event.id, next_attempt_at: at, first_queued_at: at });
            }
        }
        return out;
    }
    /** One attempt at a webhook's head, under its lease when instances share the store. */
    async deliverHead(webhook, head) {
        const lease = this.options.lease;
        if (!lease)
            return this.attempt(webhook, head);
        const key = `webhook:${webhook.id}`;
        if (!(await lease.leases.claim(key, lease.owner, this.options.timeoutMs + lease.ms)))
            return; // another's
        try {
            // The head as it is now: another instance may have delivered the one read before the claim.
            const [current] = await this.access.heads(webhook.id);
            if (current && current.next_attempt_at <= Date.now())
                await this.attempt(webhook, current);
        }
        finally {
            await lease.leases.release(key, lease.owner);
        }
    }
    async attempt(webhook, d) {
        // The stored webhook as it is now: a roll or URL change since the last cycle applies to this attempt.
        const body = JSON.stringify(envelope(this.org, d.event));
        if (this.closed)
            return;
        const outcome = await this.send((await this.access.getWebhook(webhook.id)) ?? webhook, body);
        if (outcome.ok)
            return this.access.deliveryDone(d.seq);
        if (this.closed)
            return; // not counted: shutting down is not the receiver's failure
        const attempts = d.attempts + 1;
        const next = Date.now() + retryDelay(attempts, this.options);
        const what = outcome.reason === 'response_status' ? `HTTP ${outcome.status}` : outcome.message;
        if (next - d.first_queued_at > this.options.giveUpAfterMs) {
            this.logger.warning(`webhook ${webhook.id}: giving up on event ${d.event_id} after ${attempts} attempts (${what})`);
            await this.access.deliveryDone(d.seq);
            await this.events.appendEvent({
                type: 'webhook',
                subtype: 'request_failed',
                resource_prn: (0, prn_js_1.prn)(this.org, 'webhook', webhook.id),
                actor_prn: null,
                data: {
                    type: outcome.reason,
                    data: {
                        webhook: { prn: (0, prn_js_1.prn)(this.org, 'webhook', webhook.id) },
                        event_prn: (0, prn_js_1.prn)(this.org, 'event', d.event_id),
                        ...(outcome.reason === 'response_status' ? { status: outcome.status } : {}),
                    },
                },
            });
            return;
        }
        this.logger.info(`webhook ${webhook.id}: attempt ${attempts} failed (${what}); retrying in ${next - Date.now()} ms`);
        await this.access.deliveryRetry(d.seq, attempts, next);
    }
    /** One attempt to this webhook's URL, signed at send time with its secrets as given. */
    async send(webhook, body) {
        const problem = (0, url_policy_js_1.webhookUrlProblem)(webhook.url, this.options.allowInsecure);
        if (problem)
            return { ok: false, reason: 'connection_failed', message: `url ${problem}` };
        const publishedAt = (0, time_js_1.nowTimestamp)();
        return (0, post_js_1.postOnce)(webhook.url, body, {
            'peridio-published-at': publishedAt,
            'peridio-signature': (0, signature_js_1.signatureHeader)(webhook, publishedAt, body),
        }, this.options.timeoutMs, this.stopping.signal);
    }
    async close() {
        this.closed = true;
        clearTimeout(this.timer);
        this.stopping.abort();
        await this.running;
        await Promise.all(this.inFlight.values());
    }
}
exports.WebhookDispatcher = WebhookDispatcher;
/** What a receiver gets: Peridio's event envelope (version, prn, type, inserted_at, data{type, data}). */
function envelope(org, event) {
    const { seq: _seq, ...record } = event;
    return (0, json_js_1.eventJson)(org, record);
}


/***/ }),

/***/ 4132:
/***/ ((__unused_webpack_module, exports, __webpack_require__) => {


Object.defineProperty(exports, "__esModule", ({ value: true }));
exports.postOnce = postOnce;
const node_http_1 = __webpack_require__(7067);
const node_https_1 = __webpack_require__(4708);
const url_policy_js_1 = __webpack_require__(8412);
/**
 * One delivery attempt: POST the body with the headers, wait at most `timeoutMs` for the whole answer.
 * 2xx is success. A redirect is never followed (it counts as a failure and is retried), so a receiver
 * cannot send deliveries to another host.
 */
function postOnce(url, body, headers, timeoutMs, signal) {
    return new Promise((resolve) => {
        const target = new URL(url);
        const send = target.protocol === 'https:' ? node_https_1.request : node_http_1.request;
        let settled = false;
        const done = (outcome) => {
            if (settled)
                return;
            settled = true;
            clearTimeout(timer);
            req.destroy();
            resolve(outcome);
        };
        const req = send(target, {
            method: 'POST',
            headers: {
                'content-type': 'application/json',
                'content-length': String(Buffer.byteLength(body)),
                'user-agent': 'peridio-registry-webhooks',
                ...headers,
            },
            lookup: url_policy_js_1.guardedLookup,
        }, (res) => {
            res.resume();
            res.on('end', () => {
                const status = res.statusCode ?? 0;
                done(status >= 200 && status < 300
                    ? { ok: true, status }
                    : { ok: false, reason: 'response_status', status });
            });
            res.on('error', (err) => done({ ok: false, reason: 'connection_failed', message: err.message }));
        });
        const timer = setTimeout(() => done({ ok: false, reason: 'response_timeout', message: `no answer within ${timeoutMs} ms` }), timeoutMs);
        req.on('error', (err) => done({
            ok: false,
            reason: err.code === 'ENOTFOUND' || err.code === 'EAI_AGAIN' || err.code === 'EFORBIDDENADDR'
                ? 'host_resolution_failed'
                : 'connection_failed',
            message: err.message,
        }));
        // Shutdown: the attempt counts as failed and stays queued for the next start.
        signal?.addEventListener('abort', () => done({ ok: false, reason: 'connection_failed', message: 'registry shutting down' }), { once: true });
        req.end(body);
    });
}


/***/ }),

/***/ 7672:
/***/ ((__unused_webpack_module, exports, __webpack_require__) => {


Object.defineProperty(exports, "__esModule", ({ value: true }));
exports.webhookRoutes = webhookRoutes;
const node_crypto_1 = __webpack_require__(7598);
const http_js_1 = __webpack_require__(7969);
const event_names_js_1 = __webpack_require__(6708);
const list_js_1 = __webpack_require__(9369);
const json_js_1 = __webpack_require__(9140);
const prn_js_1 = __webpack_require__(6864);
const search_js_1 = __webpack_require__(7389);
const time_js_1 = __webpack_require__(7360);
const signature_js_1 = __webpack_require__(5177);
const url_policy_js_1 = __webpack_require__(8412);
/** A webhook as the spec shows it; the secret only where a route adds it (create, roll_secret). */
const webhookJson = (org, w) => ({
    description: w.description ?? '',
    enabled_events: w.enabled_events,
    inserted_at: w.inserted_at,
    prn: (0, prn_js_1.prn)(org, 'webhook', w.id),
    state: w.state,
    updated_at: w.updated_at,
    url: w.url,
});
const SEARCH = {
    description: (0, search_js_1.stringField)([':', '~']),
    inserted_at: (0, search_js_1.dateField)(),
    state: (0, search_js_1.stringField)(),
    updated_at: (0, search_js_1.dateField)(),
    url: (0, search_js_1.stringField)([':', '~']),
};
const MAX_TTL_SECONDS = 7 * 24 * 3600;
function eventsInput(value) {
    if (!Array.isArray(value) || value.some((e) => typeof e !== 'string'))
        throw (0, http_js_1.fieldError)('enabled_events', 'is invalid: must be a list of event names');
    const unknown = value.filter((e) => !event_names_js_1.KNOWN_EVENTS.includes(e));
    if (unknown.length > 0)
        throw (0, http_js_1.fieldError)('enabled_events', `is invalid: unknown event ${unknown.map((e) => `'${String(e)}'`).join(', ')}; known: ${event_names_js_1.KNOWN_EVENTS.join(', ')}`);
    return [...new Set(value)];
}
function descriptionInput(value) {
    if (value === undefined || value === null)
        return null;
    if (typeof value !== 'string')
        throw (0, http_js_1.fieldError)('description', 'is invalid: must be a string');
    return value;
}
function webhookRoutes(d) {
    const { access, org } = d;
    const find = async (value) => {
        const w = await access.getWebhook((0, prn_js_1.pathId)(org, value, 'webhook'));
        if (!w)
            throw (0, http_js_1.notFound)();
        return w;
    };
    const checkUrl = (url) => {
        const problem = (0, url_policy_js_1.webhookUrlProblem)(url, d.allowInsecure);
        if (problem)
            throw (0, http_js_1.fieldError)('url', problem);
        return url;
    };
    /** The URL check: a test_fire body sent directly (not recorded), which must get a timely 2xx. */
    const verify = async (w) => {
        const at = (0, time_js_1.nowTimestamp)();
        const body = JSON.stringify({
            data: { type: 'test_fire', data: { webhook_prn: (0, prn_js_1.prn)(org, 'webhook', w.id) } },
            inserted_at: at,
            prn: (0, prn_js_1.prn)(org, 'event', (0, node_crypto_1.randomUUID)()),
            type: 'webhook',
            version: 1,
        });
        const outcome = await d.dispatcher.send(w, body);
        if (!outcome.ok) {
            const why = outcome.reason === 'response_status' ? `answered HTTP ${outcome.status}` : outcome.message;
            throw (0, http_js_1.fieldError)('url', `did not accept the verification request (a webhook.test_fire): ${why}; expected 2xx`);
        }
    };
    return [
        {
            method: 'POST',
            pattern: '/webhooks',
            auth: true,
            async handler({ body }) {
                const input = await body();
                const url = checkUrl(input.url);
                const at = (0, time_js_1.nowTimestamp)();
                const webhook = await access.insertWebhook({
                    id: (0, node_crypto_1.randomUUID)(),
                    url,
                    description: descriptionInput(input.description),
                    enabled_events: input.enabled_events === undefined ? [] : eventsInput(input.enabled_events),
                    // Enabling is a separate step (PATCH state), which checks the URL first.
                    state: 'disabled',
                    secret: (0, signature_js_1.newWebhookSecret)(),
                    previous_secret: null,
                    previous_secret_expires_at: null,
                    inserted_at: at,
                    updated_at: at,
                });
                return { status: 201, body: { webhook: { ...webhookJson(org, webhook), secret: webhook.secret } } };
            },
        },
        {
            method: 'GET',
            pattern: '/webhooks',
            auth: true,
            async handler({ query }) {
                const page = await (0, list_js_1.listRows)({ org }, query, { list: (q) => access.pageWebhooks(q) }, SEARCH);
                return {
                    status: 200,
                    body: { webhooks: page.rows.map((w) => webhookJson(org, w)), next_page: page.next_page },
                };
            },
        },
        {
            method: 'GET',
            pattern: '/webhooks/:prn',
            auth: true,
            async handler({ params }) {
                return { status: 200, body: { webhook: webhookJson(org, await find(params.prn)) } };
            },
        },
        {
            method: 'PATCH',
            pattern: '/webhooks/:prn',
            auth: true,
            async handler({ params, body }) {
                const current = await find(params.prn);
                const input = await body();
                const patch = {};
                if (input.url !== undefined)
                    patch.url = checkUrl(input.url);
                if (input.description !== undefined)
                    patch.description = descriptionInput(input.description);
                if (input.enabled_events !== undefined)
                    patch.enabled_events = eventsInput(input.enabled_events);
                if (input.state !== undefined) {
                    if (input.state !== 'enabled' && input.state !== 'disabled')
                        throw (0, http_js_1.fieldError)('state', 'is invalid: must be enabled or disabled');
                    patch.state = input.state;
                }
                const next = { ...current, ...patch };
                const enabling = next.state === 'enabled' && current.state !== 'enabled';
                if (enabling || (next.state === 'enabled' && next.url !== current.url))
                    await verify(next);
                const updated = await access.updateWebhook(current.id, { ...patch, updated_at: (0, time_js_1.nowTimestamp)() });
                d.dispatcher.wake();
                return { status: 200, body: { webhook: webhookJson(org, updated) } };
            },
        },
        {
            method: 'DELETE',
            pattern: '/webhooks/:prn',
            auth: true,
            async handler({ params }) {
                const w = await find(params.prn);
                await access.deleteWebhook(w.id);
                return { status: 204 };
            },
        },
        {
            method: 'POST',
            pattern: '/webhooks/:prn/roll_secret',
            auth: true,
            async handler({ params, body }) {
                const current = await find(params.prn);
                const ttl = (await body()).webhook_ttl ?? 0;
                if (typeof ttl !== 'number' || !Number.isInteger(ttl) || ttl < 0 || ttl > MAX_TTL_SECONDS)
                    throw (0, http_js_1.fieldError)('webhook_ttl', `is invalid: must be an integer from 0 to ${MAX_TTL_SECONDS} seconds`);
                const updated = await access.updateWebhook(current.id, {
                    secret: (0, signature_js_1.newWebhookSecret)(),
                    previous_secret: ttl > 0 ? current.secret : null,
                    previous_secret_expires_at: ttl > 0 ? new Date(Date.now() + ttl * 1000).toISOString() : null,
                    updated_at: (0, time_js_1.nowTimestamp)(),
                });
                return { status: 200, body: { webhook: { ...webhookJson(org, updated), secret: updated.secret } } };
            },
        },
        {
            method: 'POST',
            pattern: '/webhooks/:prn/test_fire',
            auth: true,
            async handler({ params }) {
                const w = await find(params.prn);
                if (w.state !== 'enabled')
                    throw (0, http_js_1.detailError)(422, 'The webhook must be enabled to test fire it');
                const webhookPrn = (0, prn_js_1.prn)(org, 'webhook', w.id);
                const event = await d.events.appendEvent({
                    type: 'webhook',
                    subtype: 'test_fire',
                    resource_prn: webhookPrn,
                    actor_prn: null,
                    data: { webhook_prn: webhookPrn },
                });
                d.dispatcher.wake();
                const { actor_prn: _a, resource_prn: _r, event_subtype: _s, ...shown } = (0, json_js_1.eventJson)(org, event);
                return { status: 200, body: { event: shown } };
            },
        },
    ];
}


/***/ }),

/***/ 5177:
/***/ ((__unused_webpack_module, exports, __webpack_require__) => {


Object.defineProperty(exports, "__esModule", ({ value: true }));
exports.newWebhookSecret = void 0;
exports.signDelivery = signDelivery;
exports.signatureHeader = signatureHeader;
const node_crypto_1 = __webpack_require__(7598);
/** A new secret: 128 random bits as 32 upper-hex characters, like Peridio's. */
const newWebhookSecret = () => (0, node_crypto_1.randomBytes)(16).toString('hex').toUpperCase();
exports.newWebhookSecret = newWebhookSecret;
/**
 * `peridio-signature` for one secret: upper-hex HMAC-SHA256 keyed with the secret's hex-DECODED bytes (16
 * bytes, not the 32 ASCII characters) over the UTF-8 bytes of `peridio-published-at` immediately followed
 * by the raw body, no separator. Peridio's docs leave the key encoding ambiguous; this is our choice, with
 * the test vector in docs/access-audit-webhooks.md.
 */
function signDelivery(secretHex, publishedAt, body) {
    return (0, node_crypto_1.createHmac)('sha256', Buffer.from(secretHex, 'hex'))
        .update(publishedAt)
        .update(body)
        .digest('hex')
        .toUpperCase();
}
/** Current secret first; while a roll's TTL runs, the old secret's signature follows after a comma. */
function signatureHeader(webhook, publishedAt, body, nowMs = Date.now()) {
    const signatures = [signDelivery(webhook.secret, publishedAt, body)];
    if (webhook.previous_secret &&
        webhook.previous_secret_expires_at &&
        Date.parse(webhook.previous_secret_expires_at) > nowMs) {
        signatures.push(signDelivery(webhook.previous_secret, publishedAt, body));
    }
    return signatures.join(',');
}


/***/ }),

/***/ 8412:
/***/ ((__unused_webpack_module, exports, __webpack_require__) => {


Object.defineProperty(exports, "__esModule", ({ value: true }));
exports.guardedLookup = void 0;
exports.webhookUrlProblem = webhookUrlProblem;
const node_dns_1 = __webpack_require__(610);
const node_net_1 = __webpack_require__(7030);
/**
 * Where deliveries may go. `https://` only unless the registry runs with --allow-insecure-webhooks; never
 * to link-local addresses (cloud metadata services live at 169.254.169.254 and fd00:ec2::254) nor to the
 * unspecified address. The check runs on the address actually connected to (a custom DNS lookup), so a
 * name that resolves somewhere else at delivery time is refused too.
 */
const FORBIDDEN = new node_net_1.BlockList();
FORBIDDEN.addSubnet('169.254.0.0', 16, 'ipv4');
FORBIDDEN.addSubnet('0.0.0.0', 8, 'ipv4');
FORBIDDEN.addSubnet('fe80::', 10, 'ipv6');
FORBIDDEN.addAddress('fd00:ec2::254', 'ipv6');
FORBIDDEN.addAddress('::', 'ipv6');
const MAX_WEBHOOK_URL_CHARS = 1028;
function forbiddenAddress(address) {
    const v4mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
    const ip = v4mapped ? v4mapped[1] : address;
    const family = (0, node_net_1.isIP)(ip);
    if (family === 0)
        return false;
    return FORBIDDEN.check(ip, family === 4 ? 'ipv4' : 'ipv6');
}
/** A message saying what is wrong with the URL, or undefined when it may be used. */
function webhookUrlProblem(value, allowInsecure) {
    if (typeof value !== 'string' || value === '')
        return "can't be blank";
    if (value.length > MAX_WEBHOOK_URL_CHARS)
        return `should be at most ${MAX_WEBHOOK_URL_CHARS} character(s)`;
    let url;
    try {
        url = new URL(value);
    }
    catch {
        return 'is invalid: must be an absolute https:// URL';
    }
    if (url.protocol !== 'https:' && !(allowInsecure && url.protocol === 'http:')) {
        return allowInsecure
            ? 'is invalid: must be an http:// or https:// URL'
            : 'is invalid: must be an https:// URL (start the registry with --allow-insecure-webhooks for http:// in local tests)';
    }
    if (url.username || url.password)
        return 'is invalid: must not carry credentials';
    const host = url.hostname.replace(/^\[|\]$/g, '');
    if (forbiddenAddress(host))
        return 'is invalid: link-local and metadata addresses are not allowed';
    return undefined;
}
/** A DNS lookup for http.request that refuses forbidden addresses. */
const guardedLookup = (hostname, options, callback) => {
    (0, node_dns_1.lookup)(hostname, { ...options, all: true }, (err, addresses) => {
        if (err)
            return callback(err, '', 0);
        const list = addresses;
        const allowed = list.filter((a) => !forbiddenAddress(a.address));
        if (allowed.length === 0) {
            const refused = Object.assign(new Error(`refusing to deliver to ${hostname}: link-local address`), {
                code: 'EFORBIDDENADDR',
            });
            return callback(refused, '', 0);
        }
        if (options.all)
            return callback(null, allowed);
        callback(null, allowed[0].address, allowed[0].family);
    });
};
exports.guardedLookup = guardedLookup;


/***/ })

};
