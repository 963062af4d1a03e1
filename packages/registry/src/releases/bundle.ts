import { createHash } from 'node:crypto';
import type { Json } from './types.js';

/**
 * Peridio computes a bundle's `hash` "from the hashes of its binaries" without saying how, so this
 * registry defines it (docs/release-management.md, "Bundle hash"):
 *
 *   hash = lowercase hex SHA-256 of the lines `<binary sha256 hex>:<sha256 hex of canonical metadata>`,
 *          one per binary in bundle order, joined by "\n" (no trailing newline)
 *
 * where the canonical metadata is the binary's resolved custom_metadata as JSON with object keys sorted
 * (recursively) and no whitespace. Order and metadata are part of a bundle's identity, so both count.
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const entries = Object.keys(value as Json)
    .sort()
    .filter((k) => (value as Json)[k] !== undefined)
    .map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Json)[k])}`);
  return `{${entries.join(',')}}`;
}

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

export function bundleHash(binaries: readonly { hash: string; custom_metadata: Json }[]): string {
  return sha256(
    binaries.map((b) => `${b.hash.toLowerCase()}:${sha256(canonicalJson(b.custom_metadata))}`).join('\n'),
  );
}

/**
 * custom_metadata of one binary in a new bundle: the value given at bundle creation, else the binary's,
 * else its artifact version's, else its artifact's; the most specific one present wins whole (objects are
 * not merged, so the result is always an object someone wrote). `null` means "not given" (the Rust SDK
 * sends null for absent values). None anywhere → `{}`.
 */
export function resolveMetadata(levels: {
  given: Json | null | undefined;
  binary: Json | null;
  artifactVersion: Json | null;
  artifact: Json | null;
}): Json {
  return levels.given ?? levels.binary ?? levels.artifactVersion ?? levels.artifact ?? {};
}

/** Same content: the same binaries in the same order with the same resolved metadata. */
export function sameContent(
  a: readonly { binary_id: string; custom_metadata: Json }[],
  b: typeof a,
): boolean {
  return (
    a.length === b.length &&
    a.every(
      (x, i) =>
        x.binary_id === b[i]!.binary_id &&
        canonicalJson(x.custom_metadata) === canonicalJson(b[i]!.custom_metadata),
    )
  );
}
