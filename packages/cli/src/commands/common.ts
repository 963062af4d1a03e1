/** Flag parsing shared by the resources: list paging, custom metadata, numbers, private keys. */
import { existsSync, readFileSync } from 'node:fs';
import {
  InputError,
  parsePrivateKey,
  type CustomMetadata,
  type Ed25519KeyPair,
  type ListParams,
} from '@peridio-actions/core';
import { expandHome } from '../config.js';
import type { CommandContext, FlagSpec, FlagValues } from '../spec.js';

export const LIST_FLAGS: FlagSpec[] = [
  { name: 'limit', description: 'Items per page', valueName: 'N' },
  { name: 'order', choices: ['asc', 'desc'], description: 'Sort order' },
  { name: 'search', description: "Search query in the API's query language, e.g. \"name:'firmware'\"" },
  { name: 'page', description: 'Cursor from a previous answer’s next_page' },
];

export const METADATA_FLAGS: FlagSpec[] = [
  { name: 'description', description: 'Free text shown to people' },
  { name: 'custom-metadata', description: 'A JSON object', valueName: 'JSON' },
  { name: 'custom-metadata-path', description: 'A file holding a JSON object', valueName: 'PATH' },
];

export const prnFlag = (what: string): FlagSpec => ({
  name: 'prn',
  required: true,
  description: `PRN of the ${what}`,
});

export function str(flags: FlagValues, name: string): string | undefined {
  const value = flags[name];
  return typeof value === 'string' ? value : Array.isArray(value) ? value[value.length - 1] : undefined;
}

export function listParams(flags: FlagValues): ListParams {
  const limit = str(flags, 'limit');
  return {
    limit: limit === undefined ? undefined : integer(limit, 'limit', 1),
    order: str(flags, 'order') as ListParams['order'],
    search: str(flags, 'search'),
    page: str(flags, 'page'),
  };
}

function integer(text: string, flag: string, min = 0): number {
  if (!/^\d+$/.test(text.trim()) || Number(text) < min || !Number.isSafeInteger(Number(text))) {
    throw new InputError(
      flag,
      `must be a whole number${min > 0 ? ` of at least ${min}` : ''}, got '${text}'`,
    );
  }
  return Number(text);
}

export function optionalInteger(flags: FlagValues, name: string, min = 0): number | undefined {
  const text = str(flags, name);
  return text === undefined ? undefined : integer(text, name, min);
}

/** `--custom-metadata JSON` or `--custom-metadata-path FILE`, as Peridio's CLI takes them. */
export function customMetadata(flags: FlagValues): CustomMetadata | undefined {
  const inline = str(flags, 'custom-metadata');
  const path = str(flags, 'custom-metadata-path');
  if (inline !== undefined && path !== undefined) {
    throw new InputError('custom-metadata', 'give --custom-metadata or --custom-metadata-path, not both');
  }
  if (inline === undefined && path === undefined) return undefined;
  const flag = inline !== undefined ? 'custom-metadata' : 'custom-metadata-path';
  let text: string;
  try {
    text = inline ?? readFileSync(path!, 'utf8');
  } catch (err) {
    throw new InputError(flag, `cannot read ${path} (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new InputError(flag, 'is not valid JSON');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new InputError(flag, 'must be a JSON object');
  }
  return value as CustomMetadata;
}

/**
 * A private key flag: a path to a PKCS#8 PEM (Peridio's CLI takes a path), or the key itself (a PEM
 * given as `--flag="$PEM"`, or base64 of the PEM, which fits a masked CI variable). The key's every form
 * is masked from here on. Errors never quote the value: it may be the key.
 */
function readPrivateKey(ctx: CommandContext, value: string, flag: string): Ed25519KeyPair {
  ctx.addSecrets([value]);
  const path = expandHome(value, process.env);
  let text: string;
  if (!value.includes('-----BEGIN') && existsSync(path)) {
    try {
      text = readFileSync(path, 'utf8');
    } catch (err) {
      throw new InputError(
        flag,
        `cannot read the key file ${value} (${(err as NodeJS.ErrnoException).code ?? String(err)})`,
      );
    }
  } else if (value.includes('-----BEGIN') || /^[A-Za-z0-9+/=\s]{40,}$/.test(value)) {
    text = value;
  } else {
    throw new InputError(
      flag,
      'is neither a readable key file nor an Ed25519 private key (PEM or base64 of it)',
    );
  }
  const key = parsePrivateKey(text, flag);
  ctx.addSecrets(key.secretForms());
  return key;
}

/** The signing key pair of `--signing-key-pair NAME`, or of `--signing-key-private` (+ `--signing-key-prn`). */
export function signingKeyFromFlags(
  ctx: CommandContext,
): { key: Ed25519KeyPair; signingKeyPrn?: string } | undefined {
  const pair = str(ctx.flags, 'signing-key-pair');
  const privateKey = str(ctx.flags, 'signing-key-private');
  const prn = str(ctx.flags, 'signing-key-prn');
  if (pair !== undefined) {
    if (privateKey !== undefined || prn !== undefined) {
      throw new InputError(
        'signing-key-pair',
        'cannot be combined with --signing-key-private or --signing-key-prn',
      );
    }
    const entry = ctx.config.signingKeyPairs[pair];
    if (!entry) {
      const known = Object.keys(ctx.config.signingKeyPairs);
      throw new InputError(
        'signing-key-pair',
        `'${pair}' is not in signing_key_pairs of ${ctx.config.configDirectory}/config.json` +
          (known.length ? ` (pairs: ${known.join(', ')})` : ''),
      );
    }
    return {
      key: readPrivateKey(ctx, entry.signing_key_private_path, 'signing-key-pair'),
      signingKeyPrn: entry.signing_key_prn,
    };
  }
  if (privateKey !== undefined)
    return { key: readPrivateKey(ctx, privateKey, 'signing-key-private'), signingKeyPrn: prn };
  if (prn !== undefined) throw new InputError('signing-key-prn', 'needs --signing-key-private with it');
  return undefined;
}

export const SIGNING_FLAGS: FlagSpec[] = [
  {
    name: 'signing-key-pair',
    short: 's',
    description: 'Name of a signing key pair in config.json (signing_key_pairs)',
    valueName: 'NAME',
  },
  {
    name: 'signing-key-private',
    secret: true,
    description: 'Path to the Ed25519 private key (PKCS#8 PEM), or the PEM itself',
    valueName: 'PATH',
  },
  {
    name: 'signing-key-prn',
    description: 'PRN of the registered signing key (found by public key if omitted)',
  },
];
