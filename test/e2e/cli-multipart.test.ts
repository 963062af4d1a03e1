/**
 * The manual forms with the bundled CLI: a record made from `--hash`/`--size`, its parts sent one
 * `binary-parts create` each from `split` output, the state moved by hand, a signature made by openssl
 * and attached with `binary-signatures create`; and `binaries upload` for a record made beforehand.
 */
import { readFileSync } from 'node:fs';
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
let env: Record<string, string>;

beforeAll(async () => {
  scene = await startScene();
  env = { PERIDIO_BASE_URL: scene.registry.baseUrl, PERIDIO_API_KEY: scene.registry.apiKey };
  const setup = await runShell(
    `cd "${scene.dir}"
    openssl genpkey -algorithm ed25519 -out private.pem
    openssl pkey -in private.pem -pubout -out public.pem
    peridio signing-keys create --name manual --path public.pem --output prn > key-prn
    ARTIFACT_PRN=$(peridio artifacts create --name multipart --output prn)
    peridio artifact-versions create --artifact-prn "$ARTIFACT_PRN" --version 2.0.0 --output prn > version-prn`,
    { env },
  );
  expect(setup.code, setup.stderr).toBe(0);
});
afterAll(() => scene?.stop());

it('binaries create --hash sha256:… --size, binary-parts create per part, update --state hashable → signable; an openssl signature → signed', async () => {
  const file = await writeTestFile(scene.dir, 'firmware.bin', 2 * 5_242_880 + 777);
  const run = await runShell(
    `cd "${scene.dir}"
    VERSION_PRN=$(cat version-prn)
    BINARY_PRN=$(peridio binaries create --artifact-version-prn "$VERSION_PRN" --target x86_64-linux \\
        --hash "sha256:$(sha256sum firmware.bin | cut -d' ' -f1)" --size "$(stat -c%s firmware.bin)" --output prn)
    split -b 5242880 -d -a 2 firmware.bin part.
    n=1
    for part in part.*; do
      peridio binary-parts create --binary-prn "$BINARY_PRN" --index "$n" --file "$part" --output prn
      n=$((n + 1))
    done
    peridio binary-parts list --binary-prn "$BINARY_PRN" --output table
    peridio binaries update --prn "$BINARY_PRN" --state hashable --output prn
    peridio binaries update --prn "$BINARY_PRN" --state hashing --output prn
    until [ "$(peridio binaries get --prn "$BINARY_PRN" --output table | awk 'NR == 2 { print $3 }')" = signable ]; do
      sleep 0.2
    done
    HASH=$(sha256sum firmware.bin | cut -d' ' -f1)
    printf %s "$HASH" > hash.txt
    SIGNATURE=$(openssl pkeyutl -sign -inkey private.pem -rawin -in hash.txt | base64 -w0)
    KEYID=$(openssl pkey -in private.pem -pubout -outform DER | tail -c 32 | sha256sum | cut -d' ' -f1)
    peridio binary-signatures create --binary-prn "$BINARY_PRN" --signature "$SIGNATURE" \\
        --signing-key-keyid "$KEYID" --output prn
    peridio binaries update --prn "$BINARY_PRN" --state signed --output table`,
    { env, timeoutMs: 120_000 },
  );
  expect(run.code, run.stderr).toBe(0);
  const out = run.stdout.trim().split('\n');
  // Three parts, each printed as its PRN.
  expect(out.slice(0, 3).every((l) => /^prn:1:[^:]+:binary_part:/.test(l))).toBe(true);
  expect(out[3]).toMatch(/^PRN\s+INDEX\s+SIZE\s+STATE\s+HASH$/);
  expect(out.slice(4, 7).map((l) => l.split(/\s+/).slice(1, 4))).toEqual([
    ['1', '5242880', 'valid'],
    ['2', '5242880', 'valid'],
    ['3', '777', 'valid'],
  ]);
  const binaryPrn = out[7]!;
  expect(out[8]).toBe(binaryPrn);
  expect(out[9]).toMatch(/^prn:1:[^:]+:binary_signature:/);
  expect(out[11]).toMatch(
    new RegExp(`^${binaryPrn}\\s+x86_64-linux\\s+signed\\s+${file.size}\\s+${file.sha256}$`),
  );

  const record = await getBinary(scene, binaryPrn);
  expect(record.state).toBe('signed');
  const publicPem = readFileSync(join(scene.dir, 'public.pem'), 'utf8');
  expect(signatureVerifies(file.sha256, record.signatures![0]!.signature, publicPem)).toBe(true);
  expect(await downloadSha256(scene, binaryPrn)).toBe(file.sha256);
});

it('binaries upload --binary-prn --file ends signable; binary-signatures create --signing-key-private signs it; list and delete', async () => {
  const file = await writeTestFile(scene.dir, 'app.bin', 6_000_000);
  const run = await runShell(
    `cd "${scene.dir}"
    BINARY_PRN=$(peridio binaries create --artifact-version-prn "$(cat version-prn)" --target riscv64 \\
        --hash "$(sha256sum app.bin | cut -d' ' -f1)" --size "$(stat -c%s app.bin)" --output prn)
    peridio binaries upload --binary-prn "$BINARY_PRN" --file app.bin --output table
    SIGNATURE_PRN=$(peridio binary-signatures create --binary-prn "$BINARY_PRN" \\
        --signing-key-prn "$(cat key-prn)" --signing-key-private private.pem --output prn)
    peridio binary-signatures list --search "binary_prn:'$BINARY_PRN'" --output prn
    peridio binaries get --prn "$BINARY_PRN" --output table
    openssl genpkey -algorithm ed25519 -out second.pem
    openssl pkey -in second.pem -pubout -out second-public.pem
    peridio signing-keys create --name second --path second-public.pem --output prn
    SECOND_PRN=$(peridio binary-signatures create --binary-prn "$BINARY_PRN" --signing-key-private second.pem --output prn)
    peridio binary-signatures list --search "binary_prn:'$BINARY_PRN'" --output prn | wc -l
    peridio binary-signatures delete --binary-signature-prn "$SECOND_PRN"
    peridio binary-signatures list --search "binary_prn:'$BINARY_PRN'" --output prn
    echo "$SIGNATURE_PRN"`,
    { env, timeoutMs: 120_000 },
  );
  expect(run.code, run.stderr).toBe(0);
  const out = run.stdout.trim().split('\n');
  expect(out[1]).toMatch(new RegExp(`\\sriscv64\\s+signable\\s+${file.size}\\s+${file.sha256}$`));
  const binaryPrn = out[1]!.split(/\s+/)[0]!;
  expect(out[2]).toMatch(/^prn:1:[^:]+:binary_signature:/);
  expect(out[4]).toMatch(new RegExp(`^${binaryPrn}\\s+riscv64\\s+signed\\s`));
  expect(out[5]).toMatch(/^prn:1:[^:]+:signing_key:/);
  // Two signatures, then the second deleted: the list holds only the first one again.
  expect(out[6]!.trim()).toBe('2');
  expect(out[7]).toBe(out[8]);
  expect(out[7]).toBe(out[2]);
  const record = await getBinary(scene, binaryPrn);
  expect(record.state).toBe('signed');
  expect(record.signatures).toHaveLength(1);
  const publicPem = readFileSync(join(scene.dir, 'public.pem'), 'utf8');
  expect(signatureVerifies(file.sha256, record.signatures![0]!.signature, publicPem)).toBe(true);
  expect(await downloadSha256(scene, binaryPrn)).toBe(file.sha256);
});
