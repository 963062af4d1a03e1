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

// The key setup of the README's getting-started section: a signing key pair named prod in config.json.
const KEY_SETUP = `
openssl genpkey -algorithm ed25519 -out private.pem
KEY_PRN=$(peridio signing-keys create --name prod \\
    --value "$(openssl pkey -in private.pem -pubout -outform DER | tail -c 32 | base64)" --output prn)
mkdir -p "$HOME/.config/peridio"
echo '{"version": 2, "profiles": {}, "signing_key_pairs": {"prod": {"signing_key_prn": "'"$KEY_PRN"'", "signing_key_private_path": "'"$PWD/private.pem"'"}}}' \\
    > "$HOME/.config/peridio/config.json"
`;

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

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
    peridio devices get-update --prn "$DEVICE_PRN" --release-version 1.0.0
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
