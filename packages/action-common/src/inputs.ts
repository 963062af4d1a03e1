/**
 * Reading action inputs into typed values. Every error is an InputError naming the kebab-case input as
 * written in action.yml, so a failed run says exactly which line of the workflow to fix. Secrets are
 * masked before anything else looks at them.
 */
import { resolve } from 'node:path';
import * as core from '@actions/core';
import {
  checkApiKey,
  checkCustomMetadataSize,
  DEFAULT_BASE_URL,
  InputError,
  MAX_PART_SIZE,
  MAX_UPLOAD_CONCURRENCY,
  MIN_PART_SIZE,
  parseBaseUrl,
  parsePrivateKey,
  checkFile,
  readAllInputs,
  requirePrn,
  validateTarget,
  normalizeVersion,
  tagFromRef,
  type CustomMetadata,
  type Ed25519KeyPair,
  type PrnType,
} from '@peridio-actions/core';
import { EMPTY_SECRET_HINT } from './hints.js';

export { DEFAULT_BASE_URL };

export function readRequired(name: string): string {
  const value = core.getInput(name).trim();
  if (!value) throw new InputError(name, 'is required');
  return value;
}

/** Undefined when empty: action.yml declares `''` as the default of optional inputs. */
export function readOptional(name: string): string | undefined {
  const value = core.getInput(name).trim();
  return value === '' ? undefined : value;
}

export interface ApiInputs {
  apiKey: string;
  baseUrl: string;
  /** `request-timeout`: how long one API call may go without an answer before it is retried. */
  requestTimeoutMs?: number;
}

export function readApiInputs(): ApiInputs {
  return readAllInputs<ApiInputs>({
    apiKey: readApiKey,
    baseUrl: readBaseUrl,
    requestTimeoutMs: readRequestTimeout,
  });
}

export function readApiKey(): string {
  const apiKey = core.getInput('api-key').trim();
  // Masked before it is checked, so not even an error about it can print it.
  if (apiKey) core.setSecret(apiKey);
  if (!apiKey) throw new InputError('api-key', `is empty. ${EMPTY_SECRET_HINT('PERIDIO_API_KEY')}`);
  return checkApiKey(apiKey);
}

export const readRequestTimeout = () => readDuration('request-timeout', { minMs: 1_000, maxMs: 3_600_000 });

export function readBaseUrl(): string {
  return parseBaseUrl(readOptional('base-url') ?? DEFAULT_BASE_URL).href.replace(/\/+$/, '');
}

export function readPrn(name: string, type: PrnType, options: { required: true }): string;
export function readPrn(name: string, type: PrnType, options?: { required?: boolean }): string | undefined;
export function readPrn(
  name: string,
  type: PrnType,
  options: { required?: boolean } = {},
): string | undefined {
  const value = options.required ? readRequired(name) : readOptional(name);
  return value === undefined ? undefined : requirePrn(value, type, name);
}

export function readInteger(name: string, range: { min: number; max: number }): number | undefined {
  const value = readOptional(name);
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value)) throw new InputError(name, `must be a whole number, got '${value}'`);
  const n = Number(value);
  if (n < range.min || n > range.max)
    throw new InputError(name, `must be from ${range.min} to ${range.max}, got ${n}`);
  return n;
}

const BYTE_UNITS: Record<string, number> = {
  '': 1,
  b: 1,
  kib: 1024,
  mib: 1024 ** 2,
  gib: 1024 ** 3,
};

/** Decimal units are refused, not guessed: `16MB` meaning 16,000,000 bytes surprised users who meant MiB. */
const DECIMAL_UNITS: Record<string, string> = { kb: 'KiB', mb: 'MiB', gb: 'GiB' };

/** Bytes: `16777216`, `16MiB`, `16 MiB`. Range checks are the caller's (planParts knows the limits). */
export function readByteSize(name: string): number | undefined {
  const value = readOptional(name);
  if (value === undefined) return undefined;
  const match = /^(\d+(?:\.\d+)?)\s*([a-zA-Z]*)$/.exec(value);
  const unit = match?.[2]!.toLowerCase() ?? '';
  const binary = DECIMAL_UNITS[unit];
  if (match && binary !== undefined) {
    throw new InputError(
      name,
      `'${value}' uses a decimal unit; sizes here are binary: write ${match[1]}${binary} ` +
        `(${Number(match[1]) * BYTE_UNITS[binary.toLowerCase()]!} bytes) or a plain number of bytes`,
    );
  }
  const factor = match ? BYTE_UNITS[unit] : undefined;
  if (!match || factor === undefined) {
    throw new InputError(name, `must be a number of bytes, optionally with KiB, MiB or GiB; got '${value}'`);
  }
  const bytes = Number(match[1]) * factor;
  if (!Number.isInteger(bytes))
    throw new InputError(name, `must come to a whole number of bytes, got ${bytes}`);
  return bytes;
}

const DURATION_UNITS: Record<string, number> = { '': 1000, s: 1000, m: 60_000, min: 60_000, h: 3_600_000 };

/** Milliseconds from seconds (`600`) or a number with a unit (`90s`, `15m`, `1h`). */
export function readDuration(name: string, range: { minMs: number; maxMs: number }): number | undefined {
  const value = readOptional(name);
  if (value === undefined) return undefined;
  const match = /^(\d+(?:\.\d+)?)\s*([a-z]*)$/.exec(value.toLowerCase());
  const factor = match ? DURATION_UNITS[match[2]!] : undefined;
  if (!match || factor === undefined) {
    throw new InputError(
      name,
      `must be seconds, or a number with s, m or h (e.g. 600, 90s, 15m); got '${value}'`,
    );
  }
  const ms = Math.round(Number(match[1]) * factor);
  if (ms < range.minMs || ms > range.maxMs) {
    throw new InputError(
      name,
      `must be from ${range.minMs / 1000} s to ${range.maxMs / 1000} s, got ${ms / 1000} s`,
    );
  }
  return ms;
}

export function readDescription(name = 'description'): string | undefined {
  const value = readOptional(name);
  if (value !== undefined && value.length > 256) {
    throw new InputError(name, `must be at most 256 characters, got ${value.length}`);
  }
  return value;
}

export function readJsonObject(name: string): CustomMetadata | undefined {
  const value = readOptional(name);
  if (value === undefined) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch (err) {
    throw new InputError(name, `is not valid JSON (${(err as Error).message})`);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new InputError(
      name,
      `must be a JSON object like {"board": "rev-b"}, got ${Array.isArray(parsed) ? 'an array' : typeof parsed}`,
    );
  }
  checkCustomMetadataSize(parsed as CustomMetadata, name);
  return parsed as CustomMetadata;
}

/**
 * The private key, masked in every form before it is parsed: the input as given, each line of a PEM
 * (the runner masks single lines), and every encoding the parser derives (seed in hex and base64, ...).
 */
export function readPrivateKey(name = 'signing-key-private'): Ed25519KeyPair {
  const raw = maskPrivateKeyInput(name);
  if (!raw.trim()) {
    throw new InputError(
      name,
      `is empty; expected an Ed25519 private key (PKCS#8 PEM). ${EMPTY_SECRET_HINT('PERIDIO_SIGNING_KEY')}`,
    );
  }
  const text = withRealNewlines(raw);
  if (text !== raw) {
    core.notice(`${name}: the PEM had literal \\n instead of line breaks; reading it with line breaks`);
  }
  const key = parsePrivateKey(text, name);
  const masked = new Set<string>();
  for (const form of key.secretForms()) maskLines(form, masked);
  return key;
}

/**
 * Masks the private key input as given (each line, and each `\n`-separated piece of a PEM pasted on one
 * line) and returns it. Called first by the actions that take a key, so no other input's error can print
 * anything before it is masked.
 */
export function maskPrivateKeyInput(name = 'signing-key-private'): string {
  const raw = core.getInput(name);
  const masked = new Set<string>();
  maskLines(raw, masked);
  maskLines(withRealNewlines(raw), masked);
  return raw;
}

/** A PEM pasted into a secret store that turned its line breaks into the two characters `\` `n`. */
export function withRealNewlines(raw: string): string {
  return raw.includes('-----BEGIN') && !raw.trim().includes('\n') && raw.includes('\\n')
    ? raw.replace(/(?:\\r)?\\n/g, '\n')
    : raw;
}

/** The runner masks line by line, so a PEM is masked as its lines (the armour lines are public). */
export function maskLines(secret: string, masked: Set<string>): void {
  for (const line of secret.split(/\r?\n/)) {
    const text = line.trim();
    if (text.length < 8 || text.startsWith('-----') || masked.has(text)) continue;
    masked.add(text);
    core.setSecret(text);
  }
}

/**
 * The version input, else the version of the tag the run is for (`refs/tags/v1.2.3` → `1.2.3`). One rule
 * for both (core's normalizeVersion): a `v` before a digit is dropped, with a notice saying so.
 */
export function readVersion(ref: string | undefined): string {
  const explicit = readOptional('version');
  const { version, stripped } = normalizeVersion(explicit ?? tagFromRef(ref));
  if (stripped) core.notice(`version: using '${version}' (the leading 'v' of '${stripped}' is dropped)`);
  return version;
}

export function readTarget(): string {
  const target = readRequired('target');
  validateTarget(target);
  return target;
}

/** Relative paths start at the workspace, where the runner starts the action and a build leaves its output. */
export function readFile(options: { allowEmpty?: boolean } = {}): string {
  const file = readRequired('file');
  const path = resolve(process.env.GITHUB_WORKSPACE ?? process.cwd(), file);
  checkFile(path, { allowEmpty: options.allowEmpty });
  return path;
}

export interface UploadTuning {
  partSize?: number;
  concurrency?: number;
  hashingTimeoutMs?: number;
  stallTimeoutMs?: number;
}

export function readUploadTuning(): UploadTuning {
  return readAllInputs<UploadTuning>({
    partSize: readPartSize,
    concurrency: readConcurrency,
    hashingTimeoutMs: readHashingTimeout,
    stallTimeoutMs: readStallTimeout,
  });
}

export function readPartSize(): number | undefined {
  const partSize = readByteSize('part-size');
  if (partSize !== undefined && (partSize < MIN_PART_SIZE || partSize > MAX_PART_SIZE)) {
    throw new InputError(
      'part-size',
      `must be from 5 MiB (${MIN_PART_SIZE} bytes) to 5 GiB (${MAX_PART_SIZE} bytes), got ${partSize} bytes`,
    );
  }
  return partSize;
}

export const readConcurrency = () => readInteger('concurrency', { min: 1, max: MAX_UPLOAD_CONCURRENCY });
export const readHashingTimeout = () =>
  readDuration('hashing-timeout', { minMs: 1_000, maxMs: 6 * 3_600_000 });
export const readStallTimeout = () => readDuration('stall-timeout', { minMs: 1_000, maxMs: 3_600_000 });

/** The readers of the inputs every action starts with, as its action.yml lists them. */
export const API_READERS = { apiKey: readApiKey, baseUrl: readBaseUrl, requestTimeoutMs: readRequestTimeout };

/** What readAllInputs read, with the API inputs gathered into `api`. */
export function withApi<T extends ApiInputs>(read: T): { api: ApiInputs } & Omit<T, keyof ApiInputs> {
  const { apiKey, baseUrl, requestTimeoutMs, ...rest } = read;
  return { api: { apiKey, baseUrl, requestTimeoutMs }, ...rest };
}
