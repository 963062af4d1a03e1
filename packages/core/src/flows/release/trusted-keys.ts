/**
 * The public keys a repository trusts for its binaries, from its own files (never from the server). The
 * one place that turns the `trusted-signing-keys` text into keys: swapping in other key types means
 * changing this function and `verifyWithTrustedKey` only.
 */
import { InputError } from '../../errors.js';
import { keyIdOf, parsePublicKey, verifyHashSignature } from '../../keys.js';

export interface TrustedKey {
  keyid: string;
  raw: Uint8Array;
}

/** PEM blocks (SPKI) and single-line base64 raw Ed25519 keys, one per line; `#` lines are comments. */
export function parseTrustedKeys(text: string, input = 'trusted-signing-keys'): TrustedKey[] {
  const keys: TrustedKey[] = [];
  const entries: string[] = [];
  let pem: string[] | undefined;
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (pem) {
      pem.push(line);
      if (line.startsWith('-----END')) {
        entries.push(pem.join('\n'));
        pem = undefined;
      }
    } else if (line.startsWith('-----BEGIN')) pem = [line];
    else if (line && !line.startsWith('#')) entries.push(line);
  }
  if (pem) throw new InputError(input, `a PEM block (${pem[0]}) has no END line`);
  entries.forEach((entry, i) => {
    let raw: Uint8Array;
    try {
      raw = parsePublicKey(entry, input);
    } catch (err) {
      const why = err instanceof InputError ? err.message.replace(/^Input '[^']*': /, '') : String(err);
      throw new InputError(input, `key ${i + 1} ${why}`, { cause: err });
    }
    const keyid = keyIdOf(raw);
    if (!keys.some((k) => k.keyid === keyid)) keys.push({ keyid, raw });
  });
  if (keys.length === 0) {
    throw new InputError(
      input,
      'holds no key; give the Ed25519 public keys (PEM or base64) your binaries are signed with, from the repository',
    );
  }
  return keys;
}

/** Over the lowercase hex hash, or over the raw digest (newer device agents accept both). */
export function verifyWithTrustedKey(hash: string, signature: string, key: TrustedKey): boolean {
  return verifyHashSignature(hash, signature, key.raw, { allowRawDigest: true });
}
