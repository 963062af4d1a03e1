/**
 * Every action.yml against the runner's own action schema (the one @actions/workflow-parser ships, which
 * the Actions language services use), and every workflow in .github/workflows against the workflow schema.
 * The YAML is also checked for what the schema cannot know: node24, a main that the bundler builds, and
 * inputs/outputs named exactly as the code reads and writes them.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_HASHING_TIMEOUT_MS,
  DEFAULT_PART_SIZE,
  DEFAULT_STALL_TIMEOUT_MS,
  DEFAULT_TIMEOUT_MS,
  DEFAULT_UPLOAD_CONCURRENCY,
} from '@peridio-actions/core';
import {
  convertActionTemplate,
  NoOperationTraceWriter,
  parseAction,
  parseWorkflow,
  type ActionRunsNode,
} from '../helpers/workflow-parser.js';

const root = new URL('../..', import.meta.url).pathname;

const ACTIONS = [
  { file: 'action.yml', name: 'publish-binary', main: 'dist/publish-binary/index.js' },
  ...[
    'create-artifact-version',
    'upload-binary',
    'sign-binary',
    'create-bundle',
    'create-release',
    'promote-release',
    'verify-update',
  ].map((name) => ({
    file: `packages/${name}/action.yml`,
    name,
    main: `../../dist/${name}/index.js`,
  })),
];

function parse(file: string) {
  const content = readFileSync(join(root, file), 'utf8');
  const result = parseAction({ name: file, content }, new NoOperationTraceWriter());
  const errors = result.context.errors.getErrors().map((e) => e.message);
  const template = result.value ? convertActionTemplate(result.context, result.value) : undefined;
  return { errors, template };
}

describe('action.yml files', () => {
  it('rejects an action.yml that breaks the schema (the validator can fail)', () => {
    const result = parseAction(
      { name: 'bad.yml', content: 'name: x\ndescription: y\nruns:\n  using: node99\n  main: a.js\n' },
      new NoOperationTraceWriter(),
    );
    expect(result.context.errors.getErrors().length).toBeGreaterThan(0);
  });

  for (const action of ACTIONS) {
    describe(action.file, () => {
      it('is valid against the runner action schema', () => {
        const { errors, template } = parse(action.file);
        expect(errors).toEqual([]);
        expect(template?.name).toBeTruthy();
      });

      it(`runs ${action.main} on node24`, () => {
        const runs = parse(action.file).template?.runs as ActionRunsNode;
        expect(runs.using).toBe('node24');
        expect(runs.main).toBe(action.main);
      });

      it('documents every input and output, with kebab-case names', () => {
        const { template } = parse(action.file);
        for (const item of [...(template?.inputs ?? []), ...(template?.outputs ?? [])]) {
          expect(item.id).toMatch(/^[a-z][a-z0-9]*(-[a-z0-9]+)*$/);
          expect(item.description?.length ?? 0).toBeGreaterThan(10);
        }
        const apiKey = template?.inputs?.find((i) => i.id === 'api-key');
        expect(apiKey?.required).toBe(true);
        const baseUrl = template?.inputs?.find((i) => i.id === 'base-url');
        expect(baseUrl?.default?.toString()).toBe('https://api.cremini.peridio.com');
      });
    });
  }
});

describe('declared defaults', () => {
  // The runner passes action.yml defaults as inputs, so these, not the core's constants, are what runs.
  for (const file of ['action.yml', 'packages/upload-binary/action.yml']) {
    it(`${file} declares the core's upload defaults`, () => {
      const inputs = parse(file).template?.inputs ?? [];
      const value = (id: string) => inputs.find((i) => i.id === id)?.default?.toString();
      expect(value('part-size')).toBe(String(DEFAULT_PART_SIZE));
      expect(value('concurrency')).toBe(String(DEFAULT_UPLOAD_CONCURRENCY));
      expect(Number(value('hashing-timeout')) * 1000).toBe(DEFAULT_HASHING_TIMEOUT_MS);
      expect(Number(value('stall-timeout')) * 1000).toBe(DEFAULT_STALL_TIMEOUT_MS);
    });
  }
});

describe('request-timeout', () => {
  for (const file of ACTIONS.map((action) => action.file)) {
    it(`${file} declares the API client's request timeout`, () => {
      const inputs = parse(file).template?.inputs ?? [];
      const value = inputs.find((i) => i.id === 'request-timeout')?.default?.toString();
      expect(Number(value) * 1000).toBe(DEFAULT_TIMEOUT_MS);
    });
  }
});

const RELEASE_ACTIONS = ['create-bundle', 'create-release', 'promote-release', 'verify-update'];

describe('docs/release-actions.md', () => {
  const doc = readFileSync(join(root, 'docs/release-actions.md'), 'utf8');
  for (const name of RELEASE_ACTIONS) {
    it(`documents every input and output of ${name}, with its default, and nothing else`, () => {
      const start = doc.indexOf(`### ${name}\n`);
      expect(start).toBeGreaterThan(-1);
      const end = doc.indexOf('\n### ', start + 1);
      const section = doc.slice(start, end === -1 ? undefined : end);
      const { template } = parse(`packages/${name}/action.yml`);
      const inputs = template?.inputs ?? [];
      const outputs = template?.outputs ?? [];
      const rows = [...section.matchAll(/^\| `([a-z-]+)` \|(.*)$/gm)].map((m) => [m[1]!, m[2]!] as const);
      expect(rows.map(([id]) => id)).toEqual([...inputs.map((i) => i.id), ...outputs.map((o) => o.id)]);
      for (const input of inputs) {
        const row = rows.find(([id]) => id === input.id)![1];
        expect(row.startsWith(` ${input.required ? 'yes' : 'no'} |`), `${input.id}: ${row}`).toBe(true);
        const def = input.default?.toString() ?? '';
        if (def) expect(row, input.id).toContain(`| \`${def}\` |`);
      }
    });
  }
});

describe('README', () => {
  const readme = readFileSync(join(root, 'README.md'), 'utf8');
  for (const action of ACTIONS.filter((a) => !RELEASE_ACTIONS.includes(a.name))) {
    it(`documents every input and output of ${action.name}`, () => {
      const start = readme.indexOf(`#### ${action.name}`);
      expect(start).toBeGreaterThan(-1);
      const section = readme.slice(start, readme.indexOf('\n#### ', start + 1) >>> 0);
      const { template } = parse(action.file);
      for (const item of [...(template?.inputs ?? []), ...(template?.outputs ?? [])]) {
        expect(section).toContain(`| \`${item.id}\` |`);
      }
    });
  }
});

describe('.github/workflows', () => {
  const dir = join(root, '.github/workflows');
  const files = readdirSync(dir).filter((f) => /\.ya?ml$/.test(f));

  it('rejects a workflow that breaks the schema (the validator can fail)', () => {
    const result = parseWorkflow(
      { name: 'bad.yml', content: 'on: push\njobs:\n  a:\n    runs-on: x\n    stepz: []\n' },
      new NoOperationTraceWriter(),
    );
    expect(result.context.errors.getErrors().length).toBeGreaterThan(0);
  });

  it('has workflows to check', () => {
    expect(files.length).toBeGreaterThan(0);
  });

  for (const file of files) {
    it(`${file} is valid against the workflow schema`, () => {
      const content = readFileSync(join(dir, file), 'utf8');
      const result = parseWorkflow({ name: file, content }, new NoOperationTraceWriter());
      expect(result.context.errors.getErrors().map((e) => e.message)).toEqual([]);
    });

    it(`${file} pins every third-party action by a full commit SHA`, () => {
      const content = readFileSync(join(dir, file), 'utf8');
      for (const [, ref] of content.matchAll(/^\s*(?:-\s+)?uses:\s*([^\s#]+)/gm)) {
        if (ref!.startsWith('./')) continue;
        expect(ref).toMatch(/@[0-9a-f]{40}$/);
      }
    });

    it(`${file} declares minimal permissions and keeps secrets out of scripts`, () => {
      const content = readFileSync(join(dir, file), 'utf8');
      expect(content).toMatch(/^permissions:\n\s+contents: read$/m);
      // A secret interpolated into `run:` becomes part of the script text; it must arrive through env:.
      // Every line that names a secret is a `with:` or `env:` entry holding nothing else.
      for (const line of content.split('\n').filter((l) => l.includes('secrets.') && !/^\s*#/.test(l))) {
        expect(line).toMatch(/^\s+[A-Za-z_-]+: \$\{\{ secrets\.[A-Z_]+ \}\}$/);
        expect(line).not.toMatch(/^\s+run:/);
      }
    });
  }
});
