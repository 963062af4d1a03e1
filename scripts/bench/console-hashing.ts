/**
 * The web console's in-browser rates on the bench's file (1 GiB), in the system Chromium against the bundled
 * registry, beside the API clients' rates on the same file and registry:
 * - each piece of the hashing alone in a worker (packages/console/bench/hashing-worker.ts): reading the File
 *   (BYOB reads now, `slice().arrayBuffer()` before), the WebAssembly SHA-256 and hash-wasm's (before) over
 *   bytes in memory, WebCrypto's digest of 16 MiB parts;
 * - the console's own hash worker, as served, on the File: the whole-file hash and every part's;
 * - an upload through the console page (sign in, pick the file, Create and upload, until verified), with
 *   the hashing and sending rates the page reports;
 * - core's hashFile (Node) and the publish-binary action's upload to the same registry.
 * Rounds are interleaved and the best of each counts; every run records the CPU seconds of Chromium's
 * threads, which say what the work costs when other jobs share the machine.
 */
import { build } from 'esbuild';
import { readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import type { Mode, Result } from '../../packages/console/bench/protocol.js';
import { hashFile } from '../../packages/core/src/hash.js';
import { planParts, type PlannedPart } from '../../packages/core/src/parts.js';
import { launchBrowser } from '../../test/console/browser.js';
import { sampleChromiumCpu, type ThreadCpu } from './chromium-cpu.js';
import { formatSize, type BenchFile } from './files.js';
import { phasesOf } from './phases.js';
import { publish, requireSuccess, withRegistry, type BenchContext } from './publish.js';
import { api, type BenchRegistry } from './registry.js';
import type { Check } from './report.js';

const PIECES: { mode: Mode; label: string }[] = [
  { mode: 'read-byob', label: 'read the File: BYOB reads (the hash worker now)' },
  { mode: 'read-slice', label: 'read the File: `slice().arrayBuffer()` per part (before)' },
  { mode: 'sha256-wasm', label: 'SHA-256 in WebAssembly, bytes in memory (whole file, now)' },
  { mode: 'hash-wasm', label: 'hash-wasm SHA-256, bytes in memory (whole file, before)' },
  { mode: 'webcrypto-parts', label: 'WebCrypto digest of the parts, bytes in memory' },
];

interface Measured {
  ms: number;
  cpu: ThreadCpu[];
}

export interface ConsoleResult {
  size: number;
  rounds: number;
  browser: string;
  pieces: (Measured & { mode: Mode; label: string })[];
  /** The served hash worker on the File: whole-file and part hashes. */
  pipeline: Measured;
  /** Best rates the console page reported over the rounds. */
  pageHashMBps: number;
  pageUploadMBps: number;
  pageCpu: ThreadCpu[];
  coreHashMs: number;
  actionHashMs?: number;
  actionUploadMs?: number;
  /** The 1-minute load average at the start of each round. */
  load: number[];
}

const loadAverage = () => Number(readFileSync('/proc/loadavg', 'utf8').split(' ')[0]);

async function measured<T>(run: () => Promise<T>): Promise<{ value: T; ms: number; cpu: ThreadCpu[] }> {
  const sampler = sampleChromiumCpu();
  const started = performance.now();
  const value = await run();
  const ms = performance.now() - started;
  return { value, ms, cpu: sampler.stop() };
}

const best = (a: Measured | undefined, b: Measured): Measured => (a && a.ms <= b.ms ? a : b);

/** A page on 127.0.0.1 with a file input and the measuring worker, bundled from the console's bench/. */
async function piecesServer(root: string) {
  const bundle = await build({
    entryPoints: [join(root, 'packages/console/bench/hashing-worker.ts')],
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    write: false,
    logLevel: 'warning',
  });
  const worker = bundle.outputFiles[0]!.text;
  const server = createServer((req, res) => {
    const js = req.url === '/hashing-worker.js';
    res.writeHead(200, { 'content-type': js ? 'text/javascript' : 'text/html' });
    res.end(js ? worker : '<!doctype html><input type="file" id="picked">');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/`, close: () => new Promise((resolve) => server.close(resolve)) };
}

/** The page's globals the bench touches; these scripts are type-checked without the DOM library. */
interface PageGlobals {
  document: {
    getElementById(id: string): { files: Blob[] } | null;
    body: { insertAdjacentHTML(position: 'beforeend', html: string): void };
  };
  Worker: new (
    url: string,
    options: { type: 'module' },
  ) => {
    onmessage: ((event: { data: { kind?: string } }) => void) | null;
    postMessage(message: unknown): void;
    terminate(): void;
  };
}

/** In the page: runs `script` as a module worker on the picked File, resolving with its first answer. */
function runWorker(page: Page, script: string, message: Record<string, unknown>) {
  return page.evaluate(
    ([script, message]) => {
      const { document, Worker } = globalThis as unknown as PageGlobals;
      const file = document.getElementById('picked')!.files[0]!;
      const worker = new Worker(script, { type: 'module' });
      return new Promise<unknown>((resolve) => {
        worker.onmessage = ({ data }) => {
          if (data.kind === 'progress') return;
          worker.terminate();
          resolve(data);
        };
        worker.postMessage({ ...message, file });
      });
    },
    [script, message] as const,
  );
}

async function consolePage(context: BrowserContext, registry: BenchRegistry): Promise<Page> {
  const page = await context.newPage();
  await page.goto(`${registry.baseUrl}/console/`);
  await page.getByLabel('API key').fill(registry.apiKey);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { name: 'Artifacts' }).waitFor();
  return page;
}

/** Create and upload through the page; the rates are the ones the page shows at the end. */
async function uploadThroughPage(
  page: Page,
  registry: BenchRegistry,
  version: string,
  file: BenchFile,
  target: string,
) {
  await page.goto(`${registry.baseUrl}/console/#/versions/${version}`);
  await page.getByLabel('Target', { exact: true }).fill(target);
  await page.getByLabel('File', { exact: true }).setInputFiles(file.path);
  const run = await measured(async () => {
    await page.getByRole('button', { name: 'Create and upload' }).click();
    const done = page.getByText('Done: the registry verified the content.');
    await done.or(page.getByRole('alert')).waitFor({ timeout: 900_000 });
    if (!(await done.isVisible()))
      throw new Error(`upload failed in the page: ${await page.getByRole('alert').textContent()}`);
    return (await page.locator('.upload-status').textContent()) ?? '';
  });
  const hashMBps = Number(/\((\d+) MB\/s\)/.exec(run.value)?.[1]);
  const uploadMBps = Number(/([\d.]+) MB\/s, /.exec(run.value)?.[1]);
  const search = encodeURIComponent(`target:'${target}'`);
  const { binaries } = await api<{ binaries: { hash: string; state: string }[] }>(
    registry,
    'GET',
    `/binaries?search=${search}`,
  );
  if (binaries[0]?.hash !== file.sha256Hex || binaries[0].state !== 'signable') {
    throw new Error(`console upload ${target}: the registry has ${JSON.stringify(binaries[0])}`);
  }
  return { hashMBps, uploadMBps, cpu: run.cpu };
}

export async function benchConsole(
  ctx: BenchContext,
  file: BenchFile,
  rounds: number,
): Promise<ConsoleResult> {
  // The page plans its parts with planParts' defaults, whatever --part-size says for the actions.
  const plan = planParts(file.size);
  const parts: PlannedPart[] = plan.parts;
  const pieces = await piecesServer(ctx.root);
  const browser = await launchBrowser();
  try {
    return await withRegistry(ctx, 'console', async (registry, key) => {
      const { artifact } = await api<{ artifact: { prn: string } }>(registry, 'POST', '/artifacts', {
        name: 'bench',
      });
      const { artifact_version } = await api<{ artifact_version: { prn: string } }>(
        registry,
        'POST',
        '/artifact_versions',
        {
          artifact_prn: artifact.prn,
          version: '2.0.0',
        },
      );
      const piecesPage = await browser.context.newPage();
      await piecesPage.goto(pieces.url);
      await piecesPage.setInputFiles('#picked', file.path);
      const page = await consolePage(browser.context, registry);
      const result: ConsoleResult = {
        size: file.size,
        rounds,
        browser: await page.evaluate(
          () => navigator.userAgent.match(/Chrome\/[\d.]+/)?.[0] ?? navigator.userAgent,
        ),
        pieces: PIECES.map((p) => ({ ...p, ms: Infinity, cpu: [] })),
        pipeline: { ms: Infinity, cpu: [] },
        pageHashMBps: 0,
        pageUploadMBps: 0,
        pageCpu: [],
        coreHashMs: Infinity,
        load: [],
      };
      for (let round = 0; round < rounds; round++) {
        result.load.push(loadAverage());
        for (const piece of result.pieces) {
          const run = await measured(() =>
            runWorker(piecesPage, '/hashing-worker.js', { mode: piece.mode, partSize: plan.partSize }),
          );
          const answer = run.value as Result | { error: string };
          if ('error' in answer) throw new Error(`${piece.mode}: ${answer.error}`);
          Object.assign(piece, best(piece, { ms: answer.ms, cpu: run.cpu }));
        }

        await page.goto(`${registry.baseUrl}/console/`);
        await page.evaluate(() => {
          const { document } = globalThis as unknown as PageGlobals;
          document.body.insertAdjacentHTML('beforeend', '<input type="file" id="picked">');
        });
        await page.setInputFiles('#picked', file.path);
        const run = await measured(() => runWorker(page, '/console/hash-worker.js', { parts }));
        const answer = run.value as { hash?: string; message?: string };
        if (answer.hash !== file.sha256Hex)
          throw new Error(`console hash worker: ${answer.message ?? answer.hash}`);
        result.pipeline = best(result.pipeline, run);

        const upload = await uploadThroughPage(
          page,
          registry,
          artifact_version.prn,
          file,
          `console-${round}`,
        );
        result.pageHashMBps = Math.max(result.pageHashMBps, upload.hashMBps);
        if (upload.uploadMBps > result.pageUploadMBps)
          [result.pageUploadMBps, result.pageCpu] = [upload.uploadMBps, upload.cpu];

        const started = performance.now();
        await hashFile(file.path, planParts(file.size, { partSize: ctx.partSize }));
        result.coreHashMs = Math.min(result.coreHashMs, performance.now() - started);

        const action = await publish(ctx, registry, key, file, {
          target: `action-${round}`,
          partSize: ctx.partSize,
          concurrency: ctx.concurrency,
        });
        requireSuccess(action, `publish-binary (console comparison, round ${round + 1})`, file);
        const phases = phasesOf(action.lines);
        // The upload engine's own rate of sending, from the job summary (MiB/s there).
        const throughput = /Throughput\D*([\d.]+) MiB\/s/.exec(action.summary)?.[1];
        if (throughput) {
          const ms = (file.size / (Number(throughput) * 1024 * 1024)) * 1000;
          result.actionUploadMs = Math.min(result.actionUploadMs ?? Infinity, ms);
        }
        if (phases.hashMs !== undefined)
          result.actionHashMs = Math.min(result.actionHashMs ?? Infinity, phases.hashMs);
      }
      return result;
    });
  } finally {
    await browser.close();
    await pieces.close();
  }
}

const rate = (bytes: number, ms: number | undefined) =>
  ms === undefined ? '—' : `${(bytes / 1e6 / (ms / 1000)).toFixed(0)} MB/s`;

/** The busiest threads, e.g. `renderer/DedicatedWorker thread 2.31`. */
/**
 * The rate the run's CPU seconds allow on the machine's cores with nothing else running: bound by its
 * busiest thread and by its total spread over the cores. Derived, not measured; on a shared machine CPU
 * seconds are inflated too (sibling threads, steal), so this is if anything low.
 */
function idleRate(bytes: number, cpu: ThreadCpu[]): string {
  const busiest = cpu[0]?.seconds ?? 0;
  const total = cpu.reduce((sum, t) => sum + t.seconds, 0);
  const seconds = Math.max(busiest, total / cpus().length);
  return seconds > 0 ? `${(bytes / 1e6 / seconds).toFixed(0)} MB/s` : '—';
}

function threads(cpu: ThreadCpu[], count = 4): string {
  const shown = cpu.slice(0, count).map((t) => `${t.process}/${t.thread} ${t.seconds.toFixed(2)}`);
  const total = cpu.reduce((sum, t) => sum + t.seconds, 0);
  return `${total.toFixed(2)} s: ${shown.join(', ')}`;
}

export function consoleReport(r: ConsoleResult): { section: string; checks: Check[] } {
  const size = formatSize(r.size);
  const row = (cells: string[]) => `| ${cells.join(' | ')} |`;
  const lines = [
    `### Console: in-browser hashing and upload, ${size} (${r.browser} headless, best of ${r.rounds})`,
    '',
    `Load average at the start of each round: ${r.load.map((l) => l.toFixed(1)).join(', ')} on this machine's cores. ` +
      'CPU seconds are all of Chromium\'s threads during the run (busiest listed; "DedicatedWorker" are the workers).',
    '',
    row([
      'what',
      'wall',
      'rate',
      'CPU seconds (threads)',
      `rate its CPU allows on ${cpus().length} idle cores`,
    ]),
    row(['---', '---', '---', '---', '---']),
    ...r.pieces.map((p) =>
      row([
        p.label,
        `${(p.ms / 1000).toFixed(2)} s`,
        rate(r.size, p.ms),
        threads(p.cpu),
        idleRate(r.size, p.cpu),
      ]),
    ),
    row([
      "the console's hash worker on the File: whole file (WebAssembly) + parts (WebCrypto, 2nd worker)",
      `${(r.pipeline.ms / 1000).toFixed(2)} s`,
      rate(r.size, r.pipeline.ms),
      threads(r.pipeline.cpu),
      idleRate(r.size, r.pipeline.cpu),
    ]),
    row(['console upload: hashing, as the page reports it', '', `${r.pageHashMBps} MB/s`, '', '']),
    row([
      'console upload: sending the parts, as the page reports it',
      '',
      `${r.pageUploadMBps.toFixed(1)} MB/s`,
      `${threads(r.pageCpu)} (the whole upload: hashing, sending, the check)`,
      '',
    ]),
    row([
      "core's hashFile (Node: whole file + parts)",
      `${(r.coreHashMs / 1000).toFixed(2)} s`,
      rate(r.size, r.coreHashMs),
      '',
      '',
    ]),
    row(['publish-binary: hashing, as its log reports it', '', rate(r.size, r.actionHashMs), '', '']),
    row([
      'publish-binary: upload to the same registry, as its job summary reports it',
      '',
      rate(r.size, r.actionUploadMs),
      '',
      '',
    ]),
  ];
  const pipelineMBps = r.size / 1e6 / (r.pipeline.ms / 1000);
  const actionUploadMBps = r.actionUploadMs ? r.size / 1e6 / (r.actionUploadMs / 1000) : undefined;
  const checks: Check[] = [
    {
      measure: `in-browser hashing of ${size} (the console's hash worker, whole file + parts)`,
      figure: `${pipelineMBps.toFixed(0)} MB/s (page-reported in an upload: ${r.pageHashMBps} MB/s)`,
      ratio: `${(pipelineMBps / (r.size / 1e6 / (r.coreHashMs / 1000))).toFixed(2)}× core's hashFile`,
      target: '≥ 300 MB/s',
      pass: pipelineMBps >= 300,
    },
    {
      measure: `in-browser upload of ${size} vs publish-binary to the same registry`,
      figure: `${r.pageUploadMBps.toFixed(1)} MB/s vs ${actionUploadMBps?.toFixed(1) ?? '—'} MB/s`,
      ratio: actionUploadMBps ? `${(r.pageUploadMBps / actionUploadMBps).toFixed(2)}×` : '—',
      target: 'reported',
    },
  ];
  return { section: lines.join('\n'), checks };
}
