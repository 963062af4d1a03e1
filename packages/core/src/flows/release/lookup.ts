/**
 * Finding the records a release flow names: artifact versions by `artifact@version` or PRN, cohorts and
 * products by name or PRN (created race-safe when asked), devices by identifier or PRN.
 */
import { ApiError, InputError } from '../../errors.js';
import { isPrn, requirePrn } from '../../prn.js';
import { searchQuery } from '../../client/search.js';
import type { PeridioClient } from '../../client/admin-client.js';
import type { Cohort, Device, Product } from '../../release-types.js';
import type { Artifact, ArtifactVersion } from '../../types.js';
import type { Logger } from '../../logger.js';
import { iteratePages, findFirst } from '../../paging.js';
import { findOrCreate } from '../race.js';

/** 404 → undefined; anything else is thrown. */
export async function orUndefined<T>(read: Promise<T>): Promise<T | undefined> {
  try {
    return await read;
  } catch (err) {
    if (err instanceof ApiError && err.status === 404) return undefined;
    throw err;
  }
}

export interface ResolvedVersion {
  artifact: Artifact;
  version: ArtifactVersion;
}

/** `artifact@version`, or an artifact version PRN; `input` names the action input for errors. */
export async function findArtifactVersion(
  api: PeridioClient,
  ref: { artifact: string; version: string } | { prn: string },
  input: string,
): Promise<ResolvedVersion> {
  if ('prn' in ref) {
    const prn = requirePrn(ref.prn, 'artifact_version', input);
    const version = await orUndefined(api.getArtifactVersion(prn));
    if (!version) throw new InputError(input, `no artifact version ${prn} is visible to this API key`);
    return { artifact: await api.getArtifact(version.artifact_prn), version };
  }
  const artifact = isPrn(ref.artifact, 'artifact')
    ? await orUndefined(api.getArtifact(ref.artifact))
    : await findFirst(
        (p) => api.listArtifacts(p),
        { search: searchQuery({ name: ref.artifact }), order: 'asc', limit: 100 },
        (a) => a.name === ref.artifact,
      );
  if (!artifact) {
    throw new InputError(
      input,
      `there is no artifact '${ref.artifact}'; publish its binaries first (publish-binary), or check the name`,
    );
  }
  const version = await findFirst(
    (p) => api.listArtifactVersions(p),
    { search: searchQuery({ artifact_prn: artifact.prn, version: ref.version }), order: 'asc', limit: 100 },
    (v) => v.artifact_prn === artifact.prn && v.version === ref.version,
  );
  if (!version) {
    throw new InputError(
      input,
      `artifact '${artifact.name}' has no version ${ref.version}; publish its binaries first (publish-binary)`,
    );
  }
  return { artifact, version };
}

/** A product by name, created when missing; two jobs at once end with the same one (names are unique). */
export async function ensureProduct(
  api: PeridioClient,
  name: string,
  logger: Logger,
): Promise<{ product: Product; created: boolean }> {
  const find = () =>
    findFirst(
      (p) => api.releases.listProducts(p),
      { search: searchQuery({ name }), order: 'asc', limit: 100 },
      (p) => p.name === name,
    );
  const { record, created } = await findOrCreate(find, () => api.releases.createProduct({ name }));
  logger.info(`${created ? 'Created' : 'Found'} product ${name}: ${record.prn}`);
  return { product: record, created };
}

async function cohortsNamed(api: PeridioClient, name: string, productPrn?: string): Promise<Cohort[]> {
  const search = searchQuery(productPrn ? { name, product_prn: productPrn } : { name });
  const found: Cohort[] = [];
  // Oldest first, so every job picks the same cohort when two of one name exist.
  for await (const c of iteratePages((p) => api.releases.listCohorts(p), {
    search,
    order: 'asc',
    limit: 100,
  })) {
    if (c.name === name && (!productPrn || c.product_prn === productPrn)) found.push(c);
  }
  return found;
}

export interface ResolvedCohort {
  cohort: Cohort;
  product: Product | { prn: string };
  created: boolean;
  productCreated: boolean;
}

/**
 * A cohort by PRN, or by name. A name that does not exist needs `product` (a name; created when missing).
 * Cohort names are not unique in the API, so two jobs creating one at once can both succeed: each then
 * takes the oldest cohort of that name, and a job whose own cohort lost renames it out of the way
 * (`<name> (duplicate <id>)`, empty: cohorts cannot be deleted) and says so.
 */
export async function resolveCohort(
  api: PeridioClient,
  options: { cohort: string; product?: string; input?: string; logger: Logger },
): Promise<ResolvedCohort> {
  const input = options.input ?? 'cohort';
  const value = options.cohort.trim();
  if (value.startsWith('prn:')) {
    const prn = requirePrn(value, 'cohort', input);
    const cohort = await orUndefined(api.releases.getCohort(prn));
    if (!cohort) throw new InputError(input, `no cohort ${prn} is visible to this API key`);
    return { cohort, product: { prn: cohort.product_prn }, created: false, productCreated: false };
  }
  if (!value) throw new InputError(input, 'must be a cohort PRN or name');
  let product: Product | undefined;
  let productCreated = false;
  if (options.product) {
    ({ product, created: productCreated } = await ensureProduct(api, options.product, options.logger));
  }
  const existing = await cohortsNamed(api, value, product?.prn);
  if (existing[0]) {
    return {
      cohort: existing[0],
      product: product ?? { prn: existing[0].product_prn },
      created: false,
      productCreated,
    };
  }
  if (!product) {
    throw new InputError(
      input,
      `there is no cohort '${value}'; give \`product\` (a product name) to create both, or use an existing cohort's name or PRN`,
    );
  }
  const mine = await api.releases.createCohort({ name: value, product_prn: product.prn });
  const all = await cohortsNamed(api, value, product.prn);
  const winner = all[0] ?? mine;
  if (winner.prn !== mine.prn) {
    const id = mine.prn.split(':').pop()!.slice(0, 8);
    await api.releases.updateCohort(mine.prn, {
      name: `${value} (duplicate ${id})`,
      description: `created by a concurrent job; ${winner.prn} is the cohort '${value}'`,
    });
    options.logger.warning(
      `another job created cohort '${value}' at the same time: using ${winner.prn}; renamed this job's copy ${mine.prn} to '${value} (duplicate ${id})'`,
    );
    return { cohort: winner, product, created: false, productCreated };
  }
  options.logger.info(`Created cohort ${value}: ${mine.prn}`);
  return { cohort: mine, product, created: true, productCreated };
}

/** A device by PRN or identifier; undefined when there is none. */
export async function findDevice(
  api: PeridioClient,
  device: string,
  input: string,
): Promise<Device | undefined> {
  const value = device.trim();
  if (value.startsWith('prn:'))
    return orUndefined(api.releases.getDevice(requirePrn(value, 'device', input)));
  return findFirst(
    (p) => api.releases.listDevices(p),
    { search: searchQuery({ identifier: value }), order: 'asc', limit: 100 },
    (d) => d.identifier === value,
  );
}
