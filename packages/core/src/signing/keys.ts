/**
 * Signing public keys of every type the registry accepts: Ed25519 (Peridio's only type), RSA ≥ 2048 bits
 * and ECDSA P-256 (this registry's documented extension), bare or inside an X.509 certificate chain.
 * Key ids: Ed25519 keeps Peridio's rule (SHA-256 of the raw 32 bytes) so existing keyids stay valid; the
 * others use the SHA-256 of the DER SubjectPublicKeyInfo, which any tool can recompute from the key.
 */
import { createHash, createPublicKey, X509Certificate, type KeyObject } from 'node:crypto';
import { InputError } from '../errors.js';
import { keyIdOf, parsePublicKey, publicKeyValue } from '../keys.js';

export type KeyAlgorithm = 'ed25519' | 'rsa' | 'ecdsa-p256';

export const MIN_RSA_BITS = 2048;

export interface SigningPublicKey {
  algorithm: KeyAlgorithm;
  keyid: string;
  /** The `signing_key.value` to register and search for: raw base64 for Ed25519, a PEM otherwise. */
  value: string;
  /** Ed25519 only: the raw 32 bytes. */
  raw?: Uint8Array;
  /** RSA and ECDSA: the key itself. */
  key?: KeyObject;
  /** Leaf first, when the value was a certificate chain. */
  certificates?: X509Certificate[];
}

const CURVE_NAMES: Record<string, string> = {
  prime256v1: 'P-256',
  secp384r1: 'P-384',
  secp521r1: 'P-521',
  secp256k1: 'secp256k1',
};

/**
 * A public key from `value` text: Ed25519 as raw base64 or SPKI PEM, an RSA/EC SPKI PEM, or one or more
 * PEM certificates (leaf first). Errors name the input and say which types are accepted.
 */
export function parseSigningPublicKey(value: string, inputName = 'value'): SigningPublicKey {
  const text = value.trim();
  if (text.includes('-----BEGIN CERTIFICATE-----')) return fromCertificates(text, inputName);
  if (!text.includes('-----BEGIN') || isEd25519Pem(text)) return ed25519Key(parsePublicKey(text, inputName));
  if (/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(text)) {
    throw new InputError(inputName, 'holds a PRIVATE key; give the public key only, and rotate this one');
  }
  let key: KeyObject;
  try {
    key = createPublicKey({ key: text, format: 'pem' });
  } catch (err) {
    throw new InputError(inputName, 'is a PEM that cannot be parsed as a public key', { cause: err });
  }
  return fromKeyObject(key, inputName);
}

function isEd25519Pem(text: string): boolean {
  try {
    return createPublicKey({ key: text, format: 'pem' }).asymmetricKeyType === 'ed25519';
  } catch {
    return false;
  }
}

function ed25519Key(raw: Uint8Array): SigningPublicKey {
  return { algorithm: 'ed25519', keyid: keyIdOf(raw), value: publicKeyValue(raw), raw };
}

/** A KeyObject of an accepted type, or an InputError saying what it is and what is accepted. */
export function fromKeyObject(key: KeyObject, inputName: string): SigningPublicKey {
  const type = key.asymmetricKeyType;
  if (type === 'ed25519') {
    const spki = key.export({ format: 'der', type: 'spki' });
    return ed25519Key(parsePublicKey(spki.subarray(12).toString('base64'), inputName));
  }
  const spki = key.export({ format: 'der', type: 'spki' });
  const keyid = createHash('sha256').update(spki).digest('hex');
  const value = key.export({ format: 'pem', type: 'spki' }).toString();
  if (type === 'rsa') {
    const bits = key.asymmetricKeyDetails?.modulusLength ?? 0;
    if (bits < MIN_RSA_BITS) {
      throw new InputError(
        inputName,
        `is an RSA key of ${bits} bits; RSA signing keys need at least ${MIN_RSA_BITS} bits (openssl genpkey -algorithm rsa -pkeyopt rsa_keygen_bits:3072)`,
      );
    }
    return { algorithm: 'rsa', keyid, value, key };
  }
  if (type === 'ec') {
    const curve = key.asymmetricKeyDetails?.namedCurve ?? 'unknown';
    if (curve !== 'prime256v1') {
      throw new InputError(
        inputName,
        `is an EC key on ${CURVE_NAMES[curve] ?? curve}; only P-256 (prime256v1) is accepted for ECDSA, or use Ed25519`,
      );
    }
    return { algorithm: 'ecdsa-p256', keyid, value, key };
  }
  throw new InputError(
    inputName,
    `is a ${String(type).toUpperCase()} key; accepted are Ed25519, RSA (≥ ${MIN_RSA_BITS} bits) and ECDSA P-256`,
  );
}

function fromCertificates(text: string, inputName: string): SigningPublicKey {
  const blocks = text.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  const certificates = blocks.map((pem, i) => {
    try {
      return new X509Certificate(pem);
    } catch (err) {
      throw new InputError(inputName, `holds certificate #${i + 1} that cannot be parsed`, { cause: err });
    }
  });
  const leaf = certificates[0]!;
  const key = fromKeyObject(leaf.publicKey, inputName);
  return { ...key, value: certificates.map((c) => c.toString().trim()).join('\n') + '\n', certificates };
}

/** Two keys are the same key when their keyids are. */
export function sameKey(a: SigningPublicKey, b: SigningPublicKey): boolean {
  return a.keyid === b.keyid;
}

export const ALGORITHM_NAMES: Record<KeyAlgorithm, string> = {
  ed25519: 'Ed25519',
  rsa: 'RSA',
  'ecdsa-p256': 'ECDSA P-256',
};
