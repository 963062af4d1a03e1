/**
 * `npm start` as a contributor runs it: the log as the runner renders it (no workflow commands, secrets as
 * ***), the default part size, the provenance and the re-run guarantee shown, and nothing left behind:
 * no temp dir (the key pair was in it), no registry process. `--keep` keeps the dir and says where.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = new URL('../..', import.meta.url).pathname;

async function npmStart(
  args: string[],
  tmp: string,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  // The user's PATH (npm adds node_modules/.bin itself), and a TMPDIR of the test's own to look into.
  const path = (process.env.PATH ?? '')
    .split(':')
    .filter((dir) => !dir.includes('node_modules'))
    .join(':');
  const child = spawn('npm', ['start', ...(args.length > 0 ? ['--', ...args] : [])], {
    cwd: root,
    env: { PATH: path, HOME: process.env.HOME ?? tmp, TMPDIR: tmp },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  return { code, stdout, stderr };
}

/** What is left in the temp dir, apart from tsx's own per-user dir (tsx makes it for every run). */
function leftIn(tmp: string): string[] {
  return readdirSync(tmp).filter((name) => !/^tsx-\d+$/.test(name));
}

function registriesUnder(tmp: string): string[] {
  const ps = spawnSync('ps', ['-eo', 'args'], { encoding: 'utf8' }).stdout;
  return ps.split('\n').filter((line) => line.includes('serve') && line.includes(tmp));
}

describe('npm start', () => {
  it('shows the runner-rendered log, the provenance and a re-run that sends nothing, and leaves nothing', async () => {
    const tmp = mkdtempSync(join(tmpdir(), 'npm-start-test-'));
    try {
      const run = await npmStart([], tmp);
      expect(run.code, run.stdout + run.stderr).toBe(0);
      expect(run.stdout).not.toMatch(/^\s*::/m);
      expect(run.stdout).not.toContain('add-mask');
      expect(run.stdout).toContain('▸ Upload 20.0 MiB');
      expect(run.stdout).toContain('2 part(s) of 16.0 MiB');
      expect(run.stdout).toMatch(
        /Provenance in the binary's custom metadata\n\s+repository: "[^"]+"\n\s+commit: "[0-9a-f]{40}"/,
      );
      expect(run.stdout).toContain(
        'outcome unchanged, parts sent 0, already there 2; requests that change something: 0',
      );
      expect(leftIn(tmp)).toEqual([]);
      expect(registriesUnder(tmp)).toEqual([]);
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  }, 180_000);

  it('--keep keeps the data dir and names it', async () => {
    const tmp = mkdtempSync(join(tmpdir(), 'npm-start-test-'));
    try {
      const run = await npmStart(['--keep'], tmp);
      expect(run.code, run.stdout + run.stderr).toBe(0);
      const kept = /^Kept (\S+) \(registry data, key pair, workspace\)/m.exec(run.stdout)?.[1];
      expect(kept).toBeDefined();
      expect(existsSync(join(kept!, 'registry-data', 'registry.db'))).toBe(true);
      expect(leftIn(tmp)).toEqual([kept!.slice(tmp.length + 1)]);
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  }, 180_000);
});
