/**
 * Signing in the page: the private key file is read and used by WebCrypto here, never sent anywhere. The
 * signature is what the Peridio CLI makes (Ed25519 over the 64 ASCII characters of the lowercase hex hash,
 * uppercase hex), and is verified with the key's public half before it leaves the browser.
 */
const toHex = (bytes: ArrayBuffer) =>
  Array.from(new Uint8Array(bytes), (b) => b.toString(16).padStart(2, '0')).join('');

function pemBody(text: string): Uint8Array<ArrayBuffer> {
  const match = /-----BEGIN PRIVATE KEY-----([\s\S]*?)-----END PRIVATE KEY-----/.exec(text);
  if (!match) throw new Error('the key file is not a PKCS#8 PEM private key (-----BEGIN PRIVATE KEY-----)');
  return Uint8Array.from(atob(match[1]!.replace(/\s+/g, '')), (c) => c.charCodeAt(0));
}

export interface LoadedKey {
  /** base64 of the raw 32-byte public key: what the registry stores as the signing key's `value`. */
  publicValue: string;
  sign(hashHex: string): Promise<string>;
}

export async function loadPrivateKey(text: string): Promise<LoadedKey> {
  let privateKey: CryptoKey;
  try {
    privateKey = await crypto.subtle.importKey('pkcs8', pemBody(text), { name: 'Ed25519' }, true, ['sign']);
  } catch (err) {
    throw new Error(`the key file is not an Ed25519 private key (${(err as Error).message})`);
  }
  const jwk = await crypto.subtle.exportKey('jwk', privateKey);
  const x = jwk.x!;
  const publicKey = await crypto.subtle.importKey(
    'jwk',
    { kty: 'OKP', crv: 'Ed25519', x },
    { name: 'Ed25519' },
    true,
    ['verify'],
  );
  const raw = new Uint8Array(await crypto.subtle.exportKey('raw', publicKey));
  const publicValue = btoa(String.fromCharCode(...raw));
  return {
    publicValue,
    async sign(hashHex) {
      const message = new TextEncoder().encode(hashHex.toLowerCase());
      const signature = await crypto.subtle.sign({ name: 'Ed25519' }, privateKey, message);
      if (!(await crypto.subtle.verify({ name: 'Ed25519' }, publicKey, signature, message))) {
        throw new Error('the signature made with this key does not verify; nothing was sent');
      }
      return toHex(signature).toUpperCase();
    },
  };
}
