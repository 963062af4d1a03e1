/** The get/list/update/delete verbs of every resource, with the bundled CLI, checked against the registry's own view. */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { runShell } from '../helpers/run-cli.js';
import { startScene, type Scene } from './scene.js';

let scene: Scene;
let env: Record<string, string>;

beforeAll(async () => {
  scene = await startScene();
  env = { PERIDIO_BASE_URL: scene.registry.baseUrl, PERIDIO_API_KEY: scene.registry.apiKey };
});
afterAll(() => scene?.stop());

it('artifacts and artifact-versions: create, get, list, update', async () => {
  const run = await runShell(
    `ARTIFACT_PRN=$(peridio artifacts create --name firmware --output prn)
    peridio artifacts update --prn "$ARTIFACT_PRN" --description "Main board firmware" --output prn
    peridio artifacts get --prn "$ARTIFACT_PRN"
    peridio artifacts list --search "name:'firmware'" --output table
    VERSION_PRN=$(peridio artifact-versions create --artifact-prn "$ARTIFACT_PRN" --version 1.2.0 --output prn)
    peridio artifact-versions update --prn "$VERSION_PRN" --description "Fixes the boot loop" \\
        --custom-metadata '{"channel": "beta"}' --output prn
    peridio artifact-versions get --prn "$VERSION_PRN"
    peridio artifact-versions list --search "artifact_prn:'$ARTIFACT_PRN'" --output table`,
    { env },
  );
  expect(run.code, run.stderr).toBe(0);
  const out = run.stdout.trim().split('\n');
  const artifactPrn = out[0]!;
  expect(JSON.parse(out[1]!).artifact).toMatchObject({
    prn: artifactPrn,
    name: 'firmware',
    description: 'Main board firmware',
  });
  expect(out[2]).toMatch(/^PRN\s+NAME\s+DESCRIPTION\s+INSERTED_AT$/);
  expect(out[3]).toMatch(new RegExp(`^${artifactPrn}\\s+firmware\\s+Main board firmware\\s+\\d{4}-`));
  const versionPrn = out[4]!;
  expect(JSON.parse(out[5]!).artifact_version).toMatchObject({
    prn: versionPrn,
    version: '1.2.0',
    artifact_prn: artifactPrn,
    description: 'Fixes the boot loop',
    custom_metadata: { channel: 'beta' },
  });
  expect(out[7]).toMatch(new RegExp(`^${versionPrn}\\s+1\\.2\\.0\\s+${artifactPrn}\\s`));
  const { body } = await scene.api<{ artifact_version: { description: string } }>(
    'GET',
    `/artifact_versions/${versionPrn}`,
  );
  expect(body.artifact_version.description).toBe('Fixes the boot loop');
});

it('signing-keys: create, get, list, delete', async () => {
  const run = await runShell(
    `cd "${scene.dir}"
    openssl genpkey -algorithm ed25519 -out private.pem
    KEY_PRN=$(peridio signing-keys create --name ci \\
        --value "$(openssl pkey -in private.pem -pubout -outform DER | tail -c 32 | base64)" --output prn)
    peridio signing-keys get --prn "$KEY_PRN" --output table
    peridio signing-keys list --output table
    peridio signing-keys delete --prn "$KEY_PRN"
    peridio signing-keys list --output prn`,
    { env },
  );
  expect(run.code, run.stderr).toBe(0);
  const out = run.stdout.trim().split('\n');
  expect(out[0]).toMatch(/^PRN\s+NAME\s+KEYID\s+VALUE$/);
  const keyPrn = out[1]!.split(/\s+/)[0]!;
  expect(out[1]).toMatch(/^prn:1:[^:]+:signing_key:\S+\s+ci\s+[0-9a-f]{64}\s+\S{44}$/);
  // The scene's own key and this one; after the delete only the scene's.
  expect(
    out
      .slice(3, 5)
      .map((l) => l.split(/\s+/)[0])
      .sort(),
  ).toEqual([keyPrn, scene.key.prn].sort());
  expect(out[5]).toBe(scene.key.prn);
});
