/**
 * Step 5 of a release: sign the binary's hash with the user's signer (a key from a secret, a PKCS#11 token,
 * an external command). The key must be registered in the registry; which registered key it is follows
 * from the signer's public key, so the user need not pass its PRN. Nothing is sent before the signature verifies against the registered public key, and a
 * binary this key already signed is a success without any request that changes something.
 */
import { ApiError, ConflictError, InputError, notFoundAsInput, UserError } from '../errors.js';
import type { Ed25519KeyPair } from '../keys.js';
import { ALGORITHM_NAMES, parseSigningPublicKey } from '../signing/keys.js';
import { asSigner, type Signer } from '../signing/signer.js';
import { decodeSignature, verifySignature } from '../signing/verify.js';
import { silentLogger, type Logger } from '../logger.js';
import { requirePrn } from '../prn.js';
import { searchQuery } from '../client/search.js';
import type { Binary, BinarySignature, SigningKey } from '../types.js';
import { findFirst } from '../paging.js';
import type { SignBinaryApi } from './api.js';
import { changeOrReread } from './race.js';
import { waitWhileHashing } from './wait.js';
import { resolveSigningKey } from './signing-key.js';

export { resolveSigningKey };

export interface SignBinaryOptions {
  api: SignBinaryApi;
  binaryPrn: string;
  /** A Signer (any key type, token, command) or, as before, an Ed25519 key pair. */
  key: Signer | Ed25519KeyPair;
  /**
   * Add this key's signature to a binary other keys signed already (key rotation). Without it such a
   * binary is refused, so a job with the wrong key does not silently add a signature.
   */
  alsoSign?: boolean;
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
  const { api } = options;
  const key = asSigner(options.key);
  const logger = options.logger ?? silentLogger;
  const binaryPrn = requirePrn(options.binaryPrn, 'binary', 'binary-prn');
  const keyid = key.publicKey.keyid;

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

  const others = (binary.signatures ?? []).filter((s) => s !== existing);
  if (!existing && others.length > 0 && !options.alsoSign) {
    throw new InputError(
      'also-sign',
      `binary ${binaryPrn} is already signed by ${others.map((s) => s.signing_key_prn ?? s.keyid).join(', ')}; ` +
        `set also-sign: true to add a signature by ${signingKey.prn} (key rotation). Nothing was sent.`,
    );
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
    signature = await key.signHash(binary.hash, options.signal);
    const registered = parseSigningPublicKey(signingKey.value ?? '', 'signing-key-prn');
    if (!verifySignature(binary.hash, decodeSignature(signature) ?? Buffer.alloc(0), registered)) {
      throw new InputError(
        key.input,
        `the signature does not verify against the public key registered as ${signingKey.prn}; nothing was sent`,
      );
    }
    const created = await postSignature(api, binary, signature, signingKey).catch((err: unknown) => {
      throw refusedKeyType(err, key);
    });
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
    throw notFoundAsInput(err, 'binary-prn', `no binary ${prn} is visible to this API key`);
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
  // Refused: either another run of this job got there first, or another job reset the record to other
  // content after this one read it. The record tells which.
  return changeOrReread(
    () => api.createBinarySignature({ binary_prn: binaryPrn, signature, signing_key_prn: signingKey.prn }),
    [409, 422],
    () => api.getBinary(binaryPrn),
    async (current, refusal) => {
      if (current.hash !== signed.hash) {
        throw new ConflictError(
          `another job is publishing other content for target '${current.target}' of this artifact version: ` +
            `binary ${binaryPrn} now holds sha256 ${current.hash} (state ${current.state}), not the sha256 ` +
            `${signed.hash} this job uploaded and signed. This job stops and leaves the target to the other one; ` +
            `check that each job of the matrix publishes its own target, or publish this file as a new version.`,
          { cause: refusal },
        );
      }
      return findFirst(
        (p) => api.listBinarySignatures(p),
        { search: searchQuery({ binary_prn: binaryPrn, signing_key_prn: signingKey.prn }), limit: 100 },
        (s) => s.binary_prn === binaryPrn && s.signing_key_prn === signingKey.prn,
      ).catch(() => undefined);
    },
  );
}

/** A registry that knows only Ed25519 (Peridio's cloud) refuses other signatures: say so plainly. */
function refusedKeyType(err: unknown, key: Signer): unknown {
  if (!(err instanceof ApiError) || err.status !== 422 || key.publicKey.algorithm === 'ed25519') return err;
  return new UserError(
    `the registry refused the ${ALGORITHM_NAMES[key.publicKey.algorithm]} signature (${err.message}). ` +
      `Peridio's cloud accepts only Ed25519 signing keys; sign with an Ed25519 key there, or use a registry ` +
      `that accepts ${ALGORITHM_NAMES[key.publicKey.algorithm]} keys (peridio-registry does).`,
    { cause: err },
  );
}

/** Peridio's CLI sends this too, although attaching a signature already signs; a 422 from an already signed binary is fine. */
function markSigned(api: SignBinaryApi, binaryPrn: string): Promise<Binary> {
  return changeOrReread(
    () => api.updateBinary(binaryPrn, { state: 'signed' }),
    [422],
    () => api.getBinary(binaryPrn),
    (current) => (current.state === 'signed' ? current : undefined),
  );
}
