/**
 * `peridio [global flags] <resource> <verb> [flags]`, parsed with node:util parseArgs. The resource and
 * verb are found first (a flag's value is never mistaken for them), then the whole line is parsed
 * strictly against the global flags plus that verb's flags, so an unknown or misspelt flag is a usage error.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { OUTPUT_FORMATS, type OutputFormat } from './output.js';
import { UsageError, type FlagSpec, type FlagValues, type ResourceSpec, type VerbSpec } from './spec.js';

export const GLOBAL_FLAGS: FlagSpec[] = [
  { name: 'api-key', short: 'a', secret: true, description: 'API key (env PERIDIO_API_KEY)' },
  { name: 'base-url', short: 'b', description: 'Admin API base URL (env PERIDIO_BASE_URL)' },
  { name: 'profile', short: 'p', description: 'Profile of config.json to use (env PERIDIO_PROFILE)' },
  {
    name: 'config-directory',
    short: 'd',
    description: 'Directory of config.json and credentials.json (env PERIDIO_CONFIG_DIRECTORY)',
  },
  {
    name: 'output',
    short: 'o',
    choices: OUTPUT_FORMATS,
    description: 'What to print: json (default), prn (only the PRN), table',
  },
  { name: 'verbose', type: 'boolean', description: 'Debug logging on stderr (secrets masked)' },
  { name: 'help', short: 'h', type: 'boolean', description: 'Show help' },
  { name: 'version', type: 'boolean', description: 'Print the version' },
];

export interface ParsedLine {
  resource?: ResourceSpec;
  verb?: VerbSpec;
  /** Words that were not a known resource or verb (for the error message). */
  unknown?: string;
  globals: {
    apiKey?: string;
    baseUrl?: string;
    profile?: string;
    configDirectory?: string;
    output: OutputFormat;
    verbose: boolean;
    help: boolean;
    version: boolean;
  };
  flags: FlagValues;
}

export function parseLine(argv: string[], resources: ResourceSpec[]): ParsedLine {
  const [first, second, third] = positionals(argv, resources);
  const resource = first === undefined ? undefined : findByName(resources, first);
  const { verb, words, unknown: unknownVerb } = findVerb(resource, second, third);
  const unknown = first !== undefined && !resource ? first : unknownVerb;

  // A verb's own flag wins over a global of the same name (`artifact-versions create --version 1.0.0`).
  const verbNames = new Set((verb?.flags ?? []).map((f) => f.name));
  const globalsHere = GLOBAL_FLAGS.filter((f) => !verbNames.has(f.name));
  const specs = [...globalsHere, ...(verb?.flags ?? [])];
  const options: NonNullable<ParseArgsConfig['options']> = {};
  for (const spec of specs) {
    for (const name of [spec.name, ...(spec.aliases ?? [])]) {
      options[name] = {
        type: spec.type ?? 'string',
        ...(spec.multiple ? { multiple: true } : {}),
        ...(spec.short && name === spec.name ? { short: spec.short } : {}),
      };
    }
  }
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({ args: argv, options, strict: true, allowPositionals: true });
  } catch (err) {
    // An unknown word is the mistake to report: its flags are unknown only because its verb is.
    const help = parseArgs({ args: argv, options, strict: false }).values.help === true;
    if (!help && !unknown) throw new UsageError(cleanParseError(err as Error), helpTopic(resource, verb));
    parsed = parseArgs({ args: argv, options, strict: false, allowPositionals: true });
  }
  const values = parsed.values as FlagValues;
  // An alias lands under its own name; fold it onto the flag's name, and refuse both at once.
  for (const spec of specs) {
    for (const alias of spec.aliases ?? []) {
      if (values[alias] === undefined) continue;
      if (values[spec.name] !== undefined) {
        throw new UsageError(
          `--${alias} and --${spec.name} are the same flag; give one`,
          helpTopic(resource, verb),
        );
      }
      values[spec.name] = values[alias];
      delete values[alias];
    }
  }
  const extra = parsed.positionals.slice(1 + words);
  if (extra.length > 0 && !values.help && !unknown) {
    throw new UsageError(`unexpected argument '${extra[0]}'`, helpTopic(resource, verb));
  }
  const output = (values.output as string | undefined) ?? 'json';
  if (!OUTPUT_FORMATS.includes(output as OutputFormat)) {
    throw new UsageError(`--output must be one of ${OUTPUT_FORMATS.join(', ')}, got '${output}'`);
  }
  const globals: ParsedLine['globals'] = {
    apiKey: values['api-key'] as string | undefined,
    baseUrl: values['base-url'] as string | undefined,
    profile: values.profile as string | undefined,
    configDirectory: values['config-directory'] as string | undefined,
    output: output as OutputFormat,
    verbose: values.verbose === true,
    help: values.help === true,
    version: !verbNames.has('version') && values.version === true,
  };
  for (const spec of globalsHere) delete values[spec.name];
  return { resource, verb, unknown, globals, flags: values };
}

/** Required flags and choices of a verb; run after `--help` is handled. */
export function checkFlags(verb: VerbSpec, resource: ResourceSpec, flags: FlagValues): void {
  for (const spec of verb.flags) {
    const value = flags[spec.name];
    if (spec.required && (value === undefined || value === '')) {
      throw new UsageError(`missing required flag --${spec.name}`, `${resource.name} ${verb.name}`);
    }
    if (spec.choices && typeof value === 'string' && !spec.choices.includes(value)) {
      throw new UsageError(
        `--${spec.name} must be one of ${spec.choices.join(', ')}, got '${value}'`,
        `${resource.name} ${verb.name}`,
      );
    }
  }
}

/**
 * The verb a line names: one word (`bundles list`), or two where Peridio's CLI nests a group
 * (`bundle-overrides devices add`, declared as the verb `devices add`). `words` is how many it took.
 */
function findVerb(
  resource: ResourceSpec | undefined,
  second: string | undefined,
  third: string | undefined,
): { verb?: VerbSpec; words: number; unknown?: string } {
  if (!resource || second === undefined) return { words: second === undefined ? 0 : 1 };
  const isGroup = resource.verbs.some((v) => v.name.startsWith(`${second} `));
  if (isGroup) {
    // `bundle-overrides devices` alone is like a resource without a verb: its help lists the verbs.
    if (third === undefined) return { words: 1 };
    const verb = findByName(resource.verbs, `${second} ${third}`);
    return verb ? { verb, words: 2 } : { words: 2, unknown: `${second} ${third}` };
  }
  const verb = findByName(resource.verbs, second);
  return verb ? { verb, words: 1 } : { words: 1, unknown: second };
}

/** The first three words that are not flags or flag values: resource, verb, and a nested verb's second word. */
function positionals(argv: string[], resources: ResourceSpec[]): string[] {
  const booleans = new Set<string>();
  const shortBooleans = new Set<string>();
  for (const spec of [...GLOBAL_FLAGS, ...resources.flatMap((r) => r.verbs.flatMap((v) => v.flags))]) {
    if (spec.type !== 'boolean') continue;
    booleans.add(spec.name);
    for (const alias of spec.aliases ?? []) booleans.add(alias);
    if (spec.short) shortBooleans.add(spec.short);
  }
  const words: string[] = [];
  for (let i = 0; i < argv.length && words.length < 3; i++) {
    const arg = argv[i]!;
    if (arg === '--') {
      words.push(...argv.slice(i + 1, i + 1 + (3 - words.length)));
      break;
    }
    if (arg.startsWith('--')) {
      if (!arg.includes('=') && !booleans.has(arg.slice(2))) i++;
    } else if (arg.startsWith('-') && arg.length > 1) {
      if (arg.length === 2 && !shortBooleans.has(arg[1]!)) i++;
    } else {
      words.push(arg);
    }
  }
  return words;
}

function findByName<T extends { name: string; aliases?: string[] }>(items: T[], name: string): T | undefined {
  return items.find((item) => item.name === name || item.aliases?.includes(name));
}

function helpTopic(resource?: ResourceSpec, verb?: VerbSpec): string | undefined {
  if (!resource) return undefined;
  return verb ? `${resource.name} ${verb.name}` : resource.name;
}

/** parseArgs' messages suggest `--` and name the option awkwardly; keep the part that matters. */
function cleanParseError(err: Error): string {
  const message = err.message;
  const unknown = /Unknown option '([^']+)'/.exec(message);
  if (unknown) return `unknown flag ${unknown[1]}`;
  const missing = /Option '(?:-\w, )?(--[\w-]+)[^']*' argument missing/.exec(message);
  if (missing) return `flag ${missing[1]} needs a value`;
  const noValue = /Option '(--[\w-]+)' does not take an argument/.exec(message);
  if (noValue) return `flag ${noValue[1]} takes no value`;
  return message.split('\n')[0]!;
}
