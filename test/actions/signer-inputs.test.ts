/**
 * readSignerInputs: exactly one signer kind, the choices inside the PKCS#11 kind, and masking of the PIN
 * before any error can print.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { readSignerInputs } from '../../packages/action-common/src/signer-inputs.js';
import { inputEnvName } from '../helpers/run-action.js';

const originalEnv = process.env;
const originalWrite = process.stdout.write;
let written = '';
afterEach(() => {
  process.env = originalEnv;
  process.stdout.write = originalWrite;
});

function read(inputs: Record<string, string>) {
  process.env = { ...originalEnv };
  for (const [name, value] of Object.entries(inputs)) process.env[inputEnvName(name)] = value;
  written = '';
  process.stdout.write = (chunk: string) => ((written += chunk), true);
  try {
    return readSignerInputs();
  } finally {
    process.stdout.write = originalWrite;
  }
}

const P11 = {
  'pkcs11-module': '/usr/lib/softhsm/libsofthsm2.so',
  'pkcs11-token-label': 'ci',
  'pkcs11-key-label': 'release',
  'pkcs11-pin': '123456',
};

describe('readSignerInputs', () => {
  it('reads a PKCS#11 signer and masks the PIN', () => {
    expect(read(P11)).toMatchObject({ kind: 'pkcs11', tokenLabel: 'ci', keyLabel: 'release', pin: '123456' });
    expect(written).toContain('::add-mask::123456');
  });

  it('reads a command signer', () => {
    expect(read({ 'signing-command': './sign', 'signing-public-key': 'KEY' })).toMatchObject({
      kind: 'command',
      command: './sign',
    });
  });

  it('refuses token label and slot together, neither key label nor id, a bad id, and a missing PIN', () => {
    expect(() => read({ ...P11, 'pkcs11-slot': '0' })).toThrow(
      /Input 'pkcs11-token-label': give exactly one/,
    );
    expect(() => read({ ...P11, 'pkcs11-key-label': '' })).toThrow(
      /Input 'pkcs11-key-label': give exactly one/,
    );
    expect(() => read({ ...P11, 'pkcs11-key-label': '', 'pkcs11-key-id': 'xyz' })).toThrow(
      /Input 'pkcs11-key-id': must be the key's CKA_ID in hex/,
    );
    expect(() => read({ ...P11, 'pkcs11-pin': '' })).toThrow(/Input 'pkcs11-pin': is required/);
  });

  it('refuses a command without its public key, and two kinds at once naming every input set', () => {
    expect(() => read({ 'signing-command': './sign' })).toThrow(/Input 'signing-public-key': is required/);
    expect(() => read({ ...P11, 'signing-command': './sign' })).toThrow(
      /Input 'pkcs11-module, pkcs11-token-label, pkcs11-key-label, pkcs11-pin, signing-command': .*exactly one/,
    );
    // The PIN was masked before the error.
    expect(written).toContain('::add-mask::123456');
  });
});
