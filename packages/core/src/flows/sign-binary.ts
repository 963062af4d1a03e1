/**
 * Step 5 of a release: sign the binary's hash with the user's Ed25519 key. The key must be registered in
 * the registry; which registered key it is follows from the private key itself, so the user need not
 * pass its PRN. Nothing is sent before the signature verifies against the registered public key, and a
 * binary this key already signed is a success without any request that changes something.
 */
import { ApiError, ConflictError, InputError, UserError } from '../errors.js';
import { keyIdOf, parsePublicKey, signHash, verifyHashSignature, type Ed25519KeyPair } from '../keys.js';
import { silentLogger, type Logger } from '../logger.js';
import { requirePrn } from '../prn.js';
import { searchQuery } from '../client/search.js';
import type { Binary, BinarySignature, SigningKey } from '../types.js';
import { allItems, findFirst, type SignBinaryApi } from './api.js';
import { waitWhileHashing } from './wait.js';

export interface SignBinaryOptions {
  api: SignBinaryApi;
  binaryPrn: string;
  key: Ed25519KeyPair;
  /** When omitted, the registered key whose public value is the private key's public half. */
  signingKeyPrn?: string;
  /** Already resolved by the caller (publishBinary checks the key before it uploads anything). */
  signingKey?: SigningKey;
  /** The hash the caller uploaded: signing refuses a record that says otherwise. */
  expectedHash?: string;
  /**
   * Where expectedHash came from: `upload` (this process uploaded it; a mismatch means another job) or
   * `input` (the user's `expected-hash`, e.g. the build job's output; a mismatch names that input).
   */
  expectedHashFrom?: 'upload' | 'input';
  /** A binary still `hashing` is waited for this long. */
  hashingTimeoutMs?: number;
  logger?: Logger;
  signal?: AbortSignal;
}

export interface SignBinaryResult {
  binary: Binary;
  signature: string;
  binarySignaturePrn: string;
  signingKey: SigningKey;
  keyid: string;
  /** This run signed nothing: the key had signed the binary before. */
  alreadySigned: boolean;
  /** An earlier run had sent the signature; this one only marked the binary signed. */
  resumed?: boolean;
}

export async function signBinary(options: SignBinaryOptions): Promise<SignBinaryResult> {
  const { api, key } = options;
  const logger = options.logger ?? silentLogger;
  const binaryPrn = requirePrn(options.binaryPrn, 'binary', 'binary-prn');
  const keyid = keyIdOf(key.publicKey);

  const signingKey = options.signingKey ?? (await resolveSigningKey(api, key, options.signingKeyPrn, logger));

  let binary = await getBinary(api, binaryPrn);
  if (options.expectedHash && options.expectedHashFrom === 'input' && binary.hash !== options.expectedHash) {
    throw new InputError(
      'expected-hash',
      `binary ${binaryPrn} (target '${binary.target}') holds sha256 ${binary.hash}, not the expected ` +
        `${options.expectedHash}; refusing to sign content the build did not produce. Nothing was signed. ` +
        `Check that binary-prn and expected-hash come from the same upload job.`,
    );
  }
  if (options.expectedHash && binary.hash !== options.expectedHash) {
    throw new ConflictError(
      `another job is publishing other content for target '${binary.target}' of this artifact version: binary ` +
        `${binaryPrn} now records sha256 ${binary.hash}, not the ${options.expectedHash} this job uploaded. ` +
        `Nothing was signed; check that each job of the matrix publishes its own target.`,
    );
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
    binary = await waitWhileHashing({
      api,
      binaryPrn,
      timeoutMs: options.hashingTimeoutMs,
      logger,
      signal: options.signal,
    });
  }
  if (binary.state === 'destroyed') {
    throw new ConflictError(`binary ${binaryPrn} was destroyed; its content is gone and it cannot be signed`);
  }
  if (binary.state !== 'signable' && binary.state !== 'signed') {
    throw new UserError(
      `binary ${binaryPrn} is ${binary.state}: its upload is not complete and verified yet. ` +
        `Run upload-binary for it first (a re-run resumes the upload).`,
    );
  }
  if (!binary.hash || !/^[0-9a-f]{64}$/.test(binary.hash)) {
    throw new ConflictError(
      `binary ${binaryPrn} has no valid SHA-256 hash to sign (got ${JSON.stringify(binary.hash)})`,
    );
  }

  let signature: string;
  let binarySignaturePrn: string;
  if (existing) {
    // A previous run sent the signature and died before marking the binary signed.
    signature = existing.signature;
    binarySignaturePrn = await findSignaturePrn(api, binaryPrn, signingKey.prn);
  } else {
    signature = signHash(binary.hash, key);
    const registered = parsePublicKey(signingKey.value ?? '', 'signing-key-prn');
    if (!verifyHashSignature(binary.hash, signature, registered)) {
      throw new InputError(
        'signing-key-private',
        `the signature does not verify against the public key registered as ${signingKey.prn}; nothing was sent`,
      );
    }
    const created = await postSignature(api, binary, signature, signingKey);
    signature = created.signature;
    binarySignaturePrn = created.prn;
    logger.info(`Sent signature ${binarySignaturePrn}`);
  }
  binary = await markSigned(api, binaryPrn);
  logger.info(`Binary ${binaryPrn} is ${binary.state}`);
  return {
    binary,
    signature,
    binarySignaturePrn,
    signingKey,
    keyid,
    alreadySigned: false,
    resumed: existing !== undefined,
  };
}

async function getBinary(api: SignBinaryApi, prn: string): Promise<Binary> {
  try {
    return await api.getBinary(prn);
  } catch (err) {
    if (err instanceof ApiError && err.status === 404) {
      throw new InputError('binary-prn', `no binary ${prn} is visible to this API key`);
    }
    throw err;
  }
}

/** The registered signing key of this private key: the given PRN after checking it, else found by public value. */
export async function resolveSigningKey(
  api: Pick<SignBinaryApi, 'getSigningKey' | 'listSigningKeys'>,
  key: Ed25519KeyPair,
  prn: string | undefined,
  logger: Logger = silentLogger,
): Promise<SigningKey> {
  const found = await findSigningKey(api, key, prn);
  logger.info(`Signing key ${found.name} (${found.prn}), keyid ${keyIdOf(key.publicKey)}`);
  return found;
}

async function findSigningKey(
  api: Pick<SignBinaryApi, 'getSigningKey' | 'listSigningKeys'>,
  key: Ed25519KeyPair,
  prn: string | undefined,
): Promise<SigningKey> {
  if (prn) {
    const checked = requirePrn(prn, 'signing_key', 'signing-key-prn');
    let registered: SigningKey;
    try {
      registered = await api.getSigningKey(checked);
    } catch (err) {
      if (err instanceof ApiError && err.status === 404) {
        throw new InputError(
          'signing-key-prn',
          `no signing key ${checked} is registered for this API key's organization`,
        );
      }
      throw err;
    }
    if (!samePublicKey(registered, key)) {
      throw new InputError(
        'signing-key-prn',
        `${checked} is registered with another public key (keyid ${registered.keyid ?? 'unknown'}) than the one of ` +
          `signing-key-private (keyid ${keyIdOf(key.publicKey)}, public value ${key.publicValue}). Pass the PRN of ` +
          `that key, or omit signing-key-prn to find it.`,
      );
    }
    return registered;
  }
  const bySearch = await findFirst(
    (p) => api.listSigningKeys(p),
    { search: searchQuery({ value: key.publicValue }), limit: 100 },
    (k) => samePublicKey(k, key),
  ).catch((err: unknown) => {
    // A registry without `value:` search answers 400/422; the full scan below still finds the key.
    if (err instanceof ApiError && (err.status === 400 || err.status === 422)) return undefined;
    throw err;
  });
  if (bySearch) return bySearch;
  for await (const candidate of allItems((p) => api.listSigningKeys(p), { limit: 100 })) {
    if (samePublicKey(candidate, key)) return candidate;
  }
  // The client knows which registry it asked; a fake API in a unit test may not.
  const registry = (api as { baseUrl?: unknown }).baseUrl;
  throw new InputError(
    'signing-key-private',
    `its public key ${key.publicValue} (keyid ${keyIdOf(key.publicKey)}) is not registered as a signing key` +
      `${typeof registry === 'string' ? ` in the registry at ${registry}` : ''}. ` +
      `Register it first (peridio signing-keys create --value ${key.publicValue} --name <name>), or use the key that is.`,
  );
}

function samePublicKey(registered: SigningKey, key: Ed25519KeyPair): boolean {
  if (registered.keyid && registered.keyid.toLowerCase() === keyIdOf(key.publicKey)) return true;
  if (!registered.value) return false;
  try {
    return Buffer.from(parsePublicKey(registered.value)).equals(Buffer.from(key.publicKey));
  } catch {
    return false;
  }
}

function signatureBy(binary: Binary, signingKey: SigningKey) {
  return (binary.signatures ?? []).find(
    (s) => s.signing_key_prn === signingKey.prn || (!!s.keyid && s.keyid === signingKey.keyid),
  );
}

async function findSignaturePrn(
  api: SignBinaryApi,
  binaryPrn: string,
  signingKeyPrn: string,
): Promise<string> {
  const found = await findFirst(
    (p) => api.listBinarySignatures(p),
    { search: searchQuery({ binary_prn: binaryPrn, signing_key_prn: signingKeyPrn }), limit: 100 },
    (s) => s.binary_prn === binaryPrn && s.signing_key_prn === signingKeyPrn,
  );
  return found?.prn ?? '';
}

/** A lost race with another run of this job leaves the same signature in place: take it. */
async function postSignature(
  api: SignBinaryApi,
  signed: Binary,
  signature: string,
  signingKey: SigningKey,
): Promise<BinarySignature> {
  const binaryPrn = signed.prn;
  try {
    return await api.createBinarySignature({
      binary_prn: binaryPrn,
      signature,
      signing_key_prn: signingKey.prn,
    });
  } catch (err) {
    if (!(err instanceof ApiError) || (err.status !== 409 && err.status !== 422)) throw err;
    // Refused: either another run of this job got there first, or another job reset the record to other
    // content after this one read it. The record tells which.
    const current = await api.getBinary(binaryPrn);
    if (current.hash !== signed.hash) {
      throw new ConflictError(
        `another job is publishing other content for target '${current.target}' of this artifact version: ` +
          `binary ${binaryPrn} now holds sha256 ${current.hash} (state ${current.state}), not the sha256 ` +
          `${signed.hash} this job uploaded and signed. This job stops and leaves the target to the other one; ` +
          `check that each job of the matrix publishes its own target, or publish this file as a new version.`,
        { cause: err },
      );
    }
    const found = await findFirst(
      (p) => api.listBinarySignatures(p),
      { search: searchQuery({ binary_prn: binaryPrn, signing_key_prn: signingKey.prn }), limit: 100 },
      (s) => s.binary_prn === binaryPrn && s.signing_key_prn === signingKey.prn,
    ).catch(() => undefined);
    if (found) return found;
    throw err;
  }
}

/** Peridio's CLI sends this too, although attaching a signature already signs; a 422 from an already signed binary is fine. */
async function markSigned(api: SignBinaryApi, binaryPrn: string): Promise<Binary> {
  try {
    return await api.updateBinary(binaryPrn, { state: 'signed' });
  } catch (err) {
    if (!(err instanceof ApiError) || err.status !== 422) throw err;
    const current = await api.getBinary(binaryPrn);
    if (current.state !== 'signed') throw err;
    return current;
  }
}
