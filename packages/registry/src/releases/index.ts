import type { Logger } from '@peridio-actions/core/base';
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
import { CatalogCache } from './catalog-cache.js';
import type { ReleaseDeps } from './deps.js';

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

/** The default wiring: the registry's Store (its release store) and the registry's binaries. */
export function defaultReleaseDeps(
  ctx: RegistryContext,
  logger: Logger,
  events: ReleaseDeps['events'],
): ReleaseDeps {
  const store = ctx.store.releaseStore(ctx.org);
  const binaries = registryBinaryLookup(ctx);
  return {
    org: ctx.org,
    store,
    events,
    binaries,
    catalog: new CatalogCache(store, binaries),
    logger,
    now: () => new Date(),
  };
}

export { warnBinaryDestroyed } from './destroy-warning.js';
