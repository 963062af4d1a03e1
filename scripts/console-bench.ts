/**
 * The web console's in-browser rates on a big file (default 1 GiB), against the real registry process:
 * hashing in the page's workers, then the upload of the parts, then the registry's own check. Not a test
 * (the figures depend on the machine); run `npm run bundle` first, then
 * `npx tsx scripts/console-bench.ts [--size-mib 1024]`. Prints one JSON line of measured figures.
 */
import { createHash } from 'node:crypto';
import { cpus, loadavg } from 'node:os';
import { createSHA256 } from 'hash-wasm';
import { rm } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { launchBrowser } from '../test/console/browser.js';
import { startScene, writeTestFile } from '../test/e2e/scene.js';

const { values } = parseArgs({ options: { 'size-mib': { type: 'string', default: '1024' } } });
const size = Number(values['size-mib']) * 1024 * 1024;

/** The same machine's SHA-256 rates in Node, for scale: OpenSSL (native) and hash-wasm (what the page runs). */
async function nodeBaseline() {
  const buffer = new Uint8Array(256 * 1024 * 1024).fill(7);
  const rate = (ms: number) => Math.round(buffer.length / 1e6 / (ms / 1000));
  let t = performance.now();
  createHash('sha256').update(buffer).digest();
  const openssl = rate(performance.now() - t);
  const wasm = await createSHA256();
  t = performance.now();
  for (let o = 0; o < buffer.length; o += 8 << 20) wasm.update(buffer.subarray(o, o + (8 << 20)));
  wasm.digest('hex');
  return { nodeOpensslMBps: openssl, nodeHashWasmMBps: rate(performance.now() - t) };
}

const baseline = await nodeBaseline();
const scene = await startScene();
const browser = await launchBrowser();
try {
  const artifact = await scene.api<{ artifact: { prn: string } }>('POST', '/artifacts', { name: 'bench' });
  const version = await scene.api<{ artifact_version: { prn: string } }>('POST', '/artifact_versions', {
    artifact_prn: artifact.body.artifact.prn,
    version: '1.0.0',
  });
  const file = await writeTestFile(scene.dir, 'bench.img', size);
  const page = await browser.context.newPage();
  await page.goto(`${scene.registry.baseUrl}/console/`);
  await page.getByLabel('API key').fill(scene.registry.apiKey);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.goto(`${scene.registry.baseUrl}/console/#/versions/${version.body.artifact_version.prn}`);
  await page.getByLabel('Target', { exact: true }).fill('bench');
  await page.getByLabel('File', { exact: true }).setInputFiles(file.path);

  const marks: Record<string, number> = {};
  const start = performance.now();
  await page.getByRole('button', { name: 'Create and upload' }).click();
  // Phases as the page shows them, sampled every 50 ms.
  for (;;) {
    const phase = await page
      .locator('.phase')
      .getAttribute('data-phase')
      .catch(() => null);
    if (phase && !(phase in marks)) marks[phase] = performance.now() - start;
    if (phase === 'done') break;
    const error = await page
      .getByRole('alert')
      .textContent({ timeout: 10 })
      .catch(() => null);
    if (error) throw new Error(`upload failed in the page: ${error}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  const text = (await page.locator('.upload-status').textContent()) ?? '';
  const hashMBps = Number(/\((\d+) MB\/s\)/.exec(text)?.[1]);
  const { body } = await scene.api<{ binaries: { hash: string; state: string }[] }>('GET', '/binaries');
  const mb = size / 1e6;
  const uploadSeconds = (marks.verifying! - marks.uploading!) / 1000;
  console.log(
    JSON.stringify({
      sizeMiB: size / 1024 / 1024,
      hashMBps,
      hashSeconds: +(marks.uploading! / 1000).toFixed(2),
      uploadMBps: +(mb / uploadSeconds).toFixed(1),
      uploadSeconds: +uploadSeconds.toFixed(2),
      registryCheckSeconds: +((marks.done! - marks.verifying!) / 1000).toFixed(2),
      hashMatches: body.binaries[0]?.hash === file.sha256,
      state: body.binaries[0]?.state,
      ...baseline,
      cpus: cpus().length,
      loadavg: loadavg().map((n) => +n.toFixed(1)),
    }),
  );
  await rm(file.path);
} finally {
  await browser.close();
  await scene.stop();
}
