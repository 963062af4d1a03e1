/**
 * The getting-started sequence of Peridio's docs, typed as a person would, against the registry process
 * with the bundled CLI: artifact → version → an openssl Ed25519 key → `signing-keys create --value` →
 * a signing key pair in the config → `binaries create --content-path --signing-key-pair` → signed.
 * Then the everyday commands on the result: list by target, get as a table, destroy.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { runShell } from '../helpers/run-cli.js';
import {
  downloadSha256,
  getBinary,
  signatureVerifies,
  startScene,
  writeTestFile,
  type Scene,
} from './scene.js';

let scene: Scene;
let home: string;
let env: Record<string, string>;

beforeAll(async () => {
  scene = await startScene();
  // The default config directory of Peridio's CLI on Linux: $HOME/.config/peridio.
  home = mkdtempSync(join(tmpdir(), 'peridio-user-'));
  env = { HOME: home, PERIDIO_BASE_URL: scene.registry.baseUrl, PERIDIO_API_KEY: scene.registry.apiKey };
});
afterAll(() => scene?.stop());

it('getting started: artifact, version, key, signing key, binaries create --content-path --signing-key-pair prod → signed', async () => {
  // 3 parts of 5 MiB + a tail, so the upload is really multipart.
  const file = await writeTestFile(scene.dir, 'firmware.bin', 3 * 5_242_880 + 1234);
  const run = await runShell(
    `
    cd "${scene.dir}"
    ARTIFACT_PRN=$(peridio artifacts create --name firmware --output prn)
    VERSION_PRN=$(peridio artifact-versions create --artifact-prn "$ARTIFACT_PRN" --version 1.0.0 --output prn)
    openssl genpkey -algorithm ed25519 -out private.pem
    openssl pkey -in private.pem -pubout -out public.pem
    KEY_PRN=$(peridio signing-keys create --name prod \\
        --value "$(openssl pkey -in private.pem -pubout -outform DER | tail -c 32 | base64)" --output prn)
    mkdir -p "$HOME/.config/peridio"
    echo '{"version": 2, "profiles": {}, "signing_key_pairs": {"prod": {"signing_key_prn": "'"$KEY_PRN"'", "signing_key_private_path": "'"$PWD/private.pem"'"}}}' \\
        > "$HOME/.config/peridio/config.json"
    peridio binaries create --artifact-version-prn "$VERSION_PRN" --target arm64-linux \\
        --content-path firmware.bin --signing-key-pair prod --binary-part-size 5242880
    `,
    { env, timeoutMs: 120_000 },
  );
  expect(run.code, run.stderr).toBe(0);
  // stdout is only the result: one line of JSON, the binary under its key, as Peridio's CLI prints it.
  const lines = run.stdout.trim().split('\n');
  expect(lines).toHaveLength(1);
  const { binary } = JSON.parse(lines[0]!) as {
    binary: { prn: string; state: string; hash: string; target: string };
  };
  expect(binary).toMatchObject({ state: 'signed', hash: file.sha256, target: 'arm64-linux' });

  const record = await getBinary(scene, binary.prn);
  expect(record.state).toBe('signed');
  expect(record.signatures).toHaveLength(1);
  const publicPem = readFileSync(join(scene.dir, 'public.pem'), 'utf8');
  expect(signatureVerifies(file.sha256, record.signatures![0]!.signature, publicPem)).toBe(true);
  expect(await downloadSha256(scene, binary.prn)).toBe(file.sha256);
  // Progress goes to stderr as plain lines when it is not a terminal: no carriage returns, no bar.
  expect(run.stderr).not.toMatch(/\r|\[#/);
  expect(run.stderr).toMatch(/Uploading 4 of 4 parts/);

  // The same command again publishes nothing new and prints the same binary.
  const again = await runShell(
    `cd "${scene.dir}"
    VERSION_PRN=$(peridio artifact-versions list --search "version:'1.0.0'" --output prn)
    peridio binaries create --artifact-version-prn "$VERSION_PRN" --target arm64-linux \\
        --content-path firmware.bin --signing-key-pair prod --binary-part-size 5242880 --output prn`,
    { env, timeoutMs: 60_000 },
  );
  expect(again.code, again.stderr).toBe(0);
  expect(again.stdout).toBe(`${binary.prn}\n`);
  expect(again.stderr).toMatch(/already signed by this key/);
});

it('binaries list --target finds the binary; get --output table shows it; destroy leaves it destroyed', async () => {
  const run = await runShell(
    `
    VERSION_PRN=$(peridio artifact-versions list --search "version:'1.0.0'" --output prn)
    BINARY_PRN=$(peridio binaries list --artifact-version-prn "$VERSION_PRN" --target arm64-linux --output prn)
    echo "found $BINARY_PRN"
    peridio binaries list --target no-such-target --output prn | wc -l
    peridio binaries get --prn "$BINARY_PRN" --output table
    peridio binaries destroy --prn "$BINARY_PRN"
    peridio binaries get --prn "$BINARY_PRN" --output json
    `,
    { env },
  );
  expect(run.code, run.stderr).toBe(0);
  const out = run.stdout.split('\n');
  const prn = /^found (\S+)$/.exec(out[0]!)?.[1];
  expect(prn).toMatch(/^prn:1:[^:]+:binary:/);
  expect(out[1]!.trim()).toBe('0');
  expect(out[2]).toMatch(/^PRN\s+TARGET\s+STATE\s+SIZE\s+HASH$/);
  expect(out[3]).toMatch(new RegExp(`^${prn}\\s+arm64-linux\\s+signed\\s+15729874\\s+[0-9a-f]{64}$`));
  expect(JSON.parse(out[4]!).binary).toMatchObject({ prn, state: 'destroyed' });
  expect((await getBinary(scene, prn!)).state).toBe('destroyed');
});
