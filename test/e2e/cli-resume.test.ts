/**
 * A `binaries create --content-path` killed mid-upload (SIGKILL: a cancelled CI job) and run again
 * resumes: the re-run sends only the parts the registry lacks, then signs.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startFaultProxy, type FaultProxy } from '../helpers/fault-proxy.js';
import { runCli, type CliRun } from '../helpers/run-cli.js';
import {
  downloadSha256,
  getBinary,
  signatureVerifies,
  startScene,
  writeTestFile,
  type Scene,
} from './scene.js';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

const PART_SIZE = 5_242_880;
const PRESIGNED_PUT = /^\/_presigned\/parts\//;

let scene: Scene;
let proxy: FaultProxy;
let env: Record<string, string>;
let versionPrn: string;

beforeAll(async () => {
  scene = await startScene();
  proxy = await startFaultProxy({ target: scene.registry.baseUrl });
  env = { PERIDIO_BASE_URL: proxy.url, PERIDIO_API_KEY: scene.registry.apiKey };
  const artifact = await runCli(['artifacts', 'create', '--name', 'resume', '--output', 'prn'], { env });
  const version = await runCli(
    [
      'artifact-versions',
      'create',
      '--artifact-prn',
      artifact.stdout.trim(),
      '--version',
      '1.0.0',
      '--output',
      'prn',
    ],
    { env },
  );
  expect(version.code, version.stderr).toBe(0);
  versionPrn = version.stdout.trim();
});
afterAll(async () => {
  await proxy?.close();
  await scene?.stop();
});

it('a killed binaries create --content-path re-run sends only the missing parts and ends signed', async () => {
  // Four parts: 5 MiB ×3 and 1 byte; one at a time, so "killed at the 3rd PUT" leaves exactly 2 parts.
  const file = await writeTestFile(scene.dir, 'resume.img', 3 * PART_SIZE + 1);
  const keyPath = join(scene.dir, 'resume-key.pem');
  writeFileSync(keyPath, scene.key.privatePem);
  const args = [
    'binaries',
    'create',
    '--artifact-version-prn',
    versionPrn,
    '--target',
    'resume-target',
    '--content-path',
    file.path,
    '--binary-part-size',
    String(PART_SIZE),
    '--concurrency',
    '1',
    '--signing-key-prn',
    scene.key.prn,
    '--signing-key-private',
    keyPath,
    '--output',
    'prn',
  ];

  const controller = new AbortController();
  let running: Promise<CliRun> | undefined;
  const rule = proxy.addRule({
    method: 'PUT',
    path: PRESIGNED_PUT,
    nth: 3,
    action: { kind: 'status', status: 503 },
    onFire: async () => {
      controller.abort();
      await running;
    },
  });
  running = runCli(args, { env, signal: controller.signal });
  const killed = await running;
  rule.remove();
  expect(rule.fired).toBe(1);
  expect(killed.signal).toBe('SIGKILL');

  const start = proxy.stats.requests.length;
  const rerun = await runCli(args, { env, timeoutMs: 120_000 });
  expect(rerun.code, rerun.stderr).toBe(0);
  const puts = proxy.stats.requests
    .slice(start)
    .filter((r) => r.method === 'PUT' && PRESIGNED_PUT.test(r.path));
  expect(puts.reduce((sum, r) => sum + r.bytesIn, 0)).toBe(PART_SIZE + 1);
  expect(rerun.stderr).toMatch(/Uploading 2 of 4 parts .*; 2 already on the server/);
  const binaryPrn = rerun.stdout.trim();
  const record = await getBinary(scene, binaryPrn);
  expect(record.state).toBe('signed');
  expect(signatureVerifies(file.sha256, record.signatures![0]!.signature, scene.key.publicPem)).toBe(true);
  expect(await downloadSha256(scene, binaryPrn)).toBe(file.sha256);
});

it('SIGTERM during an upload exits 130 saying a re-run resumes; the re-run finishes', async () => {
  const file = await writeTestFile(scene.dir, 'term.img', PART_SIZE + 5);
  const args = ['binaries', 'create', '--artifact-version-prn', versionPrn, '--target', 'term-target'].concat(
    ['--content-path', file.path, '--binary-part-size', String(PART_SIZE), '--output', 'prn'],
  );
  const controller = new AbortController();
  const rule = proxy.addRule({
    method: 'PUT',
    path: PRESIGNED_PUT,
    action: { kind: 'stall-response' },
    onFire: () => controller.abort(),
  });
  const stopped = await runCli(args, { env, signal: controller.signal, killSignal: 'SIGTERM' });
  rule.remove();
  expect(rule.fired).toBe(1);
  expect(stopped.code).toBe(130);
  expect(stopped.stderr).toMatch(
    /interrupted; what was uploaded stays, and running the command again resumes/,
  );
  const rerun = await runCli(args, { env, timeoutMs: 120_000 });
  expect(rerun.code, rerun.stderr).toBe(0);
  expect((await getBinary(scene, rerun.stdout.trim())).state).toBe('signable');
});
