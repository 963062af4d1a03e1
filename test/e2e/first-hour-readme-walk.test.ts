/**
 * The README's curl + openssl walk, word for word: the fenced block is taken from README.md and run with
 * bash from the repository root, as a new user pastes it, with the system's PATH (no node_modules/.bin:
 * `npx` must find the Node 24 of `npm ci` itself). It must end with a signed binary, leave no registry
 * process and no file behind, and write nothing into the clone. Also: the files the docs make are
 * ignored by git, and the LICENSE is the one package.json names.
 */
import { spawn, spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = new URL('../..', import.meta.url).pathname;
const readme = readFileSync(join(root, 'README.md'), 'utf8');

/** The first ```sh block after the walk's heading. */
export function walkBlock(): string {
  const heading = readme.indexOf('### From a file to a signed binary with curl and openssl');
  expect(heading).toBeGreaterThan(-1);
  const start = readme.indexOf('```sh\n', heading);
  const end = readme.indexOf('\n```\n', start);
  return readme.slice(start + '```sh\n'.length, end + 1);
}

/** PATH as a shell outside npm has it: without the node_modules/.bin entries npm and vitest add. */
function userPath(): string {
  return (process.env.PATH ?? '')
    .split(':')
    .filter((dir) => !dir.includes('node_modules'))
    .join(':');
}

function registryProcesses(): string[] {
  const ps = spawnSync('ps', ['-eo', 'pid,args'], { encoding: 'utf8' }).stdout;
  return ps
    .split('\n')
    .filter((line) => line.includes('peridio-registry serve') && line.includes('/tmp/tmp.'));
}

function gitStatus(): string {
  return spawnSync('git', ['status', '--porcelain', '--ignored'], { cwd: root, encoding: 'utf8' }).stdout;
}

describe("the README's registry walk", () => {
  it('runs as written: ends signed, and leaves no process, no temp dir and no file in the clone', async () => {
    const script = walkBlock();
    expect(script).toMatch(/^set -eu\n/);
    const tempsBefore = new Set(readdirSync(tmpdir()).filter((name) => name.startsWith('tmp.')));
    const statusBefore = gitStatus();

    const child = spawn('bash', ['-c', script], {
      cwd: root,
      env: { PATH: userPath(), HOME: process.env.HOME ?? tmpdir(), TMPDIR: tmpdir() },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));

    expect(code, `stdout:\n${stdout}\nstderr:\n${stderr}`).toBe(0);
    const lines = stdout.trim().split('\n');
    expect(lines).toEqual([
      'valid',
      'hashable',
      'hashing',
      expect.stringMatching(/^prn:1:[0-9a-f-]+:binary_signature:[0-9a-f-]+$/),
      'signed',
      expect.stringMatching(/^signed: prn:1:[0-9a-f-]+:binary:[0-9a-f-]+$/),
    ]);
    // The registry got SIGTERM through its process group, so neither npx nor the registry outlives it.
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(registryProcesses()).toEqual([]);
    const tempsAfter = readdirSync(tmpdir()).filter(
      (name) => name.startsWith('tmp.') && !tempsBefore.has(name),
    );
    expect(tempsAfter).toEqual([]);
    expect(gitStatus()).toBe(statusBefore);
  }, 120_000);

  it('stops on a failed request with the registry answer, instead of carrying on with empty PRNs', () => {
    // The walk against a registry that refuses the API key: the first call must end the script.
    const script = walkBlock().replace('API_KEY=$(cat "$WORK/data/api-key")', 'API_KEY=wrong');
    const run = spawnSync('bash', ['-c', script], {
      cwd: root,
      env: { PATH: userPath(), HOME: process.env.HOME ?? tmpdir(), TMPDIR: tmpdir() },
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(run.status).not.toBe(0);
    expect(run.stderr).toMatch(/The requested URL returned error: 401/);
    expect(run.stdout).not.toContain('signed');
  }, 90_000);
});

describe('what the docs make', () => {
  it('is ignored by git: private keys, signatures, the hash file', () => {
    const run = spawnSync('git', ['check-ignore', 'private.pem', 'public.pem', 'signature.bin', 'hash.txt'], {
      cwd: root,
      encoding: 'utf8',
    });
    expect(run.stdout.trim().split('\n')).toEqual(['private.pem', 'public.pem', 'signature.bin', 'hash.txt']);
  });

  it('has the Apache-2.0 LICENSE that package.json names', () => {
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { license: string };
    expect(pkg.license).toBe('Apache-2.0');
    const license = readFileSync(join(root, 'LICENSE'), 'utf8');
    expect(license).toMatch(/^\s+Apache License\n\s+Version 2\.0, January 2004/);
    expect(license).toContain('END OF TERMS AND CONDITIONS');
  });
});
