/**
 * Starts the bundled registry (`node dist/registry/index.js serve`) as a child process, as users run it.
 * Tests assume the bundle exists (`npm test` bundles first; or `node scripts/bundle.mjs registry`).
 * The data dir is a fresh temp dir unless given, and is left in place (a restart test reuses it).
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = new URL('../..', import.meta.url).pathname;
export const registryBundle = join(root, 'dist', 'registry', 'index.js');

export interface RegistryProcess {
  baseUrl: string;
  apiKey: string;
  dataDir: string;
  pid: number;
  /** SIGTERM, then waits for the exit (SIGKILL after 10 s). */
  stop(): Promise<void>;
  /** Sends a signal (default SIGKILL) and waits for the exit. */
  kill(signal?: NodeJS.Signals): Promise<void>;
  /** What the process wrote so far (stderr is the request log). */
  output(): { stdout: string; stderr: string };
  /** Exit code/signal once exited, else undefined. */
  exited(): { code: number | null; signal: NodeJS.Signals | null } | undefined;
}

export async function startRegistry(
  options: {
    dataDir?: string;
    apiKey?: string;
    env?: Record<string, string>;
    args?: string[];
    port?: number;
  } = {},
): Promise<RegistryProcess> {
  if (!existsSync(registryBundle)) {
    throw new Error(`${registryBundle} is missing; run \`node scripts/bundle.mjs registry\` first`);
  }
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'peridio-registry-'));
  const env: Record<string, string | undefined> = { ...process.env, ...options.env };
  if (options.apiKey !== undefined) env.PERIDIO_REGISTRY_API_KEY = options.apiKey;
  const child = spawn(
    process.execPath,
    [
      registryBundle,
      'serve',
      '--port',
      String(options.port ?? 0),
      '--data-dir',
      dataDir,
      ...(options.args ?? []),
    ],
    { env, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let stdout = '';
  let stderr = '';
  let exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  const exitedPromise = new Promise<void>((resolve) => {
    child.once('exit', (code, signal) => {
      exit = { code, signal };
      resolve();
    });
  });
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
    if (stderr.length > 1_000_000) stderr = stderr.slice(-500_000);
  });

  const baseUrl = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`peridio-registry did not start within 20 s.\nstdout: ${stdout}\nstderr: ${stderr}`));
    }, 20_000);
    const onData = () => {
      const match = /^peridio-registry listening on (\S+)$/m.exec(stdout);
      if (match) {
        clearTimeout(timer);
        child.stdout.off('data', onData);
        resolve(match[1]!);
      }
    };
    child.stdout.on('data', onData);
    void exitedPromise.then(() => {
      clearTimeout(timer);
      reject(
        new Error(`peridio-registry exited (${JSON.stringify(exit)}) before listening.\nstderr: ${stderr}`),
      );
    });
  });

  const printed = /^peridio-registry api key: (\S+) /m.exec(stdout)?.[1];
  const keyFile = join(dataDir, 'api-key');
  const apiKey =
    options.apiKey ??
    (env.PERIDIO_REGISTRY_API_KEY || undefined) ??
    printed ??
    (existsSync(keyFile) ? readFileSync(keyFile, 'utf8').trim() : '');

  const kill = async (signal: NodeJS.Signals = 'SIGKILL') => {
    if (!exit) child.kill(signal);
    await exitedPromise;
  };
  return {
    baseUrl,
    apiKey,
    dataDir,
    pid: child.pid!,
    kill,
    async stop() {
      if (exit) return;
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await kill('SIGTERM');
      clearTimeout(timer);
    },
    output: () => ({ stdout, stderr }),
    exited: () => exit,
  };
}
