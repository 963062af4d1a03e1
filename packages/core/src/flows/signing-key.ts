/**
 * Finding the registered signing key of a signer: the PRN the user gave, checked against the signer's
 * public key, or the key registered with that public key. The signer is proven first (see proveSigner).
 */
import { ApiError, InputError, notFoundAsInput } from '../errors.js';
import { silentLogger, type Logger } from '../logger.js';
import { requirePrn } from '../prn.js';
import { searchQuery } from '../client/search.js';
import type { Ed25519KeyPair } from '../keys.js';
import { ALGORITHM_NAMES, parseSigningPublicKey } from '../signing/keys.js';
import { asSigner, proveSigner, type Signer } from '../signing/signer.js';
import type { SigningKey } from '../types.js';
import { findFirst, iteratePages } from '../paging.js';
import type { SignBinaryApi } from './api.js';

/** The registered signing key of this private key: the given PRN after checking it, else found by public value. */
export async function resolveSigningKey(
  api: Pick<SignBinaryApi, 'getSigningKey' | 'listSigningKeys'>,
  keyOrPair: Signer | Ed25519KeyPair,
  prn: string | undefined,
  logger: Logger = silentLogger,
): Promise<SigningKey> {
  const key = asSigner(keyOrPair);
  // The check before anything is created: the signer signs a probe that verifies against its own key.
  await proveSigner(key);
  const found = await findSigningKey(api, key, prn);
  logger.info(
    `Signing key ${found.name} (${found.prn}), ${ALGORITHM_NAMES[key.publicKey.algorithm]}, keyid ${key.publicKey.keyid}`,
  );
  return found;
}

async function findSigningKey(
  api: Pick<SignBinaryApi, 'getSigningKey' | 'listSigningKeys'>,
  key: Signer,
  prn: string | undefined,
): Promise<SigningKey> {
  if (prn) {
    const checked = requirePrn(prn, 'signing_key', 'signing-key-prn');
    let registered: SigningKey;
    try {
      registered = await api.getSigningKey(checked);
    } catch (err) {
      throw notFoundAsInput(
        err,
        'signing-key-prn',
        `no signing key ${checked} is registered for this API key's organization`,
      );
    }
    if (!samePublicKey(registered, key)) {
      throw new InputError(
        'signing-key-prn',
        `${checked} is registered with another public key (keyid ${registered.keyid ?? 'unknown'}) than the one of ` +
          `${key.input} (keyid ${key.publicKey.keyid}). Pass the PRN of ` +
          `that key, or omit signing-key-prn to find it.`,
      );
    }
    return registered;
  }
  const bySearch = await findFirst(
    (p) => api.listSigningKeys(p),
    { search: searchQuery({ value: key.publicKey.value }), limit: 100 },
    (k) => samePublicKey(k, key),
  ).catch((err: unknown) => {
    // A registry without `value:` search answers 400/422; the full scan below still finds the key.
    if (err instanceof ApiError && (err.status === 400 || err.status === 422)) return undefined;
    throw err;
  });
  if (bySearch) return bySearch;
  for await (const candidate of iteratePages((p) => api.listSigningKeys(p), { limit: 100 })) {
    if (samePublicKey(candidate, key)) return candidate;
  }
  const value = key.publicKey.algorithm === 'ed25519' ? key.publicKey.value : '"$(cat public.pem)"';
  // The client knows which registry it asked; a fake API in a unit test may not.
  const registry = (api as { baseUrl?: unknown }).baseUrl;
  throw new InputError(
    key.input,
    `the public key of ${key.description} (keyid ${key.publicKey.keyid}) is not registered as a signing key` +
      `${typeof registry === 'string' ? ` in the registry at ${registry}` : ''}. ` +
      `Register it first (peridio signing-keys create --value ${value} --name <name>), or use the key that is.` +
      (key.publicKey.algorithm === 'ed25519'
        ? ''
        : ` ${ALGORITHM_NAMES[key.publicKey.algorithm]} keys need a registry that accepts them (peridio-registry does; Peridio's cloud takes only Ed25519).`),
  );
}

function samePublicKey(registered: SigningKey, key: Signer): boolean {
  if (registered.keyid && registered.keyid.toLowerCase() === key.publicKey.keyid) return true;
  if (!registered.value) return false;
  try {
    return parseSigningPublicKey(registered.value).keyid === key.publicKey.keyid;
  } catch {
    return false;
  }
}
