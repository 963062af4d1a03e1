/** `--help` with examples on every release verb, and shell completion of the release commands. */
import { expect, it } from 'vitest';
import { runCli, runShell } from '../helpers/run-cli.js';

const VERBS: [string, string[]][] = [
  ['products', ['create', 'get', 'list', 'update']],
  ['cohorts', ['create', 'get', 'list', 'update']],
  ['devices', ['create', 'get', 'list', 'update', 'get-update']],
  ['bundles', ['create', 'get', 'list', 'update', 'delete']],
  ['releases', ['create', 'get', 'list', 'update', 'delete', 'promote']],
  [
    'bundle-overrides',
    ['create', 'get', 'list', 'update', 'delete', 'devices add', 'devices list', 'devices remove'],
  ],
];

it('--help on every release resource and verb shows usage and an example of that verb, exit 0', async () => {
  const main = await runCli(['--help']);
  for (const [resource] of VERBS) expect(main.stdout).toContain(resource);
  for (const [resource, verbs] of VERBS) {
    for (const verb of verbs) {
      const run = await runCli([resource, ...verb.split(' '), '--help']);
      expect([resource, verb, run.code]).toEqual([resource, verb, 0]);
      expect(run.stdout).toMatch(/Usage: peridio/);
      expect(run.stdout).toContain(`peridio ${resource} ${verb} --`);
    }
  }
  const getUpdate = await runCli(['devices', 'get-update', '--help']);
  for (const flag of ['--prn', '--release-prn', '--bundle-prn', '--release-version', '--write']) {
    expect(getUpdate.stdout).toContain(flag);
  }
});

it('a missing required flag is a usage error (exit 2); get-update without the current state exits 1 naming --release-prn', async () => {
  const missing = await runCli(['releases', 'create', '--name', 'v1'], {
    env: { PERIDIO_API_KEY: 'k', PERIDIO_BASE_URL: 'http://127.0.0.1:9' },
  });
  expect(missing.code).toBe(2);
  expect(missing.stderr).toMatch(/--bundle-prn/);
  const noState = await runCli(['devices', 'get-update', '--prn', 'prn:1:o:device:d'], {
    env: { PERIDIO_API_KEY: 'k', PERIDIO_BASE_URL: 'http://127.0.0.1:9' },
  });
  expect(noState.code).toBe(1);
  expect(noState.stderr).toMatch(/--release-prn: give what the device runs now/);
});

it('completion bash completes the release resources, verbs (nested ones too) and flags', async () => {
  const run = await runShell(
    `source <(peridio completion bash)
    complete_words() { COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _peridio; echo "\${COMPREPLY[*]}"; }
    complete_words peridio re
    complete_words peridio releases p
    complete_words peridio devices get-
    complete_words peridio devices get-update --release-
    complete_words peridio bundles create --bin
    complete_words peridio bundle-overrides d
    complete_words peridio bundle-overrides devices r
    complete_words peridio bundle-overrides devices add --dev
    complete_words peridio releases create --next`,
  );
  expect(run.code, run.stderr).toBe(0);
  expect(run.stdout.split('\n').slice(0, 9)).toEqual([
    'releases',
    'promote',
    'get-update',
    '--release-prn --release-version',
    '--binary-prns',
    'delete devices',
    'remove',
    '--device-prn',
    '--next-release-prn',
  ]);
});
