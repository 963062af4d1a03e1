/**
 * Release management with the bundled CLI against the registry process, as the README's "Releases"
 * section types it: product → cohort → device → a bundle of two signed binaries → release → the update
 * check offers it with a manifest; `--write` records it and the next check says no_update. Then a phased
 * release widened with `releases promote`, `--output prn` chained in a pipeline, and bad input.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { runShell } from '../helpers/run-cli.js';
import { KEY_SETUP } from './cli-readme.js';
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

it('product → cohort → device → bundle of two signed binaries → release → get-update offers the manifest; --write, then no_update', async () => {
  const arm = await writeTestFile(scene.dir, 'firmware-arm64.bin', 300_000);
  const x86 = await writeTestFile(scene.dir, 'firmware-x86_64.bin', 200_000);
  const run = await runShell(
    `cd "${scene.dir}"
    ${KEY_SETUP}
    ARTIFACT_PRN=$(peridio artifacts create --name firmware --output prn)
    VERSION_PRN=$(peridio artifact-versions create --artifact-prn "$ARTIFACT_PRN" --version 1.0.0 --output prn)
    peridio binaries create --artifact-version-prn "$VERSION_PRN" --target arm64-linux \\
        --content-path firmware-arm64.bin --signing-key-pair prod --output prn
    peridio binaries create --artifact-version-prn "$VERSION_PRN" --target x86_64-linux \\
        --content-path firmware-x86_64.bin --signing-key-pair prod --output prn
    PRODUCT_PRN=$(peridio products create --name gateway --output prn)
    COHORT_PRN=$(peridio cohorts create --name canary --product-prn "$PRODUCT_PRN" --output prn)
    DEVICE_PRN=$(peridio devices create --identifier sn-0001 --product-prn "$PRODUCT_PRN" \\
        --cohort-prn "$COHORT_PRN" --tags lab,eu --output prn)
    BUNDLE_PRN=$(peridio bundles create --artifact-version-prns "$VERSION_PRN" --output prn)
    peridio bundles create --artifact-version-prns "$VERSION_PRN" --output prn
    peridio bundles get --prn "$BUNDLE_PRN"
    RELEASE_PRN=$(peridio releases create --bundle-prn "$BUNDLE_PRN" --cohort-prn "$COHORT_PRN" \\
        --name v1.0.0 --version 1.0.0 --output prn)
    peridio devices get-update --prn "$DEVICE_PRN" --release-version 0.9.0
    peridio devices get-update --prn "$DEVICE_PRN" --release-prn "$RELEASE_PRN" --write --output table
    peridio devices get-update --device-prn "$DEVICE_PRN" --release-version 1.0.0
    peridio devices get --prn "$DEVICE_PRN"
    echo "$PRODUCT_PRN $COHORT_PRN $DEVICE_PRN $BUNDLE_PRN $RELEASE_PRN"`,
    { env, timeoutMs: 120_000 },
  );
  expect(run.code, run.stderr).toBe(0);
  const out = run.stdout.trim().split('\n');
  const [armPrn, x86Prn] = [out[0]!, out[1]!];
  const [productPrn, cohortPrn, devicePrn, bundlePrn, releasePrn] = out[out.length - 1]!.split(' ');
  expect(productPrn).toMatch(/^prn:1:[^:]+:product:/);
  expect(cohortPrn).toMatch(/^prn:1:[^:]+:cohort:/);
  expect(devicePrn).toMatch(/^prn:1:[^:]+:device:/);
  expect(releasePrn).toMatch(/^prn:1:[^:]+:release:/);
  // The re-run of bundles create printed the same bundle: the id comes from the content.
  expect(out[2]).toBe(bundlePrn);
  const bundle = (JSON.parse(out[3]!) as Json).bundle;
  expect(bundle.prn).toBe(bundlePrn);
  expect(bundle.binaries.map((b: Json) => b.prn)).toEqual([armPrn, x86Prn]);
  const { body: bundles } = await scene.api<{ bundles: unknown[] }>('GET', '/bundles');
  expect(bundles.bundles).toHaveLength(1);

  const offer = JSON.parse(out[4]!) as Json;
  expect(offer).toMatchObject({
    status: 'update',
    source_type: 'release',
    source_prn: releasePrn,
    bundle_prn: bundlePrn,
  });
  expect(offer.manifest.map((m: Json) => [m.target, m.binary_prn, m.hash, m.size]).sort()).toEqual([
    ['arm64-linux', armPrn, arm.sha256, 300_000],
    ['x86_64-linux', x86Prn, x86.sha256, 200_000],
  ]);
  for (const m of offer.manifest) expect(m.signatures.map((s: Json) => s.keyid)).toHaveLength(1);
  // --write with the release it now runs: the table says no_update, and so does the next check.
  expect(out[5]).toMatch(/^STATUS\s+SOURCE_TYPE\s+SOURCE_PRN\s+BUNDLE_PRN\s+MANIFEST$/);
  expect(out[6]).toMatch(/^no_update\b/);
  expect(JSON.parse(out[7]!)).toMatchObject({ status: 'no_update', manifest: [] });
  expect((JSON.parse(out[8]!) as Json).device).toMatchObject({
    prn: devicePrn,
    cohort_prn: cohortPrn,
    tags: ['lab', 'eu'],
    reported_release_prn: releasePrn,
    reported_bundle_prn: bundlePrn,
    reported_release_version: '1.0.0',
  });
});

it('a phased release widened with releases promote, --output prn chained in a pipeline, and the get/list/update verbs', async () => {
  await writeTestFile(scene.dir, 'app-1.0.0.bin', 50_000);
  await writeTestFile(scene.dir, 'app-1.1.0.bin', 60_000);
  const run = await runShell(
    `cd "${scene.dir}"
    ARTIFACT_PRN=$(peridio artifacts create --name app --output prn)
    V1=$(peridio artifact-versions create --artifact-prn "$ARTIFACT_PRN" --version 1.0.0 --output prn)
    V2=$(peridio artifact-versions create --artifact-prn "$ARTIFACT_PRN" --version 1.1.0 --output prn)
    peridio binaries create --artifact-version-prn "$V1" --target arm64-linux \\
        --content-path app-1.0.0.bin --signing-key-pair prod --output prn > /dev/null
    B2=$(peridio binaries create --artifact-version-prn "$V2" --target arm64-linux \\
        --content-path app-1.1.0.bin --signing-key-pair prod --output prn)
    PRODUCT_PRN=$(peridio products create --name sensor --output prn)
    peridio products list --search "name:'sensor'" --output table
    COHORT_PRN=$(peridio cohorts create --name fleet --product-prn "$PRODUCT_PRN" --output prn)
    peridio cohorts update --prn "$COHORT_PRN" --description "Every sensor" --output prn
    peridio cohorts get --prn "$COHORT_PRN" --output table
    peridio cohorts list --search "product_prn:'$PRODUCT_PRN'" --output prn
    DEVICE_PRN=$(peridio devices create --identifier sn-0002 --product-prn "$PRODUCT_PRN" \\
        --cohort-prn "$COHORT_PRN" --tags lab --output prn)
    peridio devices list --search "cohort_prn:'$COHORT_PRN'" --output table
    # Chained: the bundle PRN goes straight into the release, the release PRN into the update check.
    R1=$(peridio bundles create --artifact-version-prns "$V1" --output prn \\
        | xargs -I{} peridio releases create --bundle-prn {} --cohort-prn "$COHORT_PRN" \\
            --name v1.0.0 --version 1.0.0 --output prn)
    peridio devices get-update --prn "$DEVICE_PRN" --release-prn "$R1" --write --output prn
    # 1.1.0 goes to the beta tag only: this lab device is not offered it until the release is promoted.
    R2=$(peridio bundles create --binary-prns "$B2" --name "app 1.1.0" --output prn \\
        | xargs -I{} peridio releases create --bundle-prn {} --cohort-prn "$COHORT_PRN" \\
            --name v1.1.0 --version 1.1.0 --phase-tags beta --disabled true --output prn)
    peridio releases update --prn "$R2" --disabled false --description "Faster sampling" --output table
    peridio devices get-update --prn "$DEVICE_PRN" --release-prn "$R1"
    peridio releases promote --prn "$R2" --phase-tags beta,lab --output table
    peridio devices get-update --prn "$DEVICE_PRN" --release-prn "$R1" --output prn
    peridio releases promote --prn "$R2" --phase-tags beta,lab --output prn
    peridio releases get --prn "$R2"
    peridio releases list --search "cohort_prn:'$COHORT_PRN'" --output table
    peridio bundles create --binary-prns "$B2" --name "app 1.1.0" --output prn
    echo "$PRODUCT_PRN $COHORT_PRN $R1 $R2 $B2"`,
    { env, timeoutMs: 120_000 },
  );
  expect(run.code, run.stderr).toBe(0);
  const out = run.stdout.trim().split('\n');
  const [productPrn, cohortPrn, r1, r2, b2] = out[out.length - 1]!.split(' ');
  expect(out[0]).toMatch(/^PRN\s+NAME\s+ARCHIVED$/);
  expect(out[1]).toMatch(new RegExp(`^${productPrn}\\s+sensor\\s+false$`));
  expect(out[2]).toBe(cohortPrn);
  expect(out[3]).toMatch(/^PRN\s+NAME\s+PRODUCT_PRN\s+DESCRIPTION$/);
  expect(out[4]).toMatch(new RegExp(`^${cohortPrn}\\s+fleet\\s+${productPrn}\\s+Every sensor$`));
  expect(out[5]).toBe(cohortPrn);
  expect(out[6]).toMatch(/^PRN\s+IDENTIFIER\s+COHORT_PRN\s+REPORTED_RELEASE_VERSION$/);
  expect(out[7]).toMatch(new RegExp(`\\ssn-0002\\s+${cohortPrn}$`));
  // --write with the release it runs: no_update offers no bundle, so --output prn prints an empty line.
  expect(out[8]).toBe('');
  expect(out[9]).toMatch(/^PRN\s+NAME\s+VERSION\s+PHASE_MODE\s+PHASE_VALUE\s+DISABLED\s+NEXT_RELEASE_PRN$/);
  expect(out[10]).toMatch(new RegExp(`^${r2}\\s+v1\\.1\\.0\\s+1\\.1\\.0\\s+tags\\s+\\S+\\s+false$`));
  expect(JSON.parse(out[11]!)).toMatchObject({ status: 'no_update' });
  expect(out[13]).toMatch(new RegExp(`^${r2}\\s+v1\\.1\\.0\\s+1\\.1\\.0\\s+tags\\s`));
  const { body: r2Body } = await scene.api<{ release: Json }>('GET', `/releases/${r2}`);
  const bundle2 = r2Body.release.bundle_prn as string;
  expect(out[14]).toBe(bundle2);
  // Promoting again to what it already has changes nothing and prints the same release.
  expect(out[15]).toBe(r2);
  expect((JSON.parse(out[16]!) as Json).release).toMatchObject({
    prn: r2,
    phase_mode: 'tags',
    phase_tags: ['beta', 'lab'],
    disabled: false,
    description: 'Faster sampling',
    version: '1.1.0',
  });
  const { body: bundle } = await scene.api<{ bundle: Json }>('GET', `/bundles/${bundle2}`);
  expect(bundle.bundle).toMatchObject({ name: 'app 1.1.0', binaries: [{ prn: b2 }] });
  // The list in graph order: 1.0.0 points at 1.1.0.
  expect(out[18]).toMatch(new RegExp(`^${r1}\\s+v1\\.0\\.0\\s.*\\s${r2}$`));
  expect(out[19]).toMatch(new RegExp(`^${r2}\\s`));
  // From binary PRNs too, the same command again gives the same bundle.
  expect(out[20]).toBe(bundle2);
});

it('bad input exits 1 naming the flag: a cohort of another product, a version that is not SemVer, a phase out of range', async () => {
  const setup = await runShell(
    `P1=$(peridio products create --name camera --output prn)
    P2=$(peridio products create --name doorbell --output prn)
    C1=$(peridio cohorts create --name cams --product-prn "$P1" --output prn)
    echo "$P1 $P2 $C1"`,
    { env },
  );
  expect(setup.code, setup.stderr).toBe(0);
  const [, p2, c1] = setup.stdout.trim().split(' ');
  const otherProduct = await runShell(
    `peridio devices create --identifier door-1 --product-prn "${p2}" --cohort-prn "${c1}"`,
    { env },
  );
  expect(otherProduct.code).toBe(1);
  expect(otherProduct.stdout).toBe('');
  expect(otherProduct.stderr).toMatch(/--cohort-prn: .*cohort of the device's product/);

  const { body } = await scene.api<{ bundles: Json[] }>('GET', '/bundles');
  const bundlePrn = body.bundles[0]!.prn as string;
  const notSemVer = await runShell(
    `peridio releases create --bundle-prn "${bundlePrn}" --cohort-prn "${c1}" --name v1.2 --version 1.2`,
    { env },
  );
  expect(notSemVer.code).toBe(1);
  expect(notSemVer.stderr).toMatch(/--version: '1\.2' is not a semantic version/);
  const phase = await runShell(
    `peridio releases create --bundle-prn "${bundlePrn}" --cohort-prn "${c1}" --name v1.2.0 --version 1.2.0 --phase-value 1.5`,
    { env },
  );
  expect(phase.code).toBe(1);
  expect(phase.stderr).toMatch(/--phase-value: '1\.5' is not a phase/);
  const { body: releases } = await scene.api<{ releases: Json[] }>(
    'GET',
    `/releases?search=${encodeURIComponent(`cohort_prn:'${c1}'`)}`,
  );
  expect(releases.releases).toEqual([]);
});
