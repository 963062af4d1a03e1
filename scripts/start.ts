/**
 * `npm start`: the release job of a firmware repository, on this machine, against the embedded registry.
 *
 * Starts `peridio-registry` on a free port with a fresh data dir, makes an Ed25519 key with openssl and
 * registers it, then runs the bundled publish-binary action on a sample file exactly as a runner would
 * (INPUT_* environment with the action.yml defaults, GITHUB_OUTPUT and GITHUB_STEP_SUMMARY files, a tag
 * ref), showing its log as the runner renders it. Afterwards it checks the result from the outside:
 * `openssl pkeyutl -verify` over the hash, the SHA-256 of the content downloaded through the binary's
 * download URL, the provenance in its custom metadata, and a second run that must send nothing. Exits
 * non-zero when any of it fails. Everything lives in one temp dir, removed at the end unless `--keep`.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash, createPublicKey, randomBytes } from 'node:crypto';
import { createReadStream, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startRegistry, type RegistryProcess } from '../test/helpers/registry-process.js';
import { runAction } from '../test/helpers/run-action.js';
import { runnerLog } from './runner-log.js';

const root = new URL('..', import.meta.url).pathname;
// Two parts at the default part size (16 MiB), the second one short.
const SAMPLE_SIZE = 20 * 1024 * 1024 + 4321;
const KEEP = process.argv.includes('--keep');
const TAG = 'v1.0.0';
const TARGET = 'aarch64-linux-gnu';

function step(title: string): void {
  console.log(`\n=== ${title}`);
}

function ensureBundles(): void {
  const missing = ['registry', 'publish-binary'].filter(
    (name) => !existsSync(join(root, 'dist', name, 'index.js')),
  );
  if (missing.length === 0) return;
  step(`Bundling ${missing.join(', ')} (dist/ is missing them)`);
  const result = spawnSync(process.execPath, [join(root, 'scripts/bundle.mjs'), ...missing], {
    stdio: 'inherit',
  });
  if (result.status !== 0) throw new Error('bundling failed');
}

async function api<T>(registry: RegistryProcess, method: string, path: string, body?: unknown): Promise<T> {
  const response = await fetch(`${registry.baseUrl}${path}`, {
    method,
    headers: {
      authorization: `Token ${registry.apiKey}`,
      'x-api-version': '2',
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (!response.ok) throw new Error(`${method} ${path}: HTTP ${response.status} ${await response.text()}`);
  return (await response.json()) as T;
}

function sha256File(path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const hash = createHash('sha256');
    createReadStream(path)
      .on('data', (chunk) => hash.update(chunk))
      .on('error', reject)
      .on('end', () => resolve(hash.digest('hex')));
  });
}

/** The summary is HTML for the runner's page; on a terminal, its rows as aligned text. */
function summaryAsText(html: string): string {
  const rows = [...html.matchAll(/<tr><th>(.*?)<\/th><td>(?:<code>)?(.*?)(?:<\/code>)?<\/td><\/tr>/g)].map(
    ([, label, value]) => [unescape(label!), unescape(value!)] as const,
  );
  const heading = /<h3>(.*?)<\/h3>/.exec(html)?.[1] ?? '';
  const width = Math.max(...rows.map(([label]) => label.length));
  return [heading, ...rows.map(([label, value]) => `  ${label.padEnd(width)}  ${value}`)].join('\n');
}

function unescape(text: string): string {
  return text
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&amp;/g, '&');
}

async function main(): Promise<number> {
  ensureBundles();
  const work = mkdtempSync(join(tmpdir(), 'peridio-start-'));
  // Every temp file of this run (the runner files of each action run too) goes under `work`.
  process.env.TMPDIR = work;
  try {
    return await demo(work);
  } finally {
    if (KEEP) console.log(`\nKept ${work} (registry data, key pair, workspace); delete it when done.`);
    else rmSync(work, { recursive: true, force: true });
  }
}

async function demo(work: string): Promise<number> {
  step('Starting peridio-registry (free port, fresh data dir)');
  const registry = await startRegistry({ dataDir: join(work, 'registry-data') });
  console.log(`registry: ${registry.baseUrl}  data dir: ${registry.dataDir}  pid ${registry.pid}`);
  try {
    step('Making an Ed25519 signing key with openssl and registering it');
    const privatePath = join(work, 'private.pem');
    const publicPath = join(work, 'public.pem');
    execFileSync('openssl', ['genpkey', '-algorithm', 'ed25519', '-out', privatePath]);
    execFileSync('openssl', ['pkey', '-in', privatePath, '-pubout', '-out', publicPath]);
    // Peridio stores the raw 32-byte public key, base64: the tail of the SPKI DER.
    const spki = createPublicKey(readFileSync(publicPath)).export({ format: 'der', type: 'spki' });
    const value = spki.subarray(-32).toString('base64');
    const { signing_key: key } = await api<{ signing_key: { prn: string; keyid?: string } }>(
      registry,
      'POST',
      '/signing_keys',
      { name: 'npm start demo key', value },
    );
    console.log(`signing key ${key.prn} (value ${value}, keyid ${key.keyid ?? 'n/a'})`);

    step(`Writing a sample firmware image (${SAMPLE_SIZE} bytes)`);
    const workspace = join(work, 'workspace');
    execFileSync('mkdir', ['-p', join(workspace, 'build')]);
    const samplePath = join(workspace, 'build', 'firmware.img');
    writeFileSync(samplePath, randomBytes(SAMPLE_SIZE));
    const sampleHash = await sha256File(samplePath);
    console.log(`build/firmware.img sha256 ${sampleHash}`);

    step(`Running dist/publish-binary/index.js as a runner would (GITHUB_REF=refs/tags/${TAG})`);
    const inputs = {
      'api-key': registry.apiKey,
      'base-url': registry.baseUrl,
      artifact: 'demo-firmware',
      target: TARGET,
      file: 'build/firmware.img',
      'signing-key-private': readFileSync(privatePath, 'utf8'),
      'custom-metadata': JSON.stringify({ board: 'demo-board-rev-a' }),
    };
    const publish = async () => {
      // The log as the runner shows it: secrets as ***, no workflow commands, annotations by level.
      const log = runnerLog((text) => process.stdout.write(`  ${text}`));
      const result = await runAction('publish-binary', inputs, {
        cwd: workspace,
        env: { GITHUB_REF: `refs/tags/${TAG}`, GITHUB_REF_NAME: TAG },
        timeoutMs: 300_000,
        onStdout: (chunk) => log.write(chunk),
      });
      log.end();
      if (result.code !== 0) {
        console.error(result.stderr);
        throw new Error(`publish-binary failed with exit code ${result.code}`);
      }
      return result;
    };
    const run = await publish();
    step('Outputs (GITHUB_OUTPUT)');
    for (const [name, output] of Object.entries(run.outputs)) console.log(`  ${name} = ${output}`);
    step('Job summary (GITHUB_STEP_SUMMARY)');
    console.log(summaryAsText(run.summary));

    step('Checking the signature with openssl pkeyutl -verify over the hash');
    const hashPath = join(work, 'hash.txt');
    const sigPath = join(work, 'signature.bin');
    // What Peridio signs: the 64 ASCII characters of the lowercase hex SHA-256.
    writeFileSync(hashPath, run.outputs.hash!);
    writeFileSync(sigPath, Buffer.from(run.outputs.signature!, 'hex'));
    const verified = spawnSync(
      'openssl',
      ['pkeyutl', '-verify', '-pubin', '-inkey', publicPath, '-rawin', '-in', hashPath, '-sigfile', sigPath],
      { encoding: 'utf8' },
    );
    console.log(
      `  $ openssl pkeyutl -verify -pubin -inkey public.pem -rawin -in hash.txt -sigfile signature.bin`,
    );
    console.log(`  ${(verified.stdout + verified.stderr).trim()}`);
    if (verified.status !== 0) throw new Error('openssl did not verify the signature');

    step('Downloading the content through the download URL and comparing its SHA-256');
    const binaryPrn = run.outputs['binary-prn']!;
    const { download_url: url } = await api<{ download_url: string }>(
      registry,
      'GET',
      `/binaries/${binaryPrn}/download_url`,
    );
    const response = await fetch(url);
    if (!response.ok || !response.body) throw new Error(`download failed: HTTP ${response.status}`);
    const hash = createHash('sha256');
    let size = 0;
    for await (const chunk of response.body as AsyncIterable<Uint8Array>) {
      hash.update(chunk);
      size += chunk.length;
    }
    const downloaded = hash.digest('hex');
    console.log(`  downloaded ${size} bytes, sha256 ${downloaded}`);
    if (downloaded !== sampleHash || size !== SAMPLE_SIZE)
      throw new Error('the downloaded content differs from the file');

    const { binary } = await api<{ binary: { state: string; custom_metadata: Record<string, unknown> } }>(
      registry,
      'GET',
      `/binaries/${binaryPrn}`,
    );
    if (binary.state !== 'signed') throw new Error(`the binary is ${binary.state}, not signed`);

    step("Provenance in the binary's custom metadata");
    for (const [name, value] of Object.entries(binary.custom_metadata ?? {}))
      console.log(`  ${name}: ${JSON.stringify(value)}`);
    if (binary.custom_metadata?.commit === undefined) throw new Error('the binary records no commit');

    step('Running the same job again ("Re-run jobs"): it must send nothing');
    const logBefore = registry.output().stderr.length;
    const again = await publish();
    const writes = registry
      .output()
      .stderr.slice(logBefore)
      .split('\n')
      .filter((line) => /\b(POST|PUT|PATCH|DELETE) \//.test(line));
    console.log(
      `  outcome ${again.outputs.outcome}, parts sent ${again.outputs['parts-uploaded']}, ` +
        `already there ${again.outputs['parts-skipped']}; requests that change something: ${writes.length}`,
    );
    if (writes.length > 0 || again.outputs.outcome !== 'unchanged')
      throw new Error(`the re-run changed something:\n${writes.join('\n')}`);
    if (again.outputs.signature !== run.outputs.signature)
      throw new Error('the re-run gave another signature');

    step(
      `OK: ${binaryPrn} is signed; the signature verifies, the content matches the file, a re-run sends nothing`,
    );
    return 0;
  } finally {
    await registry.stop();
    console.log('registry stopped');
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(`\nnpm start failed: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  },
);
