/**
 * Certificates as signing keys: the leaf's validity period bounds when it may sign, and with trusted CAs
 * configured the chain in the value (leaf first, then intermediates) must end at one of them.
 */
import { X509Certificate } from 'node:crypto';
import type { SigningPublicKey } from './keys.js';

/** Undefined when the key may sign at `at`, else why not (with the date). Bare keys always may. */
export function certificateValidityProblem(key: SigningPublicKey, at = new Date()): string | undefined {
  const leaf = key.certificates?.[0];
  if (!leaf) return undefined;
  const from = new Date(leaf.validFrom);
  const to = new Date(leaf.validTo);
  if (at.getTime() > to.getTime()) return `its certificate expired on ${to.toISOString()} (notAfter)`;
  if (at.getTime() < from.getTime())
    return `its certificate is not valid before ${from.toISOString()} (notBefore)`;
  return undefined;
}

/**
 * Undefined when the certificate chain leads to one of `trusted` (or the key is bare), else why not. Each certificate must be
 * issued and signed by the next; the last one by a trusted CA (or be one).
 */
export function chainProblem(key: SigningPublicKey, trusted: X509Certificate[]): string | undefined {
  if (trusted.length === 0) return undefined;
  const chain = key.certificates;
  // Bare keys stay accepted: the CAs constrain certificates, and Peridio's own keys are bare Ed25519.
  if (!chain?.length) return undefined;
  for (let i = 0; i + 1 < chain.length; i++) {
    if (!issued(chain[i]!, chain[i + 1]!)) {
      return `certificate #${i + 1} (${chain[i]!.subject.replace(/\n/g, ', ')}) is not issued by certificate #${i + 2} in the chain`;
    }
  }
  const top = chain.at(-1)!;
  if (trusted.some((ca) => ca.fingerprint256 === top.fingerprint256 || issued(top, ca))) return undefined;
  return `is not issued by a trusted CA of this registry (issuer: ${top.issuer.replace(/\n/g, ', ')})`;
}

function issued(child: X509Certificate, parent: X509Certificate): boolean {
  return child.checkIssued(parent) && child.verify(parent.publicKey);
}

/** One or more PEM certificates from a CA file. */
export function parseCertificates(pem: string): X509Certificate[] {
  const blocks = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  return blocks.map((b) => new X509Certificate(b));
}
