/**
 * What the signing end-to-end tests share: a SoftHSM2 token with keys generated inside it by OpenSC's
 * pkcs11-tool, openssl as the independent verifier, and a download of a binary's content to disk.
 */
import { execFileSync } from 'node:child_process';
import { createPublicKey } from 'node:crypto';
import { createWriteStream, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ActionRun } from '../helpers/run-action.js';
import type { Scene } from './scene.js';

/** What the runner shows of a step: its output without the ::add-mask:: commands it consumes, and the summary. */
export function printed(run: ActionRun): string {
  return run.stdout.replace(/^::add-mask::.*$/gm, '') + run.stderr + run.summary;
}

const SOFTHSM_MODULE = [
  '/usr/lib/softhsm/libsofthsm2.so',
  '/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so',
].find((p) => existsSync(p));
export const HAVE_TOKEN_TOOLS =
  SOFTHSM_MODULE !== undefined && existsSync('/usr/bin/pkcs11-tool') && existsSync('/usr/bin/softhsm2-util');

export interface Token {
  module: string;
  label: string;
  pin: string;
  /** Environment the runner step needs: where SoftHSM2 finds its token directory. */
  env: Record<string, string>;
  /** SPKI PEM of a key on the token, read back with pkcs11-tool. */
  publicPem(keyLabel: string): string;
}

/** A fresh token in `dir`, holding the given key pairs generated inside it (CKA_ID 01, 02, …). */
export function createToken(dir: string, keys: { label: string; type: string }[]): Token {
  const tokens = join(dir, 'tokens');
  mkdirSync(tokens, { recursive: true });
  const conf = join(dir, 'softhsm2.conf');
  writeFileSync(conf, `directories.tokendir = ${tokens}\nobjectstore.backend = file\n`);
  const env = { SOFTHSM2_CONF: conf };
  const token = { module: SOFTHSM_MODULE!, label: 'ci-token', pin: '4711-secret-pin', env };
  const run = (cmd: string, args: string[], extraEnv: Record<string, string> = {}) =>
    execFileSync(cmd, args, { env: { ...process.env, ...env, ...extraEnv }, stdio: 'pipe' });
  run('softhsm2-util', [
    '--init-token',
    '--free',
    '--label',
    token.label,
    '--so-pin',
    '99887766',
    '--pin',
    token.pin,
  ]);
  keys.forEach((key, i) => {
    const id = (i + 1).toString(16).padStart(2, '0');
    run(
      'pkcs11-tool',
      // prettier-ignore
      ['--module', token.module, '--token-label', token.label, '--login', '--pin', 'env:P11PIN', '--keypairgen',
        '--key-type', key.type, '--label', key.label, '--id', id],
      { P11PIN: token.pin },
    );
  });
  return {
    ...token,
    publicPem(keyLabel) {
      const out = join(dir, `${keyLabel}.pub`);
      run('pkcs11-tool', [
        '--module',
        token.module,
        '--token-label',
        token.label,
        '--read-object',
        '--type',
        'pubkey',
        '--label',
        keyLabel,
        '-o',
        out,
      ]);
      const bytes = readFileSync(out);
      const text = bytes.toString('latin1');
      const key = text.startsWith('-----BEGIN')
        ? createPublicKey(text)
        : createPublicKey({ key: bytes, format: 'der', type: 'spki' });
      return key.export({ format: 'pem', type: 'spki' }).toString();
    },
  };
}

/** The `signing_key.value` of a public key: raw base64 for Ed25519 (Peridio's form), the PEM otherwise. */
function registryValue(publicPem: string): string {
  const key = createPublicKey(publicPem);
  return key.asymmetricKeyType === 'ed25519'
    ? key.export({ format: 'der', type: 'spki' }).subarray(12).toString('base64')
    : publicPem;
}

export async function registerKey(scene: Scene, name: string, publicPem: string): Promise<string> {
  const { status, body } = await scene.api<{ signing_key: { prn: string } }>('POST', '/signing_keys', {
    name,
    value: registryValue(publicPem),
  });
  if (status !== 201) throw new Error(`registering ${name} failed: ${status} ${JSON.stringify(body)}`);
  return body.signing_key.prn;
}

/** The binary's content as a device gets it, written to `path`. */
export async function download(scene: Scene, binaryPrn: string, path: string): Promise<void> {
  const { body } = await scene.api<{ download_url: string }>('GET', `/binaries/${binaryPrn}/download_url`);
  const response = await fetch(body.download_url);
  if (!response.ok || !response.body) throw new Error(`download failed: ${response.status}`);
  await pipeline(Readable.fromWeb(response.body as never), createWriteStream(path));
}

/**
 * openssl's verdict on a signature over downloaded content: Ed25519 over the 64 hex characters of its
 * SHA-256 (pkeyutl -rawin), RSA/ECDSA over the content itself (dgst -sha256 -verify).
 */
export function opensslVerifies(
  dir: string,
  contentPath: string,
  signatureHex: string,
  publicPem: string,
): boolean {
  const pub = join(dir, `verify-${Date.now()}.pem`);
  const sig = `${pub}.sig`;
  writeFileSync(pub, publicPem);
  writeFileSync(sig, Buffer.from(signatureHex, 'hex'));
  const ed = createPublicKey(publicPem).asymmetricKeyType === 'ed25519';
  try {
    if (ed) {
      const hash = execFileSync('openssl', ['dgst', '-sha256', '-r', contentPath]).toString().slice(0, 64);
      const msg = `${pub}.msg`;
      writeFileSync(msg, hash);
      execFileSync(
        'openssl',
        ['pkeyutl', '-verify', '-pubin', '-inkey', pub, '-rawin', '-in', msg, '-sigfile', sig],
        { stdio: 'pipe' },
      );
    } else {
      execFileSync('openssl', ['dgst', '-sha256', '-verify', pub, '-signature', sig, contentPath], {
        stdio: 'pipe',
      });
    }
    return true;
  } catch {
    return false;
  }
}
