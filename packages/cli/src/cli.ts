/**
 * The CLI without the process: parse the line, resolve the config, run one command, print its result.
 * Returns the exit code; main.ts wires it to process.argv/env/stdout/stderr.
 */
import { ApiError, InputError, PeridioClient, type UploadProgress } from '@peridio-actions/core';
import { checkFlags, parseLine } from './args.js';
import { RESOURCES } from './commands/index.js';
import { completionScript } from './completion.js';
import { resolveConfig, type ResolvedConfig } from './config.js';
import { EXIT, exitCodeOf } from './exit.js';
import { mainHelp, resourceHelp, verbHelp } from './help.js';
import { cliLogger } from './log.js';
import { render } from './output.js';
import { UsageError, type CommandContext, type FlagSpec } from './spec.js';

export const CLI_VERSION = '0.1.0';

export interface CliIo {
  env: Record<string, string | undefined>;
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
  signal?: AbortSignal;
}

export async function runCli(argv: string[], io: CliIo): Promise<number> {
  const verbose = argv.includes('--verbose');
  const logger = cliLogger(io.stderr, { verbose });
  // Secrets given on the line are masked in anything printed, whatever the parse makes of them.
  logger.addSecrets(secretValues(argv));
  if (io.env.PERIDIO_API_KEY) logger.addSecrets([io.env.PERIDIO_API_KEY]);

  if (argv[0] === 'completion') {
    if (argv[1] === '--help' || argv[1] === '-h') {
      io.stdout.write(
        'Print a shell completion script.\n\nUsage: peridio completion bash|zsh\n\nExamples:\n' +
          '  source <(peridio completion bash)   # in ~/.bashrc\n  source <(peridio completion zsh)    # in ~/.zshrc\n',
      );
      return EXIT.ok;
    }
    try {
      if (argv.length > 2) throw new UsageError(`unexpected argument '${argv[2]}'`);
      io.stdout.write(completionScript(argv[1], RESOURCES));
      return EXIT.ok;
    } catch (err) {
      return fail(err, logger);
    }
  }

  let client: PeridioClient | undefined;
  let verbFlags: FlagSpec[] = [];
  let inputFlags: Record<string, string> = {};
  try {
    const line = parseLine(argv, RESOURCES);
    const { resource, verb, globals } = line;
    if (globals.version && !resource) {
      io.stdout.write(`peridio ${CLI_VERSION}\n`);
      return EXIT.ok;
    }
    if (line.unknown) {
      const what = resource
        ? `${resource.name} has no verb '${line.unknown}'`
        : `unknown resource '${line.unknown}'`;
      throw new UsageError(what, resource?.name);
    }
    if (!resource) {
      if (globals.help) {
        io.stdout.write(mainHelp(RESOURCES));
        return EXIT.ok;
      }
      io.stderr.write(mainHelp(RESOURCES));
      return EXIT.usage;
    }
    if (!verb) {
      if (globals.help) {
        io.stdout.write(resourceHelp(resource));
        return EXIT.ok;
      }
      io.stderr.write(resourceHelp(resource));
      return EXIT.usage;
    }
    if (globals.help) {
      io.stdout.write(verbHelp(resource, verb));
      return EXIT.ok;
    }
    verbFlags = verb.flags;
    inputFlags = verb.inputFlags ?? {};
    checkFlags(verb, resource, line.flags);

    const config = resolveConfig(globals, io.env);
    if (config.apiKey) logger.addSecrets([config.apiKey]);
    logDebugConfig(logger, config);
    if (config.caPath && !io.env.NODE_EXTRA_CA_CERTS) {
      logger.warning(
        `profile '${config.profile}' sets ca_path, which this CLI does not read; set NODE_EXTRA_CA_CERTS=${config.caPath} instead`,
      );
    }
    const progressBar = io.stderr.isTTY === true;
    const ctx: CommandContext = {
      flags: line.flags,
      config,
      logger,
      addSecrets: (s) => logger.addSecrets(s),
      progressBar,
      onUploadProgress: progressBar ? (p: UploadProgress) => logger.progress(p) : undefined,
      stderr: io.stderr,
      signal: io.signal ?? new AbortController().signal,
      client() {
        if (client) return client;
        if (!config.apiKey) {
          throw new InputError(
            'api-key',
            'is not set: pass --api-key, set PERIDIO_API_KEY, or name a --profile with credentials',
          );
        }
        client = new PeridioClient({
          apiKey: config.apiKey,
          baseUrl: config.baseUrl ?? '',
          apiVersion: config.apiVersion,
          logger,
          signal: io.signal,
          userAgent: `peridio-actions-cli/${CLI_VERSION}`,
          retry: retryPolicy(io.env),
        });
        return client;
      },
    };
    const result = await verb.run(ctx);
    logger.endProgress();
    io.stdout.write(render(result, globals.output));
    return EXIT.ok;
  } catch (err) {
    logger.endProgress();
    if (io.signal?.aborted) {
      logger.error('interrupted; what was uploaded stays, and running the command again resumes');
      return EXIT.interrupted;
    }
    return fail(err, logger, verbFlags, inputFlags);
  } finally {
    await client?.close();
  }
}

function fail(
  err: unknown,
  logger: ReturnType<typeof cliLogger>,
  flags: FlagSpec[] = [],
  inputFlags: Record<string, string> = {},
): number {
  const code = exitCodeOf(err);
  logger.error(describe(err, flags, inputFlags));
  if (err instanceof UsageError) {
    logger.info(`Run 'peridio ${err.helpFor ? `${err.helpFor} ` : ''}--help' for usage.`);
  } else if (err instanceof Error && err.stack) {
    logger.debug(err.stack);
  }
  return code;
}

/** An input error names the flag as typed on this command line (`--content-path`, not `file`). */
function describe(err: unknown, flags: FlagSpec[], inputFlags: Record<string, string>): string {
  if (err instanceof InputError) {
    const flag = inputFlags[err.input] ?? err.input;
    const detail = err.message.replace(/^Input '[^']*': /, '');
    const known =
      flags.some((f) => f.name === flag) || ['api-key', 'profile', 'config-directory'].includes(flag);
    return `${known ? `--${flag}` : `'${flag}'`}: ${detail}`;
  }
  if (err instanceof ApiError && err.status >= 400 && err.status < 500) {
    // A field the API refused that this command set from a flag (cohort_prn ← --cohort-prn): name the flag.
    const named = Object.keys(err.fieldErrors)
      .map((field) => field.replace(/_/g, '-'))
      .filter((flag) => flags.some((f) => f.name === flag));
    if (named.length > 0) return `${named.map((f) => `--${f}`).join(', ')}: ${err.message}`;
  }
  if (err instanceof Error) return err.message;
  return String(err);
}

function logDebugConfig(logger: ReturnType<typeof cliLogger>, config: ResolvedConfig): void {
  logger.debug(
    `config directory ${config.configDirectory}${config.configFound ? '' : ' (no config.json)'}; ` +
      `profile ${config.profile ?? '(none)'}; base URL ${config.baseUrl ?? '(default)'}; ` +
      `API key ${config.apiKey ? `*** from ${config.apiKeySource}` : 'not set'}`,
  );
}

/** PERIDIO_MAX_ATTEMPTS: attempts per API request (default 8), for a CI that would rather fail fast. */
function retryPolicy(env: CliIo['env']): { maxAttempts: number } | undefined {
  const text = env.PERIDIO_MAX_ATTEMPTS;
  if (text === undefined || text === '') return undefined;
  if (!/^\d+$/.test(text) || Number(text) < 1) {
    throw new InputError('PERIDIO_MAX_ATTEMPTS', `must be a whole number of at least 1, got '${text}'`);
  }
  return { maxAttempts: Number(text) };
}

/** The values of every flag declared secret, in both `--flag value` and `--flag=value` forms. */
function secretValues(argv: string[]): string[] {
  const names = new Set(['--api-key', '-a', '--signing-key-private']);
  const values: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const eq = arg.indexOf('=');
    if (eq > 0 && names.has(arg.slice(0, eq))) values.push(arg.slice(eq + 1));
    else if (names.has(arg) && argv[i + 1] !== undefined) values.push(argv[i + 1]!);
  }
  return values;
}
