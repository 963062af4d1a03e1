/** `--help` at each level: the whole CLI, one resource, one verb (flags and examples). */
import { GLOBAL_FLAGS } from './args.js';
import { EXIT_CODES_HELP } from './exit.js';
import type { FlagSpec, ResourceSpec, VerbSpec } from './spec.js';

export function mainHelp(resources: ResourceSpec[]): string {
  const width = Math.max(...resources.map((r) => r.name.length), 'completion'.length);
  return [
    'peridio: publish binaries to a Peridio-compatible registry from any CI.',
    '',
    'Usage: peridio [global flags] <resource> <verb> [flags]',
    '',
    'Resources:',
    ...resources.map((r) => `  ${r.name.padEnd(width)}  ${r.summary}`),
    `  ${'completion'.padEnd(width)}  Print a shell completion script: peridio completion bash|zsh`,
    '',
    'Global flags:',
    ...flagLines(GLOBAL_FLAGS),
    '',
    'Examples:',
    '  peridio artifacts create --name firmware --output prn',
    '  peridio binaries create --artifact-version-prn "$VERSION_PRN" --target arm64-linux \\',
    '      --content-path firmware.bin --signing-key-pair prod',
    '  peridio --profile prod binaries list --target arm64-linux --output table',
    '',
    EXIT_CODES_HELP,
    '',
    "Run 'peridio <resource> --help' for its verbs, 'peridio <resource> <verb> --help' for its flags.",
    '',
  ].join('\n');
}

export function resourceHelp(resource: ResourceSpec): string {
  const width = Math.max(...resource.verbs.map((v) => v.name.length));
  return [
    resource.summary,
    '',
    `Usage: peridio ${resource.name} <verb> [flags]`,
    '',
    'Verbs:',
    ...resource.verbs.map(
      (v) => `  ${v.name.padEnd(width)}  ${v.summary}${v.aliases ? ` (also: ${v.aliases.join(', ')})` : ''}`,
    ),
    '',
    'Examples:',
    ...resource.verbs.map((v) => indent(v.examples[v.examples.length - 1]!)),
    '',
  ].join('\n');
}

export function verbHelp(resource: ResourceSpec, verb: VerbSpec): string {
  return [
    verb.summary,
    ...(verb.details ? ['', verb.details] : []),
    '',
    `Usage: peridio ${resource.name} ${verb.name} [flags]`,
    '',
    'Flags:',
    ...flagLines(verb.flags),
    '',
    'Global flags: --api-key, --base-url, --profile, --config-directory, --output json|prn|table, --verbose',
    '',
    'Examples:',
    ...verb.examples.map(indent),
    '',
  ].join('\n');
}

function flagLines(flags: FlagSpec[]): string[] {
  const left = flags.map((f) => {
    const value =
      f.type === 'boolean' ? '' : ` <${f.valueName ?? (f.choices ? f.choices.join('|') : 'VALUE')}>`;
    const names = [f.short ? `-${f.short}, ` : '    ', `--${f.name}`, value].join('');
    return names;
  });
  const width = Math.max(...left.map((l) => l.length));
  return flags.map((f, i) => {
    const notes = [
      f.required ? 'required' : undefined,
      f.aliases?.length ? `also --${f.aliases.join(', --')}` : undefined,
    ].filter(Boolean);
    return `  ${left[i]!.padEnd(width)}  ${f.description}${notes.length ? ` (${notes.join('; ')})` : ''}`;
  });
}

function indent(text: string): string {
  return text
    .split('\n')
    .map((line) => `  ${line}`)
    .join('\n');
}
