import { createHash, createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import * as ed from '@noble/ed25519';
import { sha512 } from '@noble/hashes/sha2.js';
import { InputError } from './errors.js';

// @noble/ed25519 v3 ships without a synchronous SHA-512; the sync sign/verify need one.
ed.hashes.sha512 = sha512;

/** Fixed DER prefixes of Ed25519 keys (RFC 8410), as Peridio's signing-keys docs list them. */
const PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');
const SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');

export interface Ed25519KeyPair {
  publicKey: Uint8Array;
  /** `signing_key.value` on the wire: base64 of the raw 32-byte public key. */
  publicValue: string;
  /** Hex SHA-256 of the raw public key. */
  keyid: string;
  sign(message: Uint8Array): Uint8Array;
  /** Every string form of the private key that could leak into output, for masking. */
  secretForms(): string[];
}

/**
 * Reads an Ed25519 private key from a PKCS#8 PEM (what `openssl genpkey -algorithm ed25519` and the
 * Peridio CLI write), base64 of that PEM (how it fits a single-line secret), or the raw 32-byte seed in
 * hex or base64. Errors name the input and what was found, never the key material.
 */
export function parsePrivateKey(input: string, inputName = 'signing-key-private'): Ed25519KeyPair {
  const text = input.trim();
  if (!text) throw new InputError(inputName, 'is empty; expected an Ed25519 private key (PKCS#8 PEM)');
  const seed = seedFrom(text, inputName);
  return keyPairFromSeed(seed, input);
}

function seedFrom(text: string, inputName: string): Uint8Array {
  if (text.includes('-----BEGIN')) return seedFromPem(text, inputName);
  if (/^[0-9a-fA-F]{64}$/.test(text)) return Buffer.from(text, 'hex');
  const bytes = decodeBase64(text);
  if (!bytes) {
    throw new InputError(
      inputName,
      'is not a PEM, base64 or hex; expected an Ed25519 private key (PKCS#8 PEM)',
    );
  }
  if (bytes.length === 32) return bytes;
  const decodedText = bytes.toString('latin1').trim();
  if (decodedText.startsWith('-----BEGIN')) return seedFromPem(decodedText, inputName);
  if (bytes[0] === 0x30) return seedFromKeyObject(derPrivateKey(bytes, inputName), inputName);
  throw new InputError(
    inputName,
    `decodes to ${bytes.length} bytes, which is neither a 32-byte Ed25519 seed nor a DER key; expected a PKCS#8 PEM`,
  );
}

function seedFromPem(pem: string, inputName: string): Uint8Array {
  const label = /-----BEGIN ([A-Z0-9 ]+)-----/.exec(pem)?.[1] ?? '';
  if (label === 'PUBLIC KEY' || label === 'CERTIFICATE') {
    throw new InputError(
      inputName,
      `holds a ${label.toLowerCase()}, not a private key; pass the private key`,
    );
  }
  if (label === 'ENCRYPTED PRIVATE KEY') {
    throw new InputError(
      inputName,
      'is an encrypted private key; decrypt it first (openssl pkey -in key.pem)',
    );
  }
  if (label === 'OPENSSH PRIVATE KEY') {
    throw new InputError(
      inputName,
      'is in OpenSSH format; convert it to PKCS#8 (ssh-keygen -p -m PKCS8 -f key) or create one with openssl genpkey -algorithm ed25519',
    );
  }
  let key: KeyObject;
  try {
    key = createPrivateKey({ key: pem, format: 'pem' });
  } catch (err) {
    throw new InputError(inputName, `holds a '${label}' PEM block that cannot be parsed as a private key`, {
      cause: err,
    });
  }
  return seedFromKeyObject(key, inputName);
}

function derPrivateKey(der: Buffer, inputName: string): KeyObject {
  for (const type of ['pkcs8', 'pkcs1', 'sec1'] as const) {
    try {
      return createPrivateKey({ key: der, format: 'der', type });
    } catch {
      // Try the next container format.
    }
  }
  throw new InputError(inputName, 'holds DER data that is not a private key; expected an Ed25519 PKCS#8 key');
}

function seedFromKeyObject(key: KeyObject, inputName: string): Uint8Array {
  if (key.asymmetricKeyType !== 'ed25519') {
    throw new InputError(
      inputName,
      `is ${describeKeyType(key)}; Peridio needs Ed25519 (openssl genpkey -algorithm ed25519)`,
    );
  }
  const der = key.export({ format: 'der', type: 'pkcs8' });
  return new Uint8Array(der.subarray(PKCS8_PREFIX.length));
}

/** "an RSA key", "an EC (P-256) key": the refusal must say what the user gave us. */
function describeKeyType(key: KeyObject): string {
  const type = key.asymmetricKeyType ?? 'unknown';
  if (type === 'rsa' || type === 'rsa-pss')
    return `an RSA key (${key.asymmetricKeyDetails?.modulusLength ?? '?'} bits)`;
  if (type === 'ec') {
    const curve = key.asymmetricKeyDetails?.namedCurve ?? 'unknown curve';
    const names: Record<string, string> = { prime256v1: 'P-256', secp384r1: 'P-384', secp521r1: 'P-521' };
    return `an EC (${names[curve] ?? curve}) key`;
  }
  return `an ${type.toUpperCase()} key`;
}

function keyPairFromSeed(seed: Uint8Array, original: string): Ed25519KeyPair {
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
function decodeBase64(text: string): Buffer | undefined {
  const compact = text.replace(/\s+/g, '');
  if (!/^[A-Za-z0-9+/_-]+={0,2}$/.test(compact) || compact.replace(/=+$/, '').length % 4 === 1)
    return undefined;
  return Buffer.from(compact.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
}

/** A signing key `value`: base64 of the raw 32-byte key (the wire form), or an SPKI PEM / DER. */
export function parsePublicKey(value: string, inputName = 'value'): Uint8Array {
  const text = value.trim();
  if (!text) throw new InputError(inputName, 'is empty; expected an Ed25519 public key (base64 of 32 bytes)');
  let raw: Uint8Array;
  if (text.includes('-----BEGIN')) {
    if (/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(text)) {
      throw new InputError(inputName, 'holds a PRIVATE key; give the public key only, and rotate this one');
    }
    let key: KeyObject;
    try {
      key = createPublicKey({ key: text, format: 'pem' });
    } catch (err) {
      throw new InputError(inputName, 'is a PEM that cannot be parsed as a public key', { cause: err });
    }
    if (key.asymmetricKeyType !== 'ed25519') {
      throw new InputError(inputName, `is ${describeKeyType(key)}; Peridio needs Ed25519`);
    }
    raw = new Uint8Array(key.export({ format: 'der', type: 'spki' }).subarray(SPKI_PREFIX.length));
  } else {
    const bytes = decodeBase64(text);
    if (bytes?.length === 32) raw = new Uint8Array(bytes);
    else if (bytes?.length === 44 && bytes.subarray(0, SPKI_PREFIX.length).equals(SPKI_PREFIX)) {
      raw = new Uint8Array(bytes.subarray(SPKI_PREFIX.length));
    } else {
      throw new InputError(
        inputName,
        `is not an Ed25519 public key: expected base64 of 32 bytes or an SPKI PEM${bytes ? `, got ${bytes.length} bytes` : ''}`,
      );
    }
  }
  let point: InstanceType<typeof ed.Point>;
  try {
    // Strict RFC 8032 decoding: a y coordinate ≥ p or a "negative zero" x is refused here.
    point = ed.Point.fromBytes(raw, false);
  } catch {
    throw new InputError(inputName, 'is 32 bytes but not a valid Ed25519 public key (not a curve point)');
  }
  // A small-order key (e.g. AQAA…A=, the identity) makes a forged signature verify for every message.
  if (point.isSmallOrder()) {
    throw new InputError(
      inputName,
      'is a small-order Ed25519 point, which any signature can match; use a real key',
    );
  }
  if (!Buffer.from(point.toBytes()).equals(Buffer.from(raw))) {
    throw new InputError(
      inputName,
      'is a non-canonical encoding of an Ed25519 point; use the key as generated',
    );
  }
  return raw;
}

export function publicKeyValue(raw: Uint8Array): string {
  return Buffer.from(raw).toString('base64');
}

export function keyIdOf(raw: Uint8Array): string {
  return createHash('sha256').update(raw).digest('hex');
}

const HASH_HEX = /^[0-9a-fA-F]{64}$/;
const SIGNATURE_HEX = /^[0-9a-fA-F]{128}$/;

/**
 * Signs as the Peridio CLI does, so that Peridio and devices verify it: the message is the 64 ASCII characters of the lowercase
 * hex SHA-256, not the raw digest; the signature goes out as uppercase hex.
 */
export function signHash(hashHex: string, key: Ed25519KeyPair): string {
  if (!HASH_HEX.test(hashHex)) throw new InputError('hash', 'must be a SHA-256 in hex (64 characters)');
  const signature = key.sign(new TextEncoder().encode(hashHex.toLowerCase()));
  return Buffer.from(signature).toString('hex').toUpperCase();
}

/**
 * Verifies a Peridio signature. `allowRawDigest` also accepts a signature over the 32 raw digest bytes,
 * the form Avocado tooling and newer device agents produce, which Peridio also accepts.
 */
export function verifyHashSignature(
  hashHex: string,
  signatureHex: string,
  publicKey: Uint8Array | string,
  options: { allowRawDigest?: boolean } = {},
): boolean {
  if (!HASH_HEX.test(hashHex) || !SIGNATURE_HEX.test(signatureHex)) return false;
  const raw = typeof publicKey === 'string' ? parsePublicKey(publicKey) : publicKey;
  const signature = Buffer.from(signatureHex, 'hex');
  const messages = [new TextEncoder().encode(hashHex.toLowerCase())];
  if (options.allowRawDigest) messages.push(Buffer.from(hashHex, 'hex'));
  return messages.some((message) => {
    try {
      // zip215: false is RFC 8032 strict: non-canonical R, S ≥ L and small-order keys do not verify.
      return ed.verify(signature, message, raw, { zip215: false });
    } catch {
      return false;
    }
  });
}
