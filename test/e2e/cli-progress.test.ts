/**
 * On a terminal an upload draws a progress bar (bytes, rate, time left) on stderr; elsewhere it logs
 * plain lines. The terminal is a real pseudo-terminal from util-linux `script`.
 */
import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { cliBundle, runShell } from '../helpers/run-cli.js';
import { getBinary, startScene, writeTestFile, type Scene } from './scene.js';

let scene: Scene;
let env: Record<string, string>;
let versionPrn: string;
const hasScript = (() => {
  try {
    execFileSync('script', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

beforeAll(async () => {
  scene = await startScene();
  env = { PERIDIO_BASE_URL: scene.registry.baseUrl, PERIDIO_API_KEY: scene.registry.apiKey };
  const setup = await runShell(
    `A=$(peridio artifacts create --name progress --output prn)
    peridio artifact-versions create --artifact-prn "$A" --version 1.0.0 --output prn`,
    { env },
  );
  expect(setup.code, setup.stderr).toBe(0);
  versionPrn = setup.stdout.trim();
});
afterAll(() => scene?.stop());

it.skipIf(!hasScript)(
  'on a terminal, binaries create --content-path draws a progress bar with bytes, rate and time left',
  async () => {
    const file = await writeTestFile(scene.dir, 'tty.img', 3 * 5_242_880);
    const command = [process.execPath, cliBundle, 'binaries', 'create', '--artifact-version-prn', versionPrn]
      .concat([
        '--target',
        'tty',
        '--content-path',
        file.path,
        '--binary-part-size',
        '5242880',
        '--concurrency',
        '1',
      ])
      .concat(['--output', 'prn'])
      .map((w) => `'${w}'`)
      .join(' ');
    const run = await runShell(`script -qec "${command}" /dev/null`, { env, timeoutMs: 120_000 });
    expect(run.code, run.stdout).toBe(0);
    // A redrawn line (carriage return + erase line) holding the bar, and its final frame at 100 %.
    expect(run.stdout).toMatch(
      // eslint-disable-next-line no-control-regex -- the bar is drawn with terminal escapes
      /\r\x1b\[2K\[[#-]{10,30}\] +\d+% {2}[\d.]+ (?:[KMG]i)?B \/ 15\.0 MiB {2}[\d.]+ (?:[KM]i)?B\/s {2}.+ left/,
    );
    expect(run.stdout).toMatch(/\[#+\] 100% {2}15\.0 MiB \/ 15\.0 MiB/);
    expect(run.stdout).toMatch(/prn:1:[^:]+:binary:/);
  },
);

it('not on a terminal, the same upload logs plain lines and no bar', async () => {
  const file = await writeTestFile(scene.dir, 'plain.img', 3 * 5_242_880);
  const run = await runShell(
    `peridio binaries create --artifact-version-prn "${versionPrn}" --target plain --content-path "${file.path}" --output prn`,
    { env, timeoutMs: 120_000 },
  );
  expect(run.code, run.stderr).toBe(0);
  // eslint-disable-next-line no-control-regex -- asserting no terminal escape reaches a log
  expect(run.stderr).not.toMatch(/\r|\x1b\[/);
  expect(run.stderr).toMatch(/^Uploading 1 of 1 parts \(15728640 bytes\)$/m);
  expect(run.stdout).toMatch(/^prn:1:[^:]+:binary:\S+\n$/);
  // No key given: the upload stops once the registry verified the content.
  expect(await getBinary(scene, run.stdout.trim())).toMatchObject({ state: 'signable', hash: file.sha256 });
});
