/**
 * The code reads exactly the inputs its action.yml declares, by the same kebab-case names: each action's
 * input layer runs against an environment that records which INPUT_* variables it looks up.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { readInputs as readCreate } from '../../packages/create-artifact-version/src/inputs.js';
import { readInputs as readPublish } from '../../packages/publish-binary/src/inputs.js';
import { readInputs as readSign } from '../../packages/sign-binary/src/inputs.js';
import { readInputs as readUpload } from '../../packages/upload-binary/src/inputs.js';
import { actionYmlPath, inputEnvName, type ActionName } from '../helpers/run-action.js';

const ORG = '11111111-1111-4111-8111-111111111111';
const ID = '22222222-2222-4222-8222-222222222222';
const VALID: Record<string, string> = {
  'api-key': 'prk_test',
  artifact: 'firmware',
  version: '1.2.3',
  target: 'aarch64-linux-gnu',
  file: 'firmware.img',
  'artifact-version-prn': `prn:1:${ORG}:artifact_version:${ID}`,
  'binary-prn': `prn:1:${ORG}:binary:${ID}`,
  'signing-key-prn': `prn:1:${ORG}:signing_key:${ID}`,
  'signing-key-private': '9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60',
  description: 'a build',
  'custom-metadata': '{"board":"rev-b"}',
};

// The file is checked while the inputs are read, so it must exist.
const workspace = mkdtempSync(join(tmpdir(), 'inputs-test-'));
writeFileSync(join(workspace, 'firmware.img'), 'firmware');

const READERS: Record<ActionName, () => unknown> = {
  'create-artifact-version': readCreate,
  'upload-binary': readUpload,
  'sign-binary': readSign,
  'publish-binary': readPublish,
};

const originalEnv = process.env;
const originalWrite = process.stdout.write;
afterEach(() => {
  process.env = originalEnv;
  process.stdout.write = originalWrite;
});

function declaredInputs(name: ActionName): Record<string, { default?: string }> {
  return (
    parse(readFileSync(actionYmlPath(name), 'utf8')) as { inputs: Record<string, { default?: string }> }
  ).inputs;
}

describe.each(Object.keys(READERS) as ActionName[])('%s', (name) => {
  it('reads every declared input and no other', () => {
    const declared = declaredInputs(name);
    const env: Record<string, string> = { ...originalEnv, GITHUB_WORKSPACE: workspace };
    for (const [input, spec] of Object.entries(declared))
      env[inputEnvName(input)] = VALID[input] ?? spec.default ?? '';
    const looked = new Set<string>();
    process.env = new Proxy(env, {
      get(target, key) {
        if (typeof key === 'string' && key.startsWith('INPUT_')) looked.add(key);
        return target[key as string];
      },
    });
    // ::add-mask:: lines would only clutter the test output.
    process.stdout.write = () => true;
    READERS[name]();
    process.stdout.write = originalWrite;
    expect([...looked].sort()).toEqual(Object.keys(declared).map(inputEnvName).sort());
  });
});
