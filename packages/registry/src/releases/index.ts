import type { Logger } from '@peridio-actions/core';
import type { RegistryContext } from '../context.js';
import { bundleOverrideRoutes } from '../routes/bundle-overrides.js';
import { bundleSignatureRoutes } from '../routes/bundle-signatures.js';
import { bundleRoutes } from '../routes/bundles.js';
import { cohortRoutes } from '../routes/cohorts.js';
import { deviceUpdateRoutes } from '../routes/device-update.js';
import { deviceRoutes } from '../routes/devices.js';
import { eventRoutes } from '../routes/events.js';
import { productRoutes } from '../routes/products.js';
import { releaseRoutes } from '../routes/releases.js';
import type { Route } from '../router.js';
import { registryBinaryLookup } from './binary-lookup.js';
import type { ReleaseDeps } from './deps.js';
import { prn } from './prn.js';
import { SqliteReleaseStore } from './sqlite-store.js';

export function releaseManagementRoutes(d: ReleaseDeps): Route[] {
  return [
    ...productRoutes(d),
    ...cohortRoutes(d),
    ...deviceUpdateRoutes(d),
    ...deviceRoutes(d),
    ...bundleRoutes(d),
    ...bundleSignatureRoutes(d),
    ...releaseRoutes(d),
    ...bundleOverrideRoutes(d),
    ...eventRoutes(d),
  ];
}

/** The default wiring: the SQLite store over the registry's database and the registry's binaries. */
export function defaultReleaseDeps(ctx: RegistryContext, logger: Logger): ReleaseDeps {
  return {
    org: ctx.org,
    store: new SqliteReleaseStore(ctx.db, ctx.org),
    binaries: registryBinaryLookup(ctx),
    logger,
    now: () => new Date(),
  };
}

/**
 * Called once a signed binary was destroyed: releases whose bundle holds it now resolve to no_update
 * (their bundle is no longer all signed), which the log says by name.
 */
export async function warnBinaryDestroyed(d: ReleaseDeps, binaryId: string): Promise<string[]> {
  const releases = await d.store.releasesUsingBinary(binaryId);
  const names = releases.map((r) => `'${r.name}' (${prn(d.org, 'release', r.id)})`);
  if (names.length) {
    d.logger.warning(
      `binary ${prn(d.org, 'binary', binaryId)} was destroyed while releases use it: ${names.join(', ')}; their update checks now answer no_update`,
    );
  }
  return names;
}
