/**
 * For fleet-migrate.test.ts: a release flow to migrate, what a registry answers about it before and after,
 * and what the PostgreSQL database it lands in holds.
 */
import pg from 'pg';
import {
  call,
  createArtifactVersion,
  listAll,
  makeKey,
  ok,
  publishRaw,
  registerKey,
  type Registry,
} from './registry-api.js';

/** The lists a migrated registry must answer as the embedded one did. */
const LISTS = [
  'products',
  'cohorts',
  'devices',
  'bundles',
  'bundle_signatures',
  'releases',
  'bundle_overrides',
  'events',
] as const;

export async function releaseSnapshot(
  r: Registry,
  overridePrn: string,
): Promise<Record<(typeof LISTS)[number] | 'override_devices', any[]>> {
  const out: Partial<Record<(typeof LISTS)[number] | 'override_devices', any[]>> = {};
  for (const list of LISTS) out[list] = await listAll(r, list);
  out.override_devices = (await ok(r, 'GET', `/bundle_overrides/${overridePrn}/devices?limit=100`)).devices;
  return out as Record<(typeof LISTS)[number] | 'override_devices', any[]>;
}

/** What an update check offers, without the download URLs (the fleet's point at S3). */
export function offered(reply: any) {
  return {
    status: reply.status,
    source_type: reply.source_type,
    source_prn: reply.source_prn,
    bundle_prn: reply.bundle_prn,
    manifest: reply.manifest.map(({ url: _url, ...entry }: { url: string }) => entry),
  };
}

/**
 * Product, an archived product, a cohort of four devices (one quarantined, with tags), three signed
 * bundles (one signed as a bundle too), release 1.0.0 → phased release 2.0.0 at 25 % (one device's worth,
 * claimed by device 0, so device 1 is refused), an override of device 2, and the events of those checks.
 */
export async function buildReleaseFlow(r: Registry) {
  const key = makeKey();
  const keyPrn = await registerKey(r, key, 'release key');
  const bundleOf = async (name: string) => {
    const { versionPrn } = await createArtifactVersion(r, name);
    const content = Buffer.from(`${name} firmware\n`.repeat(2000));
    const binary = await publishRaw(r, { versionPrn, target: 'arm', content, key, keyPrn });
    const { bundle } = await ok(r, 'POST', '/bundles', {
      name,
      binaries: [{ prn: binary.prn, custom_metadata: { part: name } }],
    });
    return {
      prn: bundle.prn as string,
      hash: bundle.hash as string,
      binaryPrn: binary.prn,
      binaryId: binary.prn.split(':').at(-1)!,
      size: content.length,
      contentHash: binary.hash,
    };
  };
  const baseBundle = await bundleOf('base');
  const phasedBundle = await bundleOf('phased');
  const hotfix = await bundleOf('hotfix');
  await ok(r, 'POST', '/bundle_signatures', {
    bundle_prn: baseBundle.prn,
    signing_key_prn: keyPrn,
    signature: key.signHash(baseBundle.hash),
  });

  const { product } = await ok(r, 'POST', '/products', { name: 'gateway' });
  await ok(r, 'POST', '/products', { name: 'retired', archived: true });
  const { cohort } = await ok(r, 'POST', '/cohorts', { name: 'field', product_prn: product.prn });
  const devices: string[] = [];
  for (let i = 0; i < 4; i++) {
    const { device } = await ok(r, 'POST', '/devices', {
      identifier: `device-${i}`,
      product_prn: product.prn,
      cohort_prn: cohort.prn,
      ...(i === 3 ? { quarantined: true, tags: ['lab', 'bench'] } : {}),
    });
    devices.push(device.prn);
  }
  const releaseOf = async (bundlePrn: string, version: string, phase: number) =>
    (
      await ok(r, 'POST', '/releases', {
        bundle_prn: bundlePrn,
        cohort_prn: cohort.prn,
        name: `release ${version}`,
        version,
        required: version === '1.0.0',
        schedule_date: '2025-01-01T00:00:00Z',
        phase_value: phase,
      })
    ).release;
  const base = await releaseOf(baseBundle.prn, '1.0.0', 1);
  const phased = await releaseOf(phasedBundle.prn, '2.0.0', 0.25);
  const { bundle_override: override } = await ok(r, 'POST', '/bundle_overrides', {
    bundle_prn: hotfix.prn,
    name: 'hotfix for device 2',
    starts_at: '2025-01-01T00:00:00Z',
  });
  await ok(r, 'POST', `/bundle_overrides/${override.prn}/devices`, { device_prn: devices[2] });

  const onBase = { release_prn: base.prn, release_version: '1.0.0' };
  const checks: [string, Record<string, unknown>][] = [
    [devices[0]!, { ...onBase, write: true }],
    [devices[1]!, onBase],
    [devices[2]!, onBase],
    [devices[3]!, onBase],
  ];
  const answers = new Map<string, ReturnType<typeof offered>>();
  for (const [device, body] of checks) {
    const reply = await call(r, 'POST', `/devices/${device}/update`, { body });
    if (reply.status !== 200) throw new Error(`update check: HTTP ${reply.status} ${reply.text}`);
    answers.set(device, offered(reply.json));
  }
  const statuses = checks.map(([device]) => answers.get(device)!.status);
  if (statuses.join() !== 'update,no_update,update,device_quarantine')
    throw new Error(`the flow did not come out as designed: ${statuses.join()}`);
  if (answers.get(devices[0]!)!.source_prn !== phased.prn) throw new Error('device 0 was not offered 2.0.0');

  return {
    productPrn: product.prn as string,
    cohortPrn: cohort.prn as string,
    overridePrn: override.prn as string,
    phased: { prn: phased.prn as string },
    base: {
      binaryPrn: baseBundle.binaryPrn,
      binaryId: baseBundle.binaryId,
      size: baseBundle.size,
      hash: baseBundle.contentHash,
    },
    checks,
    answers,
  };
}

/** The rows of one query on the database (to read what a re-run must leave as it was). */
export async function rowsOf(url: string, text: string): Promise<Record<string, unknown>[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(text)).rows;
  } finally {
    await client.end();
  }
}

/** Rows of every table, after running `statements` (to take some away, as a crash would have left it). */
export async function tableCounts(url: string, statements: string[] = []): Promise<Record<string, number>> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    for (const s of statements) await client.query(s);
    const { rows } = await client.query<{ table_name: string }>(
      `SELECT table_name FROM information_schema.tables
       WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' ORDER BY table_name`,
    );
    const counts: Record<string, number> = {};
    for (const { table_name } of rows) {
      const { rows: n } = await client.query<{ n: string }>(`SELECT count(*) AS n FROM "${table_name}"`);
      counts[table_name] = Number(n[0]!.n);
    }
    return counts;
  } finally {
    await client.end();
  }
}
