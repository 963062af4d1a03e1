/**
 * Verifying a binary signature of any accepted key type against the content's SHA-256.
 * Ed25519 signs the 64 ASCII hex characters of the hash (Peridio's CLI), or the raw digest when allowed.
 * RSA (PKCS#1 v1.5 or PSS) and ECDSA sign the SHA-256 digest of the content, exactly as
 * `openssl dgst -sha256 -sign key.pem file` does, so only the digest is needed here.
 */
import { constants, createHash, publicDecrypt, type KeyObject } from 'node:crypto';
import { p256 } from '@noble/curves/nist.js';
import { verifyHashSignature } from '../keys.js';
import type { SigningPublicKey } from './keys.js';

const HASH_HEX = /^[0-9a-fA-F]{64}$/;

/** DER DigestInfo prefix of SHA-256 (RFC 8017 §9.2 note 1). */
export const SHA256_DIGEST_INFO = Buffer.from('3031300d060960864801650304020105000420', 'hex');

/** Hex (either case) or base64 (standard or URL-safe) signature bytes, or undefined if neither. */
export function decodeSignature(text: string): Buffer | undefined {
  const compact = text.trim();
  if (/^(?:[0-9a-fA-F]{2})+$/.test(compact)) return Buffer.from(compact, 'hex');
  const b64 = compact.replace(/\s+/g, '');
  if (/^[A-Za-z0-9+/_-]+={0,2}$/.test(b64) && b64.replace(/=+$/, '').length % 4 !== 1) {
    return Buffer.from(b64.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
  }
  return undefined;
}

export function verifySignature(
  hashHex: string,
  signature: Uint8Array,
  key: SigningPublicKey,
  options: { allowRawDigest?: boolean } = {},
): boolean {
  if (!HASH_HEX.test(hashHex)) return false;
  const digest = Buffer.from(hashHex, 'hex');
  switch (key.algorithm) {
    case 'ed25519':
      return (
        signature.length === 64 &&
        verifyHashSignature(hashHex, Buffer.from(signature).toString('hex'), key.raw!, options)
      );
    case 'rsa':
      return verifyRsa(digest, Buffer.from(signature), key.key!);
    case 'ecdsa-p256':
      return verifyEcdsa(digest, signature, key.key!);
  }
}

function verifyRsa(digest: Buffer, signature: Buffer, key: KeyObject): boolean {
  const bits = key.asymmetricKeyDetails?.modulusLength ?? 0;
  const emLen = Math.ceil(bits / 8);
  if (signature.length !== emLen) return false;
  let em: Buffer;
  try {
    em = publicDecrypt({ key, padding: constants.RSA_NO_PADDING }, signature);
  } catch {
    return false; // e.g. the signature as a number is not below the modulus
  }
  return pkcs1v15Matches(em, digest) || pssMatches(em, digest, bits - 1);
}

/** EMSA-PKCS1-v1_5: 00 01 FF…FF 00 DigestInfo H, compared as a whole. */
function pkcs1v15Matches(em: Buffer, digest: Buffer): boolean {
  const t = Buffer.concat([SHA256_DIGEST_INFO, digest]);
  const expected = Buffer.concat([
    Buffer.from([0, 1]),
    Buffer.alloc(em.length - t.length - 3, 0xff),
    Buffer.from([0]),
    t,
  ]);
  return expected.equals(em);
}

/** EMSA-PSS-VERIFY (RFC 8017 §9.1.2) with SHA-256 and MGF1-SHA-256, any salt length. */
function pssMatches(em: Buffer, digest: Buffer, emBits: number): boolean {
  const hLen = 32;
  const emLen = Math.ceil(emBits / 8);
  // The decrypted block has the modulus length; a leading zero byte is outside EM when emBits % 8 == 0.
  const block = em.length > emLen ? em.subarray(em.length - emLen) : em;
  if (em.length > emLen && em[0] !== 0) return false;
  if (emLen < hLen + 2 || block[emLen - 1] !== 0xbc) return false;
  const maskedDb = block.subarray(0, emLen - hLen - 1);
  const h = block.subarray(emLen - hLen - 1, emLen - 1);
  const zeroBits = 8 * emLen - emBits;
  if (zeroBits > 0 && maskedDb[0]! >> (8 - zeroBits) !== 0) return false;
  const db = mgf1(h, maskedDb.length).map((b, i) => b ^ maskedDb[i]!);
  if (zeroBits > 0) db[0]! &= 0xff >> zeroBits;
  const one = db.indexOf(1);
  if (one < 0 || db.subarray(0, one).some((b) => b !== 0)) return false;
  const salt = db.subarray(one + 1);
  const mPrime = Buffer.concat([Buffer.alloc(8), digest, salt]);
  return createHash('sha256').update(mPrime).digest().equals(h);
}

function mgf1(seed: Buffer, length: number): Buffer {
  const out: Buffer[] = [];
  for (let counter = 0; out.length * 32 < length; counter++) {
    const c = Buffer.alloc(4);
    c.writeUInt32BE(counter);
    out.push(createHash('sha256').update(seed).update(c).digest());
  }
  return Buffer.concat(out).subarray(0, length);
}

/** DER (what openssl writes) or the 64-byte r‖s form (what PKCS#11 tokens return). */
function verifyEcdsa(digest: Buffer, signature: Uint8Array, key: KeyObject): boolean {
  const jwk = key.export({ format: 'jwk' });
  const point = Buffer.concat([
    Buffer.from([4]),
    Buffer.from(jwk.x!, 'base64url'),
    Buffer.from(jwk.y!, 'base64url'),
  ]);
  const format = signature.length === 64 ? 'compact' : 'der';
  try {
    return p256.verify(signature, digest, point, { prehash: false, lowS: false, format });
  } catch {
    return false;
  }
}
