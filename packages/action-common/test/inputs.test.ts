/**
 * The runner glue's readers, one input at a time: INPUT_* variables in, typed values or an InputError naming
 * the input out; secrets masked (`::add-mask::` on stdout) before anything else is written.
 */
import { generateKeyPairSync } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  readApiInputs,
  readByteSize,
  readDuration,
  readInteger,
  readJsonObject,
  readPrivateKey,
  readUploadTuning,
} from '../src/inputs.js';
import { retryOverride } from '../src/connect.js';

const saved = { ...process.env };
const originalWrite = process.stdout.write;
let stdout: string[];

beforeEach(() => {
  stdout = [];
  process.stdout.write = (chunk: string | Uint8Array) => {
    stdout.push(String(chunk));
    return true;
  };
});
afterEach(() => {
  process.stdout.write = originalWrite;
  for (const key of Object.keys(process.env)) if (key.startsWith('INPUT_')) delete process.env[key];
  Object.assign(process.env, saved);
});

function inputs(values: Record<string, string>): void {
  for (const [name, value] of Object.entries(values))
    process.env[`INPUT_${name.replace(/ /g, '_').toUpperCase()}`] = value;
}

const masks = () =>
  stdout.filter((line) => line.startsWith('::add-mask::')).map((line) => line.slice(12).trim());

describe('readApiInputs', () => {
  it('masks the key, trims the base URL and reads request-timeout in seconds or with a unit', () => {
    inputs({ 'api-key': 'prk_secret', 'base-url': 'http://localhost:4000/', 'request-timeout': '90s' });
    expect(readApiInputs()).toEqual({
      apiKey: 'prk_secret',
      baseUrl: 'http://localhost:4000',
      requestTimeoutMs: 90_000,
    });
    expect(masks()).toEqual(['prk_secret']);
    inputs({ 'request-timeout': '' });
    expect(readApiInputs().requestTimeoutMs).toBeUndefined();
  });

  it.each([
    [
      { 'api-key': '' },
      "Input 'api-key': is empty. Pass it from a secret, e.g. ${{ secrets.PERIDIO_API_KEY }}",
    ],
    [{ 'api-key': 'a b' }, "Input 'api-key': contains whitespace; check the secret"],
    [{ 'api-key': 'k', 'base-url': 'ftp://x' }, "Input 'base-url': must be an http(s) URL, got ftp:"],
    [{ 'api-key': 'k', 'base-url': 'http://u:p@x' }, "Input 'base-url': must not contain credentials"],
    [
      { 'api-key': 'k', 'request-timeout': '0' },
      "Input 'request-timeout': must be from 1 s to 3600 s, got 0 s",
    ],
    [{ 'api-key': 'k', 'request-timeout': 'soon' }, "Input 'request-timeout': must be seconds"],
  ])('refuses %o naming the input', (values, message) => {
    inputs(values);
    expect(() => readApiInputs()).toThrow(message);
  });
});

describe('number, size and duration readers', () => {
  it('reads integers in range, byte sizes with units, durations with units', () => {
    inputs({ n: '4', size: '16 MiB', plain: '5242880', d: '15m', s: '600', frac: '1.5s' });
    expect(readInteger('n', { min: 1, max: 16 })).toBe(4);
    expect(readByteSize('size')).toBe(16 * 1024 * 1024);
    expect(readByteSize('plain')).toBe(5_242_880);
    expect(readDuration('d', { minMs: 1000, maxMs: 3_600_000 })).toBe(900_000);
    expect(readDuration('s', { minMs: 1000, maxMs: 3_600_000 })).toBe(600_000);
    expect(readDuration('frac', { minMs: 1000, maxMs: 3_600_000 })).toBe(1500);
    expect(readInteger('absent', { min: 1, max: 2 })).toBeUndefined();
  });

  it('names the input and what was wrong', () => {
    inputs({ n: '17', m: '-1', size: '16 parsecs', half: '0.5b', d: '2h' });
    expect(() => readInteger('n', { min: 1, max: 16 })).toThrow("Input 'n': must be from 1 to 16, got 17");
    expect(() => readInteger('m', { min: 1, max: 16 })).toThrow(
      "Input 'm': must be a whole number, got '-1'",
    );
    expect(() => readByteSize('size')).toThrow("Input 'size': must be a number of bytes");
    expect(() => readByteSize('half')).toThrow("Input 'half': must come to a whole number of bytes, got 0.5");
    expect(() => readDuration('d', { minMs: 1000, maxMs: 3_600_000 })).toThrow(
      "Input 'd': must be from 1 s to 3600 s, got 7200 s",
    );
  });

  it('readUploadTuning reads stall-timeout and checks part-size against the storage limits', () => {
    inputs({ 'part-size': '8MiB', concurrency: '2', 'hashing-timeout': '10m', 'stall-timeout': '2m' });
    expect(readUploadTuning()).toEqual({
      partSize: 8 * 1024 * 1024,
      concurrency: 2,
      hashingTimeoutMs: 600_000,
      stallTimeoutMs: 120_000,
    });
    inputs({ 'part-size': '1MiB' });
    expect(() => readUploadTuning()).toThrow(
      "Input 'part-size': must be from 5 MiB (5242880 bytes) to 5 GiB (5368709120 bytes), got 1048576 bytes",
    );
  });
});

describe('readJsonObject', () => {
  it('accepts an object and refuses anything else by name', () => {
    inputs({ meta: '{"board":"rev-b"}', list: '[1]', bad: '{nope' });
    expect(readJsonObject('meta')).toEqual({ board: 'rev-b' });
    expect(() => readJsonObject('list')).toThrow("Input 'list': must be a JSON object like");
    expect(() => readJsonObject('bad')).toThrow("Input 'bad': is not valid JSON");
  });
});

describe('readPrivateKey', () => {
  const { privateKey } = generateKeyPairSync('ed25519');
  const pem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  const der = privateKey.export({ type: 'pkcs8', format: 'der' });
  const seed = der.subarray(der.length - 32);

  it.each([
    ['PEM', pem],
    ['base64 of the PEM', Buffer.from(pem).toString('base64')],
    ['seed hex', seed.toString('hex')],
    ['seed base64', seed.toString('base64')],
  ])('from %s, masks every derived form before writing anything else', (_form, value) => {
    inputs({ 'signing-key-private': value });
    const key = readPrivateKey();
    const masked = masks();
    // Nothing but masks was written while reading the key.
    expect(stdout.every((line) => line.startsWith('::add-mask::'))).toBe(true);
    const derLine = der.toString('base64');
    for (const form of [
      seed.toString('hex'),
      seed.toString('hex').toUpperCase(),
      seed.toString('base64'),
      derLine,
      Buffer.from(pem).toString('base64'),
    ])
      expect(masked, form.slice(0, 6)).toContain(form);
    // The armour lines are public and never masked (masking them would hide every PEM in the log).
    expect(masked.some((m) => m.startsWith('-----'))).toBe(false);
    expect(key.secretForms()).toContain(seed.toString('hex'));
  });

  it('refuses an RSA key by name, without echoing it', () => {
    const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 })
      .privateKey.export({ type: 'pkcs8', format: 'pem' })
      .toString();
    inputs({ 'signing-key-private': rsa });
    let message = '';
    try {
      readPrivateKey();
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toMatch(/^Input 'signing-key-private': /);
    expect(message).not.toContain(rsa.split('\n')[1]!.slice(0, 20));
  });
});

describe('retryOverride (test hook)', () => {
  it('caps the back-off when PERIDIO_ACTIONS_RETRY_MAX_DELAY_MS is set, and is absent otherwise', () => {
    expect(retryOverride({})).toBeUndefined();
    expect(retryOverride({ PERIDIO_ACTIONS_RETRY_MAX_DELAY_MS: '200' })).toEqual({
      maxDelayMs: 200,
      baseDelayMs: 200,
    });
    expect(() => retryOverride({ PERIDIO_ACTIONS_RETRY_MAX_DELAY_MS: 'fast' })).toThrow(
      "PERIDIO_ACTIONS_RETRY_MAX_DELAY_MS must be a whole number of ms, got 'fast'",
    );
  });
});
