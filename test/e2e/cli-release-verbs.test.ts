/**
 * The README's "Placing a release, bundle overrides, and the remaining verbs" blocks, read from
 * packages/cli/README.md and run word for word with the bundled CLI against the registry process, after
 * the first block of its "Releases" section (whose state they continue). Each answer is checked against
 * the registry's own view. Then bad input: exit 2 for usage, 1 for a value to fix, the flag named.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { runShell } from '../helpers/run-cli.js';
import { KEY_SETUP, shBlocks } from './cli-readme.js';
import { startScene, writeTestFile, type Scene } from './scene.js';

let scene: Scene;
let env: Record<string, string>;

beforeAll(async () => {
  scene = await startScene();
  env = {
    HOME: mkdtempSync(join(tmpdir(), 'peridio-user-')),
    PERIDIO_BASE_URL: scene.registry.baseUrl,
    PERIDIO_API_KEY: scene.registry.apiKey,
  };
});
afterAll(() => scene?.stop());

// Answers are read loosely here; the fields asserted are what the test promises.
type Json = Record<string, any>;

const PRN = (type: string) => new RegExp(`^prn:1:[0-9a-f-]{36}:${type}:[0-9a-f-]{36}$`);

/** What the README run left, for the bad-input test. */
let state: Record<string, string> | undefined;

it('README: a hotfix placed between two releases, a bundle override with its devices, and products/devices/bundles/releases verbs', async () => {
  const [releases] = shBlocks('## Releases', 1);
  const [placement, overrides, others] = shBlocks(
    '### Placing a release, bundle overrides, and the remaining verbs',
    3,
  );
  for (const file of [
    'firmware-arm64.bin',
    'firmware-x86_64.bin',
    'firmware-1.0.1.bin',
    'firmware-1.1.0.bin',
  ])
    await writeTestFile(scene.dir, file, 100_000);
  const run = await runShell(
    `cd "${scene.dir}"
    ${KEY_SETUP}
    { ${releases} } > /dev/null
    echo "--- placement"
    ${placement}
    echo "--- overrides"
    ${overrides}
    echo "--- others"
    ${others}
    echo "--- state"
    echo "$PRODUCT_PRN $COHORT_PRN $DEVICE_PRN $BUNDLE_PRN $R1 $R2 $HOTFIX_BUNDLE_PRN $B110_PRN $OVERRIDE_PRN"`,
    { env, timeoutMs: 120_000 },
  );
  expect(run.code, run.stderr).toBe(0);
  const sections = Object.fromEntries(
    run.stdout
      .split(/^--- /m)
      .slice(1)
      .map((part) => {
        const [name, ...lines] = part.trimEnd().split('\n');
        return [name!, lines];
      }),
  ) as Record<string, string[]>;
  const [productPrn, cohortPrn, devicePrn, bundlePrn, r1, r2, hotfixBundle, b110, overridePrn] =
    sections.state![0]!.split(' ');

  // Placement: the hotfix went between 1.0.0 and 1.1.0, and the device on 1.0.0 is offered it.
  const p = sections.placement!;
  expect(p).toHaveLength(8);
  const [hotfixBinary, , hotfix] = [p[0]!, p[1]!, p[2]!];
  expect(hotfix).toMatch(PRN('release'));
  expect(p[3]).toMatch(/^PRN\s+NAME\s+VERSION\s+PHASE_MODE\s+PHASE_VALUE\s+DISABLED\s+NEXT_RELEASE_PRN$/);
  const rows = p.slice(4, 7);
  expect(rows.find((r) => r.startsWith(r1!))).toMatch(new RegExp(`\\sv1\\.0\\.0\\s.*\\s${hotfix}$`));
  expect(rows.find((r) => r.startsWith(hotfix))).toMatch(new RegExp(`\\sv1\\.0\\.1\\s.*\\s${r2}$`));
  expect(rows.find((r) => r.startsWith(r2!))).toMatch(/\sv1\.1\.0\s+1\.1\.0\s+numeric\s+1\s+false$/);
  expect(p[7]).toBe(hotfixBundle);
  const { body: created } = await scene.api<{ release: Json }>('GET', `/releases/${hotfix}`);
  expect(created.release).toMatchObject({ bundle_prn: hotfixBundle, required: true, version: '1.0.1' });

  // Overrides: while the device is in it, the check answers with the override's bundle.
  const o = sections.overrides!;
  expect(o).toHaveLength(9);
  expect(overridePrn).toMatch(PRN('bundle_override'));
  expect(o[0]).toBe(devicePrn);
  expect(o[1]).toBe(devicePrn);
  expect(o[2]).toMatch(/^STATUS\s+SOURCE_TYPE\s+SOURCE_PRN\s+BUNDLE_PRN\s+MANIFEST$/);
  expect(o[3]).toMatch(new RegExp(`^update\\s+bundle_override\\s+${overridePrn}\\s+${b110}\\s+1$`));
  expect(o[4]).toMatch(/^PRN\s+NAME\s+BUNDLE_PRN\s+STARTS_AT\s+ENDS_AT$/);
  expect(o[5]).toMatch(
    new RegExp(
      `^${overridePrn}\\s+early sn-0001\\s+${b110}\\s+2026-01-01T00:00:00\\S*\\s+2030-01-01T00:00:00\\S*$`,
    ),
  );
  expect((JSON.parse(o[6]!) as Json).bundle_override).toMatchObject({
    prn: overridePrn,
    name: 'early sn-0001',
    bundle_prn: b110,
    description: null,
  });
  expect(o[7]).toBe(overridePrn);
  // Removed from the override, the device is back on the releases: the hotfix again.
  expect(o[8]).toBe(hotfixBundle);
  expect((await scene.api('GET', `/bundle_overrides/${overridePrn}`)).status).toBe(404);

  // The other verbs.
  const v = sections.others!;
  expect(v).toHaveLength(11);
  expect(v[0]).toMatch(/^PRN\s+NAME\s+ARCHIVED$/);
  expect(v[1]).toMatch(new RegExp(`^${productPrn}\\s+gateway\\s+false$`));
  expect(v[2]).toBe(productPrn);
  expect(v[3]).toBe(devicePrn);
  expect(v[4]).toBe(devicePrn);
  expect(JSON.parse(v[5]!)).toMatchObject({ status: 'device_quarantine', bundle_prn: null });
  expect(v[6]).toBe(b110);
  expect(v[7]).toMatch(/^PRN\s+NAME\s+HASH\s+BINARIES$/);
  expect(v[8]).toMatch(new RegExp(`^${b110}\\s+firmware 1\\.1\\.0\\s+[0-9a-f]{64}\\s+1$`));
  expect(v.slice(9).sort()).toEqual([bundlePrn, hotfixBundle].sort());
  const { body: product } = await scene.api<{ product: Json }>('GET', `/products/${productPrn}`);
  expect(product.product.name).toBe('gateway-v2');
  const { body: device } = await scene.api<{ device: Json }>('GET', `/devices/${devicePrn}`);
  expect(device.device).toMatchObject({
    tags: ['lab', 'eu', 'beta'],
    quarantined: true,
    description: 'Returned for repair',
    cohort_prn: cohortPrn,
  });
  expect((await scene.api('GET', `/releases/${r2}`)).status).toBe(404);
  expect((await scene.api('GET', `/bundles/${b110}`)).status).toBe(404);
  // The release before the deleted one is the cohort's latest now.
  const { body: after } = await scene.api<{ release: Json }>('GET', `/releases/${hotfix}`);
  expect(after.release.next_release_prn).toBeNull();

  state = { productPrn: productPrn!, cohortPrn: cohortPrn!, devicePrn: devicePrn!, bundlePrn: bundlePrn! };
  state.r1 = r1!;
  state.hotfixBinary = hotfixBinary;
}, 180_000);

it('bad input: usage mistakes exit 2, values to fix exit 1, each naming the flag; nothing is created', async () => {
  expect(state, 'the README test above sets up the records').toBeDefined();
  const { productPrn, cohortPrn, devicePrn, bundlePrn, r1, hotfixBinary } = state!;
  const setup = await runShell(
    `SPARE=$(peridio bundles create --binary-prns "${hotfixBinary}" --name spare --output prn)
    OTHER_COHORT=$(peridio cohorts create --name other --product-prn "${productPrn}" --output prn)
    OTHER_RELEASE=$(peridio releases create --bundle-prn "$SPARE" --cohort-prn "$OTHER_COHORT" \\
        --name v1.0.2 --version 1.0.2 --output prn)
    P2=$(peridio products create --name doorbell --archived false --output prn)
    C2=$(peridio cohorts create --name doors --product-prn "$P2" --output prn)
    OVERRIDE=$(peridio bundle-overrides create --name o --bundle-prn "$SPARE" \\
        --starts-at 2026-01-01T00:00:00Z --description "for the bad input" --output prn)
    echo "$SPARE $OTHER_RELEASE $C2 $OVERRIDE"`,
    { env },
  );
  expect(setup.code, setup.stderr).toBe(0);
  const [spare, otherRelease, c2, override] = setup.stdout.trim().split(' ');
  const org = devicePrn!.split(':')[2]!;
  const release = `peridio releases create --bundle-prn "${spare}" --cohort-prn "${cohortPrn}" --name v1.0.2 --version 1.0.2`;

  const cases: [string, number, RegExp][] = [
    [
      `peridio bundle-overrides create --name x --bundle-prn "${spare}"`,
      2,
      /missing required flag --starts-at/,
    ],
    [
      `peridio bundle-overrides create --name x --bundle-prn "${spare}" --starts-at 2026-02-01T00:00:00Z --ends-at 2026-01-01T00:00:00Z`,
      1,
      /--ends-at: POST \/bundle_overrides failed with HTTP 422: .*ends_at must be after starts_at/,
    ],
    [
      `peridio bundle-overrides create --name x --bundle-prn "${spare}" --starts-at tomorrow`,
      1,
      /--starts-at: POST \/bundle_overrides failed with HTTP 422/,
    ],
    [
      `peridio bundle-overrides devices add --prn "${override}" --device-prn prn:1:${org}:device:${randomUUID()}`,
      1,
      /HTTP 404: Not Found: device_prn prn:1:/,
    ],
    [
      `peridio bundle-overrides devices frob --prn "${override}"`,
      2,
      /bundle-overrides has no verb 'devices frob'/,
    ],
    [`peridio bundle-overrides devices add --prn "${override}"`, 2, /missing required flag --device-prn/],
    [
      `peridio devices update --prn "${devicePrn}" --quarantined maybe`,
      2,
      /--quarantined must be one of true, false/,
    ],
    [
      `peridio devices update --prn "${devicePrn}" --cohort-prn "${c2}"`,
      1,
      /--cohort-prn: PATCH \/devices\/\S+ failed with HTTP 422: cohort_prn must be a cohort of the device's product/,
    ],
    [
      `peridio devices update --prn "${devicePrn}" --product-prn "${productPrn}"`,
      2,
      /unknown flag --product-prn/,
    ],
    [
      `${release} --next-release-prn v1.0.0`,
      1,
      /--next-release-prn: 'v1\.0\.0' is not a PRN; expected prn:1:<org-uuid>:release:<uuid>/,
    ],
    [
      `${release} --next-release-prn "${otherRelease}"`,
      1,
      new RegExp(`--next-release-prn: ${otherRelease} is not a release of cohort canary`),
    ],
    [
      `${release} --previous-release-prn "${r1}"`,
      1,
      /--previous-release-prn: POST \/releases failed with HTTP 422: .*only appends after the latest release/,
    ],
    [
      `${release} --next-release-prn "${r1}" --complete-previous`,
      1,
      /--complete-previous: applies to a new latest release only/,
    ],
    [`peridio bundles delete --prn "${bundlePrn}"`, 1, /HTTP 409: .*is in use by release prn:1:/],
    [`peridio bundles update --prn "${bundlePrn}"`, 2, /missing required flag --name/],
    [
      `peridio products update --prn "${productPrn}" --name doorbell`,
      1,
      /--name: PATCH \/products\/\S+ failed with HTTP 422: name has already been taken/,
    ],
    [
      `peridio products update --prn "${productPrn}" --archived yes`,
      2,
      /--archived must be one of true, false/,
    ],
  ];
  for (const [line, code, message] of cases) {
    const run = await runShell(line, { env });
    expect([line, run.code]).toEqual([line, code]);
    expect(run.stdout).toBe('');
    expect(run.stderr).toMatch(message);
  }

  // None of the refused commands created or changed anything.
  const { body: releases } = await scene.api<{ releases: Json[] }>(
    'GET',
    `/releases?search=${encodeURIComponent(`cohort_prn:'${cohortPrn}'`)}`,
  );
  expect(releases.releases.map((r) => r.bundle_prn)).not.toContain(spare);
  const { body: overrides } = await scene.api<{ bundle_overrides: Json[] }>('GET', '/bundle_overrides');
  expect(overrides.bundle_overrides.map((o) => o.prn)).toEqual([override]);
  const { body: devices } = await scene.api<{ devices: Json[] }>(
    'GET',
    `/bundle_overrides/${override}/devices`,
  );
  expect(devices.devices).toEqual([]);
  const { body: device } = await scene.api<{ device: Json }>('GET', `/devices/${devicePrn}`);
  expect(device.device.cohort_prn).toBe(cohortPrn);
  expect((await scene.api('GET', `/bundles/${bundlePrn}`)).status).toBe(200);
  const { body: product } = await scene.api<{ product: Json }>('GET', `/products/${productPrn}`);
  expect(product.product).toMatchObject({ name: 'gateway-v2', archived: false });
}, 180_000);
