/**
 * How the bundled CLI finds its settings (Peridio CLI config v2: profiles, credentials.json, flags and
 * env vars over profiles), every documented exit code, secrets never echoed, `--output prn` in a
 * pipeline, help on every level and shell completion.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFaultProxy, type FaultProxy } from '../helpers/fault-proxy.js';
import { runCli, runShell } from '../helpers/run-cli.js';
import { startScene, type Scene } from './scene.js';

const hasZsh = spawnSync('zsh', ['--version']).status === 0;
let scene: Scene;
let configDir: string;
let env: Record<string, string>;

beforeAll(async () => {
  scene = await startScene();
  env = { PERIDIO_BASE_URL: scene.registry.baseUrl, PERIDIO_API_KEY: scene.registry.apiKey };
  configDir = mkdtempSync(join(tmpdir(), 'peridio-config-'));
  writeFileSync(
    join(configDir, 'config.json'),
    JSON.stringify({
      version: 2,
      profiles: {
        local: { base_url: scene.registry.baseUrl, api_version: 2 },
        elsewhere: { base_url: 'http://127.0.0.1:9' },
      },
      signing_key_pairs: {},
    }),
  );
  writeFileSync(
    join(configDir, 'credentials.json'),
    JSON.stringify({ local: { api_key: scene.registry.apiKey } }),
  );
  const created = await runCli(['artifacts', 'create', '--name', 'config-test'], { env });
  expect(created.code, created.stderr).toBe(0);
});
afterAll(() => scene?.stop());

describe('config profiles', () => {
  it('--profile with --config-directory takes base_url from config.json and api_key from credentials.json', async () => {
    const run = await runCli([
      '--profile',
      'local',
      '--config-directory',
      configDir,
      'artifacts',
      'list',
      '--output',
      'prn',
    ]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/^prn:1:[^:]+:artifact:/);
  });

  it('PERIDIO_PROFILE and PERIDIO_CONFIG_DIRECTORY work like the flags', async () => {
    const run = await runCli(['artifacts', 'list', '--output', 'prn'], {
      env: { PERIDIO_PROFILE: 'local', PERIDIO_CONFIG_DIRECTORY: configDir },
    });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/^prn:1:[^:]+:artifact:/);
  });

  it('the default directory is $XDG_CONFIG_HOME/peridio, as Peridio’s CLI has it on Linux', async () => {
    const xdg = mkdtempSync(join(tmpdir(), 'xdg-'));
    mkdirSync(join(xdg, 'peridio'));
    for (const name of ['config.json', 'credentials.json']) {
      writeFileSync(join(xdg, 'peridio', name), readConfig(name));
    }
    const run = await runCli(['--profile', 'local', 'artifacts', 'list', '--output', 'prn'], {
      env: { XDG_CONFIG_HOME: xdg },
    });
    expect(run.code, run.stderr).toBe(0);
  });

  it('a flag wins over the profile, and PERIDIO_API_KEY wins over credentials.json', async () => {
    const byFlag = await runCli([
      ...['--profile', 'elsewhere', '--config-directory', configDir],
      ...['--base-url', scene.registry.baseUrl, '--api-key', scene.registry.apiKey],
      ...['artifacts', 'list', '--output', 'prn'],
    ]);
    expect(byFlag.code, byFlag.stderr).toBe(0);
    const byEnv = await runCli(['--profile', 'local', '--config-directory', configDir, 'artifacts', 'list'], {
      env: { PERIDIO_API_KEY: 'prk_not_the_key' },
    });
    expect(byEnv.code).toBe(1);
    expect(byEnv.stderr).toMatch(/HTTP 401/);
  });

  it('an unknown profile and a version 1 config are user errors that say what to do', async () => {
    const unknown = await runCli(['--profile', 'nope', '--config-directory', configDir, 'artifacts', 'list']);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(
      /--profile: 'nope' is not in .*config\.json \(profiles: local, elsewhere\)/,
    );
    const v1 = mkdtempSync(join(tmpdir(), 'peridio-v1-'));
    writeFileSync(join(v1, 'config.json'), JSON.stringify({ local: { base_url: 'http://x' } }));
    const old = await runCli(['--profile', 'local', '--config-directory', v1, 'artifacts', 'list']);
    expect(old.code).toBe(1);
    expect(old.stderr).toMatch(/not a version 2 config.*peridio config upgrade/);
  });
});

describe('exit codes', () => {
  it('0: done', async () => {
    expect((await runCli(['artifacts', 'list'], { env })).code).toBe(0);
  });

  it('1: user errors name the flag or field', async () => {
    const noKey = await runCli(['artifacts', 'list'], { env: { PERIDIO_BASE_URL: scene.registry.baseUrl } });
    expect([noKey.code, noKey.stderr]).toEqual([1, expect.stringMatching(/^error: --api-key: is not set/)]);
    const badHash = await runCli(
      ['binaries', 'create', '--artifact-version-prn', 'prn:1:x:artifact_version:y', '--target', 't'].concat([
        '--hash',
        'sha256:nothex',
        '--size',
        '10',
      ]),
      { env },
    );
    expect([badHash.code, badHash.stderr]).toEqual([
      1,
      expect.stringMatching(/^error: --hash: must be a SHA-256/),
    ]);
    const notFound = await runCli(
      [
        'artifacts',
        'get',
        '--prn',
        'prn:1:00000000-0000-0000-0000-000000000000:artifact:00000000-0000-0000-0000-000000000000',
      ],
      { env },
    );
    expect([notFound.code, notFound.stderr]).toEqual([1, expect.stringMatching(/HTTP 404/)]);
    const missingFile = await runCli(
      ['binaries', 'create', '--artifact-version-prn', 'prn:1:x:artifact_version:y', '--target', 't'].concat([
        '--content-path',
        '/no/such/file',
        '--signing-key-pair',
        'prod',
      ]),
      { env },
    );
    expect([missingFile.code, missingFile.stderr]).toEqual([
      1,
      expect.stringMatching(/--signing-key-pair: 'prod' is not in signing_key_pairs/),
    ]);
  });

  it('2: usage mistakes, with a pointer to --help', async () => {
    const cases: [string[], RegExp][] = [
      [[], /^peridio: publish binaries/],
      [['artifacts', 'list', '--bogus', 'x'], /unknown flag --bogus/],
      [['artifacts', 'create'], /missing required flag --name/],
      [['bundles', 'list'], /unknown resource 'bundles'/],
      [['artifacts', 'explode'], /artifacts has no verb 'explode'/],
      [['artifacts', 'list', '--output', 'yaml'], /--output must be one of json, prn, table/],
      [
        ['binaries', 'update', '--prn', 'p', '--state', 'gone'],
        /--state must be one of uploadable, hashable/,
      ],
    ];
    for (const [args, message] of cases) {
      const run = await runCli(args, { env });
      expect([args, run.code]).toEqual([args, 2]);
      expect(run.stderr).toMatch(message);
      expect(run.stdout).toBe('');
    }
  });

  it('3: the registry failing or unreachable after the retries', async () => {
    const proxy: FaultProxy = await startFaultProxy({ target: scene.registry.baseUrl });
    try {
      proxy.addRule({
        method: 'GET',
        path: /^\/artifacts/,
        times: Infinity,
        action: { kind: 'status', status: 503 },
      });
      const failing = await runCli(['artifacts', 'list'], {
        env: { ...env, PERIDIO_BASE_URL: proxy.url, PERIDIO_MAX_ATTEMPTS: '2' },
      });
      expect(failing.code).toBe(3);
      expect(failing.stderr).toMatch(/HTTP 503/);
      expect(proxy.stats.requests.filter((r) => r.path.startsWith('/artifacts'))).toHaveLength(2);
    } finally {
      await proxy.close();
    }
    const refused = await runCli(['artifacts', 'list'], {
      env: { ...env, PERIDIO_BASE_URL: 'http://127.0.0.1:9', PERIDIO_MAX_ATTEMPTS: '1' },
    });
    expect(refused.code).toBe(3);
    expect(refused.stderr).toMatch(/ECONNREFUSED|refused/i);
  });
});

it('secrets given as flags are never echoed, not even with --verbose', async () => {
  const apiKey = 'prk_secret_value_that_must_not_leak_123';
  const run = await runCli(['--verbose', '--api-key', apiKey, 'artifacts', 'list'], {
    env: { PERIDIO_BASE_URL: scene.registry.baseUrl },
  });
  expect(run.code).toBe(1);
  expect(run.stderr).toMatch(/API key \*\*\* from --api-key/);
  expect(run.stderr + run.stdout).not.toContain(apiKey);

  const pem = scene.key.privatePem;
  const withPem = await runCli(
    [
      '--verbose',
      'binaries',
      'create',
      '--artifact-version-prn',
      'prn:1:00000000-0000-0000-0000-000000000000:artifact_version:00000000-0000-0000-0000-000000000000',
    ].concat(['--target', 't', '--content-path', __filename, `--signing-key-private=${pem}`]),
    { env },
  );
  expect(withPem.code).toBe(1);
  expect(withPem.stderr).toMatch(/--artifact-version-prn: no artifact version/);
  const body = pem.split('\n')[1]!;
  expect(withPem.stderr + withPem.stdout).not.toContain(body);
  // Base64 of the PEM (what fits a masked CI variable) is masked as well.
  const b64 = Buffer.from(pem).toString('base64');
  const withB64 = await runCli(
    [
      '--verbose',
      'binaries',
      'create',
      '--artifact-version-prn',
      'prn:1:00000000-0000-0000-0000-000000000000:artifact_version:00000000-0000-0000-0000-000000000000',
    ].concat(['--target', 't', '--content-path', __filename, '--signing-key-private', b64]),
    { env },
  );
  expect(withB64.code).toBe(1);
  expect(withB64.stderr).toMatch(/--artifact-version-prn: no artifact version/);
  expect(withB64.stderr + withB64.stdout).not.toContain(b64);
  expect(withB64.stderr + withB64.stdout).not.toContain(body);
});

it('--output prn feeds a shell pipeline', async () => {
  const run = await runShell(
    `peridio artifacts list --output prn | xargs -n1 -I{} peridio artifacts get --prn {} --output table | grep -c config-test`,
    { env },
  );
  expect(run.code, run.stderr).toBe(0);
  expect(run.stdout.trim()).toBe('1');
});

it('--help on every level shows usage and examples, exit 0', async () => {
  for (const args of [
    ['--help'],
    ['binaries', '--help'],
    ['binaries', 'create', '--help'],
    ['-h', 'signing-keys', 'create'],
  ]) {
    const run = await runCli(args);
    expect([args, run.code]).toEqual([args, 0]);
    expect(run.stdout).toMatch(/Usage: peridio/);
    expect(run.stdout).toMatch(/\nExamples:\n/);
    expect(run.stdout).toMatch(/\n {2}peridio \S+/);
  }
});

it('completion bash completes resources, verbs and flags', async () => {
  const run = await runShell(
    `source <(peridio completion bash)
    complete_words() { COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _peridio; echo "\${COMPREPLY[*]}"; }
    complete_words peridio bin
    complete_words peridio binaries c
    complete_words peridio --profile prod binaries create --content-p`,
  );
  expect(run.code, run.stderr).toBe(0);
  expect(run.stdout.split('\n').slice(0, 3)).toEqual([
    'binaries binary-parts binary-signatures',
    'create',
    '--content-path',
  ]);
  expect((await runCli(['completion', 'fish'])).code).toBe(2);
});

it.skipIf(!hasZsh)(
  'completion zsh offers resources, verbs and flags (compadd does the prefix match)',
  async () => {
    // Outside a completion widget compadd and compdef do not exist; these stand-ins print what was offered.
    const run = await runShell(
      `zsh -c 'compdef() {}; compadd() { shift; echo "$*"; }
    source <(peridio completion zsh)
    words=(peridio bin); CURRENT=2; _peridio
    words=(peridio binaries c); CURRENT=3; _peridio
    words=(peridio --profile prod binaries create --content-p); CURRENT=6; _peridio'`,
    );
    expect(run.code, run.stderr).toBe(0);
    const [resources, verbs, flags] = run.stdout
      .trim()
      .split('\n')
      .map((l) => l.split(' '));
    expect(resources).toEqual(
      expect.arrayContaining(['binaries', 'binary-parts', 'signing-keys', 'completion']),
    );
    expect(verbs).toEqual(['create', 'upload', 'get', 'list', 'update', 'delete', 'destroy']);
    expect(flags).toEqual(expect.arrayContaining(['--content-path', '--signing-key-pair', '--api-key']));
  },
);

function readConfig(name: string): string {
  return readFileSync(join(configDir, name), 'utf8');
}
