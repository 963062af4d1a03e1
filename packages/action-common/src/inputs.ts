/**
 * Reading action inputs into typed values. Every error is an InputError naming the kebab-case input as
 * written in action.yml, so a failed run says exactly which line of the workflow to fix. Secrets are
 * masked before anything else looks at them.
 */
import { resolve } from 'node:path';
import * as core from '@actions/core';
import {
  checkCustomMetadataSize,
  InputError,
  MAX_PART_SIZE,
  MAX_UPLOAD_CONCURRENCY,
  MIN_PART_SIZE,
  parsePrivateKey,
  requirePrn,
  validateTarget,
  validateVersion,
  versionFromRef,
  type CustomMetadata,
  type Ed25519KeyPair,
  type PrnType,
} from '@peridio-actions/core';

export const DEFAULT_BASE_URL = 'https://api.cremini.peridio.com';

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
}

export function readApiInputs(): ApiInputs {
  const apiKey = core.getInput('api-key').trim();
  if (apiKey) core.setSecret(apiKey);
  if (!apiKey)
    throw new InputError(
      'api-key',
      'is empty; pass the Admin API key from a secret, e.g. ${{ secrets.PERIDIO_API_KEY }}',
    );
  if (/\s/.test(apiKey)) throw new InputError('api-key', 'contains whitespace; check the secret');
  return { apiKey, baseUrl: readBaseUrl() };
}

function readBaseUrl(): string {
  const value = readOptional('base-url') ?? DEFAULT_BASE_URL;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new InputError(
      'base-url',
      `'${value}' is not a URL; expected e.g. ${DEFAULT_BASE_URL} or http://localhost:4000`,
    );
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new InputError('base-url', `must be an http(s) URL, got ${url.protocol}`);
  }
  if (url.username || url.password)
    throw new InputError('base-url', 'must not contain credentials; use api-key');
  if (url.search || url.hash) throw new InputError('base-url', 'must not have a query or fragment');
  return value.replace(/\/+$/, '');
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
  kb: 1e3,
  mb: 1e6,
  gb: 1e9,
};

/** Bytes: `16777216`, `16MiB`, `16 MiB`, `5GB`. Range checks are the caller's (planParts knows the limits). */
export function readByteSize(name: string): number | undefined {
  const value = readOptional(name);
  if (value === undefined) return undefined;
  const match = /^(\d+(?:\.\d+)?)\s*([a-zA-Z]*)$/.exec(value);
  const factor = match ? BYTE_UNITS[match[2]!.toLowerCase()] : undefined;
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
  const raw = core.getInput(name);
  const masked = new Set<string>();
  maskLines(raw, masked);
  const key = parsePrivateKey(raw, name);
  for (const form of key.secretForms()) maskLines(form, masked);
  return key;
}

/** The runner masks line by line, so a PEM is masked as its lines (the armour lines are public). */
function maskLines(secret: string, masked: Set<string>): void {
  for (const line of secret.split(/\r?\n/)) {
    const text = line.trim();
    if (text.length < 8 || text.startsWith('-----') || masked.has(text)) continue;
    masked.add(text);
    core.setSecret(text);
  }
}

/** The version input, else the version of the tag the run is for (`refs/tags/v1.2.3` → `1.2.3`). */
export function readVersion(ref: string | undefined): string {
  const explicit = readOptional('version');
  return explicit !== undefined ? validateVersion(explicit) : versionFromRef(ref);
}

export function readTarget(): string {
  const target = readRequired('target');
  validateTarget(target);
  return target;
}

/** Relative paths start at the workspace, where the runner starts the action and a build leaves its output. */
export function readFile(): string {
  const file = readRequired('file');
  return resolve(process.env.GITHUB_WORKSPACE ?? process.cwd(), file);
}

export interface UploadTuning {
  partSize?: number;
  concurrency?: number;
  hashingTimeoutMs?: number;
}

export function readUploadTuning(): UploadTuning {
  const partSize = readByteSize('part-size');
  if (partSize !== undefined && (partSize < MIN_PART_SIZE || partSize > MAX_PART_SIZE)) {
    throw new InputError(
      'part-size',
      `must be from ${MIN_PART_SIZE} (5 MiB) to ${MAX_PART_SIZE} (5 GiB) bytes, got ${partSize}`,
    );
  }
  return {
    partSize,
    concurrency: readInteger('concurrency', { min: 1, max: MAX_UPLOAD_CONCURRENCY }),
    hashingTimeoutMs: readDuration('hashing-timeout', { minMs: 1_000, maxMs: 6 * 3_600_000 }),
  };
}

/** Non-empty lines (trimmed); `#` lines are comments. Undefined when there are none. */
export function readLines(name: string): string[] | undefined {
  const lines = core
    .getInput(name)
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'));
  return lines.length > 0 ? lines : undefined;
}

/** `true` / `false` (YAML 1.2 core schema spellings, as the runner's getBooleanInput); empty → fallback. */
export function readBoolean(name: string, fallback: boolean): boolean {
  const value = readOptional(name);
  if (value === undefined) return fallback;
  if (['true', 'True', 'TRUE'].includes(value)) return true;
  if (['false', 'False', 'FALSE'].includes(value)) return false;
  throw new InputError(name, `must be true or false, got '${value}'`);
}

/** One item per line, or a JSON array of strings (e.g. a matrix list passed from a job output). */
export function readList(name: string): string[] | undefined {
  const value = readOptional(name);
  if (value === undefined || !value.startsWith('[')) return readLines(name);
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch (err) {
    throw new InputError(name, `starts with '[' but is not a JSON array (${(err as Error).message})`);
  }
  if (!Array.isArray(parsed) || !parsed.every((x) => typeof x === 'string' && x.trim() !== '')) {
    throw new InputError(name, 'must be one item per line, or a JSON array of non-empty strings');
  }
  return parsed.length > 0 ? parsed.map((x: string) => x.trim()) : undefined;
}
