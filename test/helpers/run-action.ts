/**
 * Runs a bundled action (`node dist/<name>/index.js`) in a child process the way the runner does: every
 * input of its action.yml as `INPUT_<NAME>` (given values, else the declared default), GITHUB_OUTPUT and
 * GITHUB_STEP_SUMMARY files, and the GITHUB_* context of a tag push. Outputs are read back from the
 * file. An input the action.yml does not declare is an error here, so tests and code cannot drift apart.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';

export type ActionName =
  | 'create-artifact-version'
  | 'upload-binary'
  | 'sign-binary'
  | 'publish-binary'
  | 'create-bundle'
  | 'create-release'
  | 'promote-release'
  | 'verify-update';

export interface ActionRun {
  /** Exit code; -1 when the process was killed (see `signal`). */
  code: number;
  signal: NodeJS.Signals | null;
  outputs: Record<string, string>;
  summary: string;
  stdout: string;
  stderr: string;
}

export interface RunActionOptions {
  /** Extra or overriding environment (GITHUB_REF, GITHUB_SHA, ...). */
  env?: Record<string, string>;
  /** The process is killed and the call rejects after this long. Default 60 s. */
  timeoutMs?: number;
  /** Aborting kills the process with SIGKILL, as a cancelled or crashed runner would. */
  signal?: AbortSignal;
  /** Working directory (GITHUB_WORKSPACE); a fresh temp dir by default. */
  cwd?: string;
  /** Called with each chunk of stdout as it arrives. */
  onStdout?: (chunk: string) => void;
}

const root = new URL('../..', import.meta.url).pathname;

export function actionYmlPath(name: ActionName): string {
  return name === 'publish-binary' ? join(root, 'action.yml') : join(root, 'packages', name, 'action.yml');
}

function bundlePath(name: ActionName): string {
  return join(root, 'dist', name, 'index.js');
}

interface ActionYml {
  inputs?: Record<string, { default?: string; required?: boolean }>;
}

/** The runner's name mangling (actions/runner: `INPUT_` + name upper-cased, spaces to `_`). */
export function inputEnvName(input: string): string {
  return `INPUT_${input.replace(/ /g, '_').toUpperCase()}`;
}

export async function runAction(
  name: ActionName,
  inputs: Record<string, string>,
  options: RunActionOptions = {},
): Promise<ActionRun> {
  const bundle = bundlePath(name);
  if (!existsSync(bundle))
    throw new Error(`${bundle} is missing; run \`node scripts/bundle.mjs ${name}\` first`);
  const declared = (parse(readFileSync(actionYmlPath(name), 'utf8')) as ActionYml).inputs ?? {};
  const unknown = Object.keys(inputs).filter((input) => !(input in declared));
  if (unknown.length > 0) {
    throw new Error(
      `${name} has no input(s) ${unknown.join(', ')}; action.yml declares ${Object.keys(declared).join(', ')}`,
    );
  }

  const dir = mkdtempSync(join(tmpdir(), `run-${name}-`));
  const files = {
    GITHUB_OUTPUT: join(dir, 'output'),
    GITHUB_STEP_SUMMARY: join(dir, 'summary.md'),
    GITHUB_STATE: join(dir, 'state'),
    GITHUB_ENV: join(dir, 'env'),
    GITHUB_PATH: join(dir, 'path'),
  };
  for (const file of Object.values(files)) writeFileSync(file, '');
  const cwd = options.cwd ?? mkdtempSync(join(tmpdir(), 'workspace-'));

  // Only what a runner sets: nothing of this test process's own GITHUB_* leaks in (CI runs these tests).
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? dir,
    TMPDIR: tmpdir(),
    CI: 'true',
    GITHUB_ACTIONS: 'true',
    GITHUB_WORKSPACE: cwd,
    GITHUB_REPOSITORY: 'example/firmware',
    GITHUB_REPOSITORY_OWNER: 'example',
    GITHUB_SHA: '0123456789abcdef0123456789abcdef01234567',
    GITHUB_REF: 'refs/tags/v1.0.0',
    GITHUB_REF_NAME: 'v1.0.0',
    GITHUB_REF_TYPE: 'tag',
    GITHUB_EVENT_NAME: 'push',
    GITHUB_WORKFLOW: 'Release',
    GITHUB_JOB: 'publish',
    GITHUB_RUN_ID: '4242',
    GITHUB_RUN_NUMBER: '7',
    GITHUB_RUN_ATTEMPT: '1',
    GITHUB_ACTOR: 'octocat',
    GITHUB_SERVER_URL: 'https://github.com',
    GITHUB_API_URL: 'https://api.github.com',
    RUNNER_OS: 'Linux',
    RUNNER_ARCH: 'X64',
    RUNNER_TEMP: dir,
    ...files,
    ...options.env,
  };
  for (const [input, spec] of Object.entries(declared)) {
    env[inputEnvName(input)] = inputs[input] ?? spec?.default ?? '';
  }

  const child = spawn(process.execPath, [bundle], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk;
    options.onStdout?.(chunk);
  });
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));

  const kill = () => child.kill('SIGKILL');
  options.signal?.addEventListener('abort', kill, { once: true });
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    kill();
  }, options.timeoutMs ?? 60_000);
  const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (c, s) => resolve([c, s]));
  });
  clearTimeout(timer);
  options.signal?.removeEventListener('abort', kill);
  if (timedOut) {
    throw new Error(
      `${name} did not finish within ${options.timeoutMs ?? 60_000} ms\nstdout:\n${stdout}\nstderr:\n${stderr}`,
    );
  }
  return {
    code: code ?? -1,
    signal,
    outputs: parseOutputFile(readFileSync(files.GITHUB_OUTPUT, 'utf8')),
    summary: readFileSync(files.GITHUB_STEP_SUMMARY, 'utf8'),
    stdout,
    stderr,
  };
}

/** The file command format @actions/core writes: `name<<DELIMITER\nvalue\nDELIMITER\n` per output. */
function parseOutputFile(text: string): Record<string, string> {
  const outputs: Record<string, string> = {};
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    const heredoc = /^([^=<]+)<<(.+)$/.exec(line);
    if (heredoc) {
      const [, key, delimiter] = heredoc;
      const value: string[] = [];
      for (i++; i < lines.length && lines[i] !== delimiter; i++) value.push(lines[i]!);
      outputs[key!] = value.join('\n');
    } else if (line.includes('=')) {
      outputs[line.slice(0, line.indexOf('='))] = line.slice(line.indexOf('=') + 1);
    }
  }
  return outputs;
}

/** The error annotations (`::error ...::message`) the action printed. */
export function errorAnnotations(run: Pick<ActionRun, 'stdout'>): string[] {
  return run.stdout
    .split('\n')
    .filter((line) => line.startsWith('::error'))
    .map((line) => unescapeCommand(line.slice(line.indexOf('::', 2) + 2)));
}

function unescapeCommand(value: string): string {
  return value.replace(/%0A/g, '\n').replace(/%0D/g, '\r').replace(/%25/g, '%');
}
