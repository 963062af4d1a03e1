/**
 * The shape of the command table. Each resource is a list of verbs; each verb declares its flags, its
 * help and examples, and a `run` that turns parsed flags into one core call and a printable result.
 * Adding a resource (bundles, releases, cohorts...) is one more entry in commands/index.ts.
 */
import type { Logger, PeridioClient, UploadProgress } from '@peridio-actions/core';
import type { ResolvedConfig } from './config.js';
import type { Printable } from './output.js';

export interface FlagSpec {
  name: string;
  /** Default 'string'. Numbers are strings here and checked by the command. */
  type?: 'string' | 'boolean';
  multiple?: boolean;
  required?: boolean;
  /** Other accepted spellings (e.g. `--part-number` for `--index`). */
  aliases?: string[];
  short?: string;
  description: string;
  /** Masked in debug output and errors. */
  secret?: boolean;
  choices?: readonly string[];
  valueName?: string;
}

export type FlagValues = Record<string, string | boolean | string[] | undefined>;

export interface CommandContext {
  flags: FlagValues;
  /** The client of the resolved profile; created on first use so `--help` needs no API key. */
  client(): PeridioClient;
  config: ResolvedConfig;
  logger: Logger;
  /** Registers a secret read from a file or the config (a private key), so it is masked from then on. */
  addSecrets(secrets: string[]): void;
  progressBar: boolean;
  /** Draws the progress bar; set when `progressBar` is. */
  onUploadProgress?: (p: UploadProgress) => void;
  stderr: NodeJS.WritableStream;
  signal: AbortSignal;
}

export interface VerbSpec {
  name: string;
  aliases?: string[];
  summary: string;
  /** Longer help text, shown by `--help` after the summary. */
  details?: string;
  flags: FlagSpec[];
  examples: string[];
  /** Core input names whose errors should name a differently spelt flag of this command. */
  inputFlags?: Record<string, string>;
  run(ctx: CommandContext): Promise<Printable>;
}

export interface ResourceSpec {
  name: string;
  summary: string;
  verbs: VerbSpec[];
}

/** A mistake in how the command line is written: exit code 2. */
export class UsageError extends Error {
  override name = 'UsageError';
  constructor(
    message: string,
    readonly helpFor?: string,
  ) {
    super(message);
  }
}
