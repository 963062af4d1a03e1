/**
 * Signing with a key inside a PKCS#11 token through OpenSC's `pkcs11-tool`, run as a child process.
 * Why a child process and not a native binding: an action's bundled dist runs unchanged on every runner
 * (Linux x64/arm64, macOS, Windows), which a compiled addon does not; pkcs11-tool ships with OpenSC on all
 * of them (apt, brew, the Windows installer). The private key never leaves the token; the PIN reaches the
 * tool through its environment (`--pin env:VAR`), never its command line, so `ps` does not show it.
 */
import { spawn } from 'node:child_process';
import { createPublicKey } from 'node:crypto';
import { existsSync, statSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InputError } from '../errors.js';
import { ALGORITHM_NAMES, fromKeyObject, type SigningPublicKey } from './keys.js';
import { messageFor, type Signer } from './signer.js';
import { SHA256_DIGEST_INFO } from './verify.js';

export interface Pkcs11Config {
  module: string;
  tokenLabel?: string;
  slot?: string;
  keyLabel?: string;
  /** Hex CKA_ID. */
  keyId?: string;
  pin: string;
  /** Path of pkcs11-tool; else PATH and OpenSC's default install folders. */
  tool?: string;
}

interface ToolResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

const PIN_ENV = 'PERIDIO_PKCS11_PIN';
const TOOL_TIMEOUT_MS = 120_000;

export async function pkcs11Signer(config: Pkcs11Config): Promise<Signer> {
  if (!existsSync(config.module) || !statSync(config.module).isFile()) {
    throw new InputError(
      'pkcs11-module',
      `no file at ${config.module}; give the path of the token's PKCS#11 library (e.g. /usr/lib/softhsm/libsofthsm2.so)`,
    );
  }
  const tool = config.tool ?? findTool();
  const base = ['--module', config.module, ...tokenArgs(config)];
  const listed = await run(tool, [...base, '--list-objects', '--type', 'pubkey'], config);
  const objects = parseObjects(listed.stdout);
  const keyInput = config.keyId !== undefined ? 'pkcs11-key-id' : 'pkcs11-key-label';
  const match = objects.find((o) =>
    config.keyId !== undefined ? o.id === config.keyId.toLowerCase() : o.label === config.keyLabel,
  );
  if (!match) {
    const names = objects.map((o) => `'${o.label ?? '(no label)'}'${o.id ? ` (id ${o.id})` : ''}`).join(', ');
    throw new InputError(
      keyInput,
      `no public key ${config.keyId ?? `'${config.keyLabel}'`} on the token; it holds ${names || 'no public keys'}`,
    );
  }
  if (!match.id) {
    // pkcs11-tool --sign selects the private key by CKA_ID only: with --label it takes the first key.
    throw new InputError(
      keyInput,
      `key '${match.label}' has no CKA_ID, which pkcs11-tool needs to select it for signing; create it with --id`,
    );
  }
  const publicKey = await readPublicKey(tool, base, match.id, config, keyInput);
  const what = `PKCS#11 ${ALGORITHM_NAMES[publicKey.algorithm]} key ${match.label ? `'${match.label}'` : `id ${match.id}`}`;
  return {
    publicKey,
    input: keyInput,
    description: `${what} on ${config.tokenLabel ? `token '${config.tokenLabel}'` : `slot ${config.slot}`}`,
    secretForms: () => [config.pin],
    signHash: (hashHex) => signOnToken(tool, base, match.id!, publicKey, hashHex, config),
  };
}

function tokenArgs(config: Pkcs11Config): string[] {
  if (config.tokenLabel !== undefined) return ['--token-label', config.tokenLabel];
  if (config.slot !== undefined) return ['--slot', config.slot];
  return [];
}

function findTool(): string {
  const candidates =
    process.platform === 'win32'
      ? ['C:\\Program Files\\OpenSC Project\\OpenSC\\tools\\pkcs11-tool.exe']
      : ['/usr/bin/pkcs11-tool', '/usr/local/bin/pkcs11-tool', '/opt/homebrew/bin/pkcs11-tool'];
  return candidates.find((c) => existsSync(c)) ?? 'pkcs11-tool';
}

async function readPublicKey(
  tool: string,
  base: string[],
  id: string,
  config: Pkcs11Config,
  keyInput: string,
): Promise<SigningPublicKey> {
  const dir = await mkdtemp(join(tmpdir(), 'peridio-p11-'));
  try {
    const out = join(dir, 'pub');
    await run(tool, [...base, '--read-object', '--type', 'pubkey', '--id', id, '-o', out], config);
    const bytes = await readFile(out);
    // pkcs11-tool writes RSA and EC keys as DER SPKI and EdDSA keys as PEM.
    const text = bytes.toString('latin1');
    const key = text.startsWith('-----BEGIN')
      ? createPublicKey({ key: text, format: 'pem' })
      : createPublicKey({ key: bytes, format: 'der', type: 'spki' });
    return fromKeyObject(key, keyInput);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function signOnToken(
  tool: string,
  base: string[],
  id: string,
  publicKey: SigningPublicKey,
  hashHex: string,
  config: Pkcs11Config,
): Promise<string> {
  const message = messageFor(publicKey.algorithm, hashHex);
  const mechanism = {
    ed25519: ['EDDSA'],
    rsa: ['RSA-PKCS'],
    'ecdsa-p256': ['ECDSA', '--signature-format', 'openssl'],
  }[publicKey.algorithm];
  // RSA-PKCS signs DigestInfo‖H as given: the same bytes as `openssl dgst -sha256 -sign`.
  const input = publicKey.algorithm === 'rsa' ? Buffer.concat([SHA256_DIGEST_INFO, message]) : message;
  const dir = await mkdtemp(join(tmpdir(), 'peridio-p11-'));
  try {
    const inFile = join(dir, 'in');
    const outFile = join(dir, 'sig');
    await writeFile(inFile, input);
    await run(
      tool,
      [
        ...base,
        '--login',
        '--pin',
        `env:${PIN_ENV}`,
        '--sign',
        '--id',
        id,
        '--mechanism',
        ...mechanism,
        '-i',
        inFile,
        '-o',
        outFile,
      ],
      config,
    );
    return (await readFile(outFile)).toString('hex').toUpperCase();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function run(tool: string, args: string[], config: Pkcs11Config): Promise<ToolResult> {
  const result = await new Promise<ToolResult>((resolve, reject) => {
    const child = spawn(tool, args, {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, [PIN_ENV]: config.pin },
      // A token that stops answering (unplugged, waiting for a touch) must not hang the job.
      timeout: TOOL_TIMEOUT_MS,
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('error', (err: NodeJS.ErrnoException) =>
      reject(
        new InputError(
          'pkcs11-module',
          err.code === 'ENOENT'
            ? `needs OpenSC's pkcs11-tool, which is not installed (apt-get install opensc, brew install opensc, or the OpenSC installer on Windows)`
            : `pkcs11-tool could not be started (${err.code ?? err.message})`,
        ),
      ),
    );
    child.on('close', (code, signal) =>
      resolve({
        code,
        stdout,
        stderr: signal
          ? `${stderr}\nerror: pkcs11-tool was stopped by ${signal} (no answer within ${TOOL_TIMEOUT_MS / 1000} s)`
          : stderr,
      }),
    );
  });
  if (result.code !== 0) throw toolError(result, config);
  return result;
}

/** pkcs11-tool's messages mapped to the input that is wrong; its text never carries the PIN (it is in env). */
function toolError(result: ToolResult, config: Pkcs11Config): InputError {
  const text = `${result.stderr}\n${result.stdout}`.split(config.pin).join('***');
  const line =
    text
      .split('\n')
      .find((l) => /error|failed|not found|No slot/i.test(l))
      ?.trim() ?? `exit code ${result.code}`;
  if (/CKR_PIN_INCORRECT/.test(text))
    return new InputError(
      'pkcs11-pin',
      'the token refused the PIN (CKR_PIN_INCORRECT); a few more wrong tries lock it',
    );
  if (/CKR_PIN_LOCKED/.test(text))
    return new InputError(
      'pkcs11-pin',
      'the token is locked after too many wrong PINs (CKR_PIN_LOCKED); unlock it with the SO PIN',
    );
  if (/CKR_PIN_LEN_RANGE|CKR_PIN_INVALID/.test(text))
    return new InputError('pkcs11-pin', `is not a valid PIN for this token (${line})`);
  if (/Failed to load pkcs11 module|sc_dlopen|C_GetFunctionList/.test(text)) {
    return new InputError(
      'pkcs11-module',
      `${config.module} is not a PKCS#11 library pkcs11-tool can load (${line})`,
    );
  }
  if (/No slot with token|token not present|No slot with/i.test(text)) {
    return config.tokenLabel !== undefined
      ? new InputError(
          'pkcs11-token-label',
          `no token labelled '${config.tokenLabel}' is present (${line}); pkcs11-tool --module ${config.module} -L lists them`,
        )
      : new InputError(
          'pkcs11-slot',
          `no token in slot ${config.slot} (${line}); pkcs11-tool --module ${config.module} -L lists them`,
        );
  }
  if (/object not found/.test(text))
    return new InputError(
      config.keyId !== undefined ? 'pkcs11-key-id' : 'pkcs11-key-label',
      `the key is not on the token (${line})`,
    );
  return new InputError('pkcs11-module', `pkcs11-tool failed: ${line}`);
}

interface TokenObject {
  label?: string;
  id?: string;
}

/** Blocks of `pkcs11-tool --list-objects` output: "Public Key Object; …" followed by indented fields. */
function parseObjects(listing: string): TokenObject[] {
  const objects: TokenObject[] = [];
  for (const line of listing.split(/\r?\n/)) {
    if (/^\S.*Object;/.test(line)) objects.push({});
    const current = objects.at(-1);
    if (!current) continue;
    const label = /^\s+label:\s+(.*)$/.exec(line);
    if (label) current.label = label[1]!.trim();
    const id = /^\s+ID:\s+([0-9a-fA-F]+)\s*$/.exec(line);
    if (id) current.id = id[1]!.toLowerCase();
  }
  return objects;
}
