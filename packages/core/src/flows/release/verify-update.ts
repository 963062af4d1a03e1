/**
 * Plays the device: asks the update check what a device in the cohort would get, then downloads every
 * manifest item and checks it exactly as the device agent will (size, SHA-256, a signature by a key the
 * repository trusts), before any real device sees it. With `write`, reports the new state and checks
 * that the next check has nothing more.
 */
import { InputError, UserError } from '../../errors.js';
import { silentLogger, type Logger } from '../../logger.js';
import type { PeridioClient } from '../../client/admin-client.js';
import type { Device, ManifestItem, UpdateCheck, UpdateCheckBody } from '../../release-types.js';
import { findOrCreate } from '../race.js';
import { downloadAndHash, DownloadError, type DownloadOptions } from './download.js';
import { findDevice, orUndefined, resolveCohort } from './lookup.js';
import { verifyWithTrustedKey, type TrustedKey } from './trusted-keys.js';

export interface VerifyUpdateOptions {
  api: PeridioClient;
  device: string;
  createDevice?: { cohort: string; tags?: string[] };
  reported: Pick<UpdateCheckBody, 'release_prn' | 'bundle_prn' | 'release_version'>;
  expectBundlePrn?: string;
  expectTargets?: string[];
  trustedKeys: TrustedKey[];
  threshold: number;
  write?: boolean;
  download?: DownloadOptions;
  logger?: Logger;
}

export interface VerifiedItem {
  target: string;
  binary_prn: string;
  size: number;
  sha256: string;
  /** keyids (16 hex) of trusted keys whose signature verified. */
  trustedSigners: string[];
  resumes: number;
}

export interface VerifyUpdateResult {
  device: Device;
  deviceCreated: boolean;
  check: UpdateCheck;
  items: VerifiedItem[];
  /** With `write`: what the second check answered (`no_update` when all is well). */
  recheck?: UpdateCheck;
}

/** A binary of the manifest that would not verify on the device. */
export class VerificationError extends UserError {
  override name = 'VerificationError';
}

async function ensureDevice(
  o: VerifyUpdateOptions,
  logger: Logger,
): Promise<{ device: Device; created: boolean }> {
  const found = await findDevice(o.api, o.device, 'device');
  if (found) return { device: found, created: false };
  if (!o.createDevice) {
    throw new InputError(
      'device',
      `no device '${o.device}'; give an existing device's PRN or identifier, or create-device: true with cohort`,
    );
  }
  if (o.device.startsWith('prn:'))
    throw new InputError('device', 'create-device needs an identifier, not a PRN');
  const { cohort } = await resolveCohort(o.api, { cohort: o.createDevice.cohort, input: 'cohort', logger });
  const { record, created } = await findOrCreate(
    () => findDevice(o.api, o.device, 'device'),
    () =>
      o.api.releases.createDevice({
        identifier: o.device,
        product_prn: cohort.product_prn,
        cohort_prn: cohort.prn,
        tags: o.createDevice!.tags ?? null,
      }),
  );
  logger.info(
    `${created ? 'Created' : 'Found'} test device ${o.device} in cohort ${cohort.name}: ${record.prn}`,
  );
  return { device: record, created };
}

async function verifyItem(item: ManifestItem, o: VerifyUpdateOptions, logger: Logger): Promise<VerifiedItem> {
  const fail = (why: string) =>
    new VerificationError(`binary ${item.binary_prn} (target ${item.target}): ${why}`);
  let got;
  try {
    got = await downloadAndHash(item.url, { ...o.download, logger, limit: item.size });
  } catch (err) {
    if (err instanceof DownloadError) throw fail(`download failed: ${err.message}`);
    throw fail(`download failed: ${(err as Error).message}`);
  }
  if (got.size !== item.size) throw fail(`downloaded ${got.size} bytes, the manifest says ${item.size}`);
  if (got.sha256 !== item.hash.toLowerCase()) {
    throw fail(
      `the downloaded bytes have SHA-256 ${got.sha256}, the manifest says ${item.hash}: the stored content is not what was signed; re-publish the binary`,
    );
  }
  const signers = new Set<string>();
  for (const s of item.signatures) {
    for (const key of o.trustedKeys) {
      if (!signers.has(key.keyid) && verifyWithTrustedKey(got.sha256, s.signature, key))
        signers.add(key.keyid);
    }
  }
  if (signers.size < o.threshold) {
    const untrusted = item.signatures.map((s) => s.keyid.slice(0, 16)).join(', ') || 'none';
    throw fail(
      `${signers.size} signature(s) verify with a trusted key, ${o.threshold} needed (signed by keyid ${untrusted}; trusted: ${o.trustedKeys.map((k) => k.keyid.slice(0, 16)).join(', ')}). ` +
        'Sign the binary with a key in trusted-signing-keys, or add its public key there if you trust it',
    );
  }
  logger.info(
    `verified ${item.target} ${item.binary_prn}: ${got.size} bytes, sha256 ${got.sha256}, ${signers.size} trusted signature(s)`,
  );
  return {
    target: item.target,
    binary_prn: item.binary_prn,
    size: got.size,
    sha256: got.sha256,
    trustedSigners: [...signers].map((k) => k.slice(0, 16)),
    resumes: got.resumes,
  };
}

export async function verifyUpdate(o: VerifyUpdateOptions): Promise<VerifyUpdateResult> {
  const logger = o.logger ?? silentLogger;
  if (o.threshold > o.trustedKeys.length) {
    throw new InputError(
      'trusted-signing-key-threshold',
      `is ${o.threshold}, but trusted-signing-keys holds ${o.trustedKeys.length} key(s)`,
    );
  }
  const { device, created } = await ensureDevice(o, logger);
  const check = await o.api.releases.checkUpdate(device.prn, { ...o.reported });
  logger.info(
    `update check for ${device.identifier}: ${check.status}${check.bundle_prn ? ` → bundle ${check.bundle_prn} (${check.source_type} ${check.source_prn})` : ''}`,
  );
  if (o.expectBundlePrn && check.bundle_prn !== o.expectBundlePrn) {
    throw new VerificationError(
      `device ${device.identifier} would get ${check.status === 'update' ? `bundle ${check.bundle_prn}` : check.status}, expected bundle ${o.expectBundlePrn} (input 'expect-bundle-prn'); check the release's cohort, phase and version requirement against what the device reports`,
    );
  }
  if (check.status !== 'update') return { device, deviceCreated: created, check, items: [] };

  // The manifest must be the whole bundle, and hold every target the repository built.
  const bundle = await orUndefined(o.api.releases.getBundle(check.bundle_prn!));
  const inManifest = new Set(check.manifest.map((m) => m.binary_prn));
  const left = bundle?.binaries.filter((b) => !inManifest.has(b.prn)) ?? [];
  if (left.length > 0) {
    throw new VerificationError(
      `the manifest for bundle ${check.bundle_prn} omits its binaries ${left.map((b) => b.prn).join(', ')}: a device would install part of the bundle`,
    );
  }
  for (const t of o.expectTargets ?? []) {
    if (!check.manifest.some((m) => m.target === t)) {
      throw new VerificationError(
        `the manifest for bundle ${check.bundle_prn} has no binary for target ${t} (input 'expect-targets'); bundle every target (create-bundle with expect-targets)`,
      );
    }
  }
  const items: VerifiedItem[] = [];
  for (const item of check.manifest) items.push(await verifyItem(item, o, logger));

  let recheck: UpdateCheck | undefined;
  if (o.write) {
    const release =
      check.source_type === 'release' ? await o.api.releases.getRelease(check.source_prn!) : undefined;
    const now: UpdateCheckBody = {
      ...(release ? { release_prn: release.prn } : {}),
      bundle_prn: check.bundle_prn!,
      ...(release?.version ? { release_version: release.version } : {}),
    };
    await o.api.releases.checkUpdate(device.prn, { ...now, write: true });
    recheck = await o.api.releases.checkUpdate(device.prn, now);
    if (recheck.status !== 'no_update') {
      throw new VerificationError(
        `after reporting bundle ${check.bundle_prn}, device ${device.identifier} is offered ${recheck.status} ${recheck.bundle_prn ?? ''}: it would update again and again; check the release's version and version requirement`,
      );
    }
    logger.info(`reported ${check.bundle_prn} for ${device.identifier}; the next check answers no_update`);
  }
  return { device, deviceCreated: created, check, items, recheck };
}
