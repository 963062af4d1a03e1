import type { ReleaseDeps } from './deps.js';
import { prn } from './prn.js';

/**
 * Called once a signed binary was destroyed: releases whose bundle holds it now resolve to no_update
 * (their bundle is no longer all signed), which the log says by name. Returns their PRNs for the response.
 */
export async function warnBinaryDestroyed(d: ReleaseDeps, binaryId: string): Promise<string[]> {
  const releases = await d.store.releasesUsingBinary(binaryId);
  const names = releases.map((r) => `'${r.name}' (${prn(d.org, 'release', r.id)})`);
  if (names.length) {
    d.logger.warning(
      `binary ${prn(d.org, 'binary', binaryId)} was destroyed while releases use it: ${names.join(', ')}; their update checks now answer no_update`,
    );
  }
  return releases.map((r) => prn(d.org, 'release', r.id));
}

/**
 * Response headers of a destroy that affected releases. Peridio's API defines no warnings, so the registry
 * uses the standard `Warning` header (code 299, persistent) for people and `x-peridio-affected-releases`
 * (comma-separated release PRNs) for programs; both are absent when no release uses the binary.
 */
export function destroyedBinaryHeaders(releasePrns: string[]): Record<string, string> {
  if (releasePrns.length === 0) return {};
  return {
    warning: `299 peridio-registry "the destroyed binary is in the bundle of ${releasePrns.length} release(s): ${releasePrns.join(', ')}; their update checks now answer no_update"`,
    'x-peridio-affected-releases': releasePrns.join(', '),
  };
}
