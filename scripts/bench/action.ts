import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { runTimed, type CommandResult } from './proc.js';

export interface ActionRun extends CommandResult {
  outputs: Record<string, string>;
  summary: string;
}

/**
 * Runs a bundled action as the runner does: `node dist/<name>/index.js` with each input in
 * INPUT_<NAME> (upper-cased, hyphens kept, as @actions/core reads them) and GITHUB_OUTPUT /
 * GITHUB_STEP_SUMMARY files. Timed from spawn to exit, with the child's peak RSS.
 */
export async function runAction(
  root: string,
  name: string,
  inputs: Record<string, string>,
  options: { tmpRoot: string; onSpawn?: (pid: number) => void },
): Promise<ActionRun> {
  const dir = await mkdtemp(join(options.tmpRoot, `run-${name}-`));
  try {
    const outputFile = join(dir, 'output');
    const summaryFile = join(dir, 'summary');
    await writeFile(outputFile, '');
    await writeFile(summaryFile, '');
    const env: NodeJS.ProcessEnv = {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      CI: 'true',
      GITHUB_ACTIONS: 'true',
      GITHUB_OUTPUT: outputFile,
      GITHUB_STEP_SUMMARY: summaryFile,
      GITHUB_REF: 'refs/heads/main',
      GITHUB_REPOSITORY: 'bench/peridio-actions',
      GITHUB_SHA: '0'.repeat(40),
      GITHUB_WORKSPACE: dir,
      RUNNER_TEMP: dir,
    };
    for (const [input, value] of Object.entries(inputs)) env[`INPUT_${input.toUpperCase()}`] = value;
    const result = await runTimed(process.execPath, [join(root, 'dist', name, 'index.js')], {
      env,
      cwd: dir,
      onSpawn: options.onSpawn,
    });
    return {
      ...result,
      outputs: parseOutputs(await readFile(outputFile, 'utf8')),
      summary: await readFile(summaryFile, 'utf8'),
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** The GITHUB_OUTPUT file format of @actions/core: `name<<DELIM\nvalue\nDELIM` blocks (or `name=value`). */
function parseOutputs(text: string): Record<string, string> {
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

/** The last lines of an action's output, for a failure message (the action masks its own secrets). */
export function tail(run: CommandResult, lines = 15): string {
  return `${run.stdout}\n${run.stderr}`.trim().split('\n').slice(-lines).join('\n');
}
