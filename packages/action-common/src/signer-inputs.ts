/**
 * The signer of a step (sign-binary, publish-binary, create-bundle): its inputs, read into a SignerConfig
 * that core's createSigner turns into a Signer. Secrets are masked before anything parses them.
 */
import * as core from '@actions/core';
import { InputError, privateKeySigner, type SignerConfig } from '@peridio-actions/core';
import { EMPTY_SECRET_HINT } from './hints.js';
import { maskLines, maskPrivateKeyInput, readOptional, readRequired, withRealNewlines } from './inputs.js';

/** Inputs that choose a signer; a step sets those of exactly one kind. */
const SIGNER_INPUTS = {
  'private-key': ['signing-key-private'],
  pkcs11: [
    'pkcs11-module',
    'pkcs11-token-label',
    'pkcs11-slot',
    'pkcs11-key-label',
    'pkcs11-key-id',
    'pkcs11-pin',
  ],
  command: ['signing-command', 'signing-public-key'],
} as const;

/**
 * The signer of a step (sign-binary, publish-binary, create-bundle): a private key, a PKCS#11 token, or
 * an external command. Secrets (key, PIN) are masked first; two kinds or none is an error naming them.
 */
export function readSignerInputs(): SignerConfig {
  const pin = core.getInput('pkcs11-pin');
  if (pin.trim()) core.setSecret(pin.trim());
  const privateKey = maskPrivateKeyInput('signing-key-private');
  const masked = new Set<string>();
  const kinds = (Object.keys(SIGNER_INPUTS) as (keyof typeof SIGNER_INPUTS)[]).filter((kind) =>
    SIGNER_INPUTS[kind].some((name) => core.getInput(name).trim() !== ''),
  );
  if (kinds.length !== 1) {
    const set = kinds.flatMap((k) => SIGNER_INPUTS[k].filter((n) => core.getInput(n).trim() !== ''));
    throw new InputError(
      kinds.length === 0 ? 'signing-key-private' : set.join(', '),
      kinds.length === 0
        ? `is empty and no other signer is given: set signing-key-private, or pkcs11-module with pkcs11-token-label/pkcs11-slot, pkcs11-key-label/pkcs11-key-id and pkcs11-pin, or signing-command with signing-public-key. ${EMPTY_SECRET_HINT('PERIDIO_SIGNING_KEY')}`
        : `these inputs choose ${kinds.length} signers (${kinds.join(', ')}); a step signs with exactly one, so keep the inputs of one kind`,
    );
  }
  const kind = kinds[0]!;
  if (kind === 'private-key') {
    const text = withRealNewlines(privateKey);
    if (text !== privateKey) {
      core.notice(
        'signing-key-private: the PEM had literal \\n instead of line breaks; reading it with line breaks',
      );
    }
    // Parsed now so every derived form of the key is masked before anything else can print.
    for (const form of privateKeySigner(text, 'signing-key-private').secretForms()) maskLines(form, masked);
    return { kind, privateKey: text, input: 'signing-key-private' };
  }
  if (kind === 'command') {
    return { kind, command: readRequired('signing-command'), publicKey: readMultiline('signing-public-key') };
  }
  const tokenLabel = readOptional('pkcs11-token-label');
  const slot = readOptional('pkcs11-slot');
  const keyLabel = readOptional('pkcs11-key-label');
  const keyId = readOptional('pkcs11-key-id');
  if ((tokenLabel === undefined) === (slot === undefined)) {
    throw new InputError('pkcs11-token-label', 'give exactly one of pkcs11-token-label and pkcs11-slot');
  }
  if ((keyLabel === undefined) === (keyId === undefined)) {
    throw new InputError('pkcs11-key-label', 'give exactly one of pkcs11-key-label and pkcs11-key-id');
  }
  if (keyId !== undefined && !/^(?:[0-9a-fA-F]{2})+$/.test(keyId)) {
    throw new InputError('pkcs11-key-id', `must be the key's CKA_ID in hex (e.g. 01), got '${keyId}'`);
  }
  if (slot !== undefined && !/^\d+$|^0x[0-9a-fA-F]+$/.test(slot)) {
    throw new InputError('pkcs11-slot', `must be a slot number, got '${slot}'`);
  }
  if (!pin.trim())
    throw new InputError('pkcs11-pin', 'is required with pkcs11-module; pass it from a secret');
  return {
    kind,
    module: readRequired('pkcs11-module'),
    tokenLabel,
    slot,
    keyLabel,
    keyId,
    pin: pin.trim(),
  };
}

function readMultiline(name: string): string {
  const value = core.getInput(name, { trimWhitespace: false });
  if (!value.trim()) throw new InputError(name, 'is required');
  return value;
}

/**
 * Reads the signer at once, so its secrets are masked before any other input can fail and print
 * something, and returns a reader for readAllInputs that reports its mistake in action.yml order.
 */
export function signerReader(): () => SignerConfig {
  try {
    const signer = readSignerInputs();
    return () => signer;
  } catch (err) {
    return () => {
      throw err;
    };
  }
}
