import { describe, expect, it } from 'vitest';
import { checkFlags, parseLine } from '../src/args.js';
import { RESOURCES } from '../src/commands/index.js';
import { UsageError } from '../src/spec.js';

const parse = (line: string[]) => parseLine(line, RESOURCES);

describe('parseLine', () => {
  it('finds resource and verb around global flags and flag values', () => {
    const line = parse(['--profile', 'prod', 'binaries', '--output', 'prn', 'list', '--target', 'arm64']);
    expect(line.resource?.name).toBe('binaries');
    expect(line.verb?.name).toBe('list');
    expect(line.globals).toMatchObject({ profile: 'prod', output: 'prn' });
    expect(line.flags).toEqual({ target: 'arm64' });
  });

  it('takes --flag=value, short globals, and a value that looks like a word', () => {
    const line = parse(['-p', 'prod', '-o', 'table', 'artifacts', 'create', '--name=list']);
    expect(line.globals).toMatchObject({ profile: 'prod', output: 'table' });
    expect(line.flags).toEqual({ name: 'list' });
  });

  it('a verb flag named like a global wins (artifact-versions create --version)', () => {
    const line = parse(['artifact-versions', 'create', '--artifact-prn', 'p', '--version', '1.0.0']);
    expect(line.flags.version).toBe('1.0.0');
    expect(line.globals.version).toBe(false);
    expect(parse(['--version']).globals.version).toBe(true);
  });

  it('folds aliases onto the flag and refuses both spellings at once', () => {
    const line = parse(['binary-parts', 'create', '--part-number', '2', '--binary-prn', 'b', '--file', 'f']);
    expect(line.flags).toEqual({ index: '2', 'binary-prn': 'b', file: 'f' });
    expect(line.verb?.name).toBe('create');
    expect(() => parse(['binary-parts', 'create', '--part-number', '2', '--index', '3'])).toThrow(
      /--part-number and --index are the same flag/,
    );
    expect(parse(['binaries', 'destroy', '--prn', 'x']).verb?.name).toBe('delete');
  });

  it('reports unknown words, unknown flags, missing values and stray arguments as usage errors', () => {
    expect(parse(['webhooks', 'list']).unknown).toBe('webhooks');
    expect(parse(['artifacts', 'explode']).unknown).toBe('explode');
    expect(() => parse(['artifacts', 'list', '--nope'])).toThrow(
      new UsageError('unknown flag --nope', 'artifacts list'),
    );
    expect(() => parse(['artifacts', 'get', '--prn'])).toThrow(/flag --prn needs a value/);
    expect(() => parse(['artifacts', 'get', '--prn', 'p', 'extra'])).toThrow(/unexpected argument 'extra'/);
    expect(() => parse(['artifacts', 'list', '--output', 'xml'])).toThrow(/--output must be one of/);
  });

  it('finds a nested verb by its two words, as Peridio’s CLI nests bundle-overrides devices', () => {
    const line = parse([
      'bundle-overrides',
      '--output',
      'prn',
      'devices',
      'add',
      '--prn',
      'o',
      '--device-prn',
      'd',
    ]);
    expect(line.resource?.name).toBe('bundle-overrides');
    expect(line.verb?.name).toBe('devices add');
    expect(line.flags).toEqual({ prn: 'o', 'device-prn': 'd' });
    // The group word alone is a resource without a verb (its help lists them); a wrong second word is unknown.
    expect(parse(['bundle-overrides', 'devices']).verb).toBeUndefined();
    expect(parse(['bundle-overrides', 'devices']).unknown).toBeUndefined();
    expect(parse(['bundle-overrides', 'devices', 'frob', '--prn', 'o']).unknown).toBe('devices frob');
    expect(() => parse(['bundle-overrides', 'devices', 'add', '--prn', 'o', 'x'])).toThrow(
      /unexpected argument 'x'/,
    );
    // A one-word verb is still one word: a third word after it is a stray argument.
    expect(() => parse(['bundle-overrides', 'list', 'devices'])).toThrow(/unexpected argument 'devices'/);
  });

  it('an unknown verb is reported as such, not as the unknown flags that follow it', () => {
    expect(parse(['artifacts', 'explode', '--prn', 'x']).unknown).toBe('explode');
  });

  it('lets --help through even with flags the verb does not know', () => {
    const line = parse(['binaries', 'create', '--help', '--whatever']);
    expect(line.globals.help).toBe(true);
    expect(line.verb?.name).toBe('create');
  });

  it('checkFlags names a missing required flag and a bad choice', () => {
    const binaries = RESOURCES.find((r) => r.name === 'binaries')!;
    const update = binaries.verbs.find((v) => v.name === 'update')!;
    expect(() => checkFlags(update, binaries, {})).toThrow(/missing required flag --prn/);
    expect(() => checkFlags(update, binaries, { prn: 'p', state: 'done' })).toThrow(/--state must be one of/);
    expect(() => checkFlags(update, binaries, { prn: 'p', state: 'hashable' })).not.toThrow();
  });
});
