/**
 * A Signer signs a binary's SHA-256 with a key the caller may never see (a PKCS#11 token, an external
 * command) or with a private key from a secret. Every signer is proven before anything is created: it
 * signs a probe hash and the signature must verify against the signer's own public key.
 */
import { constants, createPrivateKey, createPublicKey, privateEncrypt, type KeyObject } from 'node:crypto';
import { p256 } from '@noble/curves/nist.js';
import { InputError } from '../errors.js';
import { parsePrivateKey, signHash, type Ed25519KeyPair } from '../keys.js';
import { ALGORITHM_NAMES, fromKeyObject, type SigningPublicKey } from './keys.js';
import { SHA256_DIGEST_INFO, verifySignature } from './verify.js';

export interface Signer {
  publicKey: SigningPublicKey;
  /** The input that chose this signer, for errors ("signing-command", "pkcs11-key-label", …). */
  input: string;
  /** For logs: "PKCS#11 key 'release' on token 'ci'", never a secret. */
  description: string;
  /** The signature of a content hash, as uppercase hex (what the registry stores). */
  signHash(hashHex: string, signal?: AbortSignal): Promise<string>;
  /** Every string form of a secret this signer holds, for masking. */
  secretForms(): string[];
}

/**
 * What a key signs for a content hash: Ed25519 the 64 ASCII hex characters (Peridio's CLI); RSA and
 * ECDSA the 32-byte digest, which a tool signs with `openssl pkeyutl -sign -pkeyopt digest:sha256`.
 */
export function messageFor(algorithm: SigningPublicKey['algorithm'], hashHex: string): Buffer {
  return algorithm === 'ed25519' ? Buffer.from(hashHex.toLowerCase(), 'ascii') : Buffer.from(hashHex, 'hex');
}

/** A private key from a secret: Ed25519 (PEM, base64, raw seed), RSA ≥ 2048 or ECDSA P-256 PEM. */
export function privateKeySigner(input: string, inputName = 'signing-key-private'): Signer {
  const pem = pemOf(input);
  let key: KeyObject | undefined;
  if (pem) {
    try {
      key = createPrivateKey({ key: pem, format: 'pem' });
    } catch {
      key = undefined; // parsePrivateKey below names what is wrong with it
    }
  }
  if (!key || key.asymmetricKeyType === 'ed25519')
    return ed25519Signer(parsePrivateKey(input, inputName), inputName);
  const publicKey = fromKeyObject(createPublicKey(key), inputName);
  const forms = [input.trim(), pem!];
  return {
    publicKey,
    input: inputName,
    description: `${ALGORITHM_NAMES[publicKey.algorithm]} key from ${inputName}`,
    signHash: async (hashHex) => signDigestLocally(key, publicKey, hashHex),
    secretForms: () => forms,
  };
}

/** An Ed25519 key pair (parsePrivateKey) as a Signer. */
export function ed25519Signer(pair: Ed25519KeyPair, inputName = 'signing-key-private'): Signer {
  const spki = Buffer.concat([Buffer.from('302a300506032b6570032100', 'hex'), pair.publicKey]);
  return {
    publicKey: fromKeyObject(createPublicKey({ key: spki, format: 'der', type: 'spki' }), inputName),
    input: inputName,
    description: `Ed25519 key from ${inputName}`,
    signHash: async (hashHex) => signHash(hashHex, pair),
    secretForms: () => pair.secretForms(),
  };
}

/** Callers may still pass an Ed25519KeyPair where a Signer is expected. */
export function asSigner(key: Signer | Ed25519KeyPair): Signer {
  return 'signHash' in key ? key : ed25519Signer(key);
}

function pemOf(input: string): string | undefined {
  const text = input.trim();
  if (text.startsWith('-----BEGIN')) return text;
  if (!/^[A-Za-z0-9+/=\s]+$/.test(text)) return undefined;
  const decoded = Buffer.from(text.replace(/\s+/g, ''), 'base64').toString('latin1').trim();
  return decoded.startsWith('-----BEGIN') ? decoded : undefined;
}

function signDigestLocally(key: KeyObject, publicKey: SigningPublicKey, hashHex: string): string {
  const digest = Buffer.from(hashHex, 'hex');
  if (publicKey.algorithm === 'rsa') {
    // PKCS#1 v1.5 over DigestInfo‖H: byte for byte what `openssl dgst -sha256 -sign` writes.
    const signature = privateEncrypt(
      { key, padding: constants.RSA_PKCS1_PADDING },
      Buffer.concat([SHA256_DIGEST_INFO, digest]),
    );
    return signature.toString('hex').toUpperCase();
  }
  const d = Buffer.from(key.export({ format: 'jwk' }).d!, 'base64url');
  const signature = p256.sign(digest, d, { prehash: false, format: 'der' });
  return Buffer.from(signature).toString('hex').toUpperCase();
}

/** A hash no binary has (SHA-256 of "peridio-actions signer probe"), signed to prove a signer works. */
const PROBE_HASH = '4e0b0ef0c4a4c7d6cbd2d6c4a0f5f2ea3ad0f5a9d0b3c4d7e2f1a0b9c8d7e6f5';

/**
 * Signs a probe and verifies it against the signer's public key; an InputError naming the signer's input
 * when it fails, so a broken signer stops the run before anything is created.
 */
export async function proveSigner(signer: Signer, signal?: AbortSignal): Promise<void> {
  const signature = await signer.signHash(PROBE_HASH, signal);
  if (!verifySignature(PROBE_HASH, Buffer.from(signature, 'hex'), signer.publicKey)) {
    throw new InputError(
      signer.input,
      `${signer.description} made a signature that does not verify against its public key ` +
        `(keyid ${signer.publicKey.keyid}); check that the key and the public key belong together. Nothing was created.`,
    );
  }
}
