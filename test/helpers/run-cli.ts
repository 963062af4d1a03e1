/**
 * Runs the bundled CLI (`node dist/cli/index.js`) as a person or a CI job would: as a child process,
 * with only the environment given (plus PATH/HOME), or as a shell script in which `peridio` is on PATH.
 */
import { spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = new URL('../..', import.meta.url).pathname;
export const cliBundle = join(root, 'dist', 'cli', 'index.js');

export interface CliRun {
  code: number;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface RunCliOptions {
  env?: Record<string, string>;
  cwd?: string;
  timeoutMs?: number;
  /** Aborting sends `killSignal` (default SIGKILL) to the process group. */
  signal?: AbortSignal;
  killSignal?: NodeJS.Signals;
}

/** A HOME of its own, so the developer's real ~/.config/peridio never leaks into a test. */
function baseEnv(options: RunCliOptions): Record<string, string> {
  const home = mkdtempSync(join(tmpdir(), 'peridio-home-'));
  return { PATH: `${binDir()}:${process.env.PATH ?? ''}`, HOME: home, TMPDIR: tmpdir(), ...options.env };
}

export function runCli(args: string[], options: RunCliOptions = {}): Promise<CliRun> {
  if (!existsSync(cliBundle)) throw new Error(`${cliBundle} is missing; run \`npm run bundle\` first`);
  return spawnCollect(process.execPath, [cliBundle, ...args], options);
}

/** Runs `script` with bash -euo pipefail; `peridio` resolves to the bundled CLI. */
export function runShell(script: string, options: RunCliOptions = {}): Promise<CliRun> {
  if (!existsSync(cliBundle)) throw new Error(`${cliBundle} is missing; run \`npm run bundle\` first`);
  return spawnCollect('bash', ['-euo', 'pipefail', '-c', script], options);
}

let shimDir: string | undefined;
/** A directory with a `peridio` executable that runs the bundle with this Node (24). */
function binDir(): string {
  if (shimDir) return shimDir;
  shimDir = join(mkdtempSync(join(tmpdir(), 'peridio-bin-')), 'bin');
  mkdirSync(shimDir);
  const shim = join(shimDir, 'peridio');
  writeFileSync(shim, `#!/bin/sh\nexec "${process.execPath}" "${cliBundle}" "$@"\n`);
  chmodSync(shim, 0o755);
  return shimDir;
}

function spawnCollect(command: string, args: string[], options: RunCliOptions): Promise<CliRun> {
  const child = spawn(command, args, {
    cwd: options.cwd ?? mkdtempSync(join(tmpdir(), 'peridio-cwd-')),
    env: baseEnv(options),
    stdio: ['ignore', 'pipe', 'pipe'],
    // Its own process group, so a kill reaches the CLI under a shell too.
    detached: true,
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
  child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
  const kill = () => {
    try {
      process.kill(-child.pid!, 'SIGKILL');
    } catch {
      // Already gone.
    }
  };
  const stop = () => {
    try {
      process.kill(-child.pid!, options.killSignal ?? 'SIGKILL');
    } catch {
      // Already gone.
    }
  };
  options.signal?.addEventListener('abort', stop, { once: true });
  const timeoutMs = options.timeoutMs ?? 60_000;
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    kill();
  }, timeoutMs);
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', stop);
      if (timedOut) {
        reject(
          new Error(
            `${args.join(' ')} did not finish within ${timeoutMs} ms\nstdout:\n${stdout}\nstderr:\n${stderr}`,
          ),
        );
      } else resolve({ code: code ?? -1, signal, stdout, stderr });
    });
  });
}
