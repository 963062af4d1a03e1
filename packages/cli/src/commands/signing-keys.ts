import { readFileSync } from 'node:fs';
import { InputError, parsePublicKey, publicKeyValue } from '@peridio-actions/core';
import { list, one } from '../output.js';
import type { ResourceSpec } from '../spec.js';
import { LIST_FLAGS, listParams, prnFlag, str } from './common.js';

const COLUMNS = ['prn', 'name', 'keyid', 'value'];

export const signingKeys: ResourceSpec = {
  name: 'signing-keys',
  summary: 'Signing keys: Ed25519 public keys the registry verifies signatures with',
  verbs: [
    {
      name: 'create',
      summary: 'Register a public key',
      flags: [
        { name: 'name', required: true, description: 'Name of the key' },
        { name: 'value', description: 'The public key: base64 of the raw 32 bytes, or an SPKI PEM' },
        { name: 'path', description: 'A file holding the public key PEM', valueName: 'PATH' },
      ],
      examples: [
        'openssl genpkey -algorithm ed25519 -out private.pem',
        'peridio signing-keys create --name prod \\\n    --value "$(openssl pkey -in private.pem -pubout -outform DER | tail -c 32 | base64)"',
        'peridio signing-keys create --name prod --path public.pem',
      ],
      run: async (ctx) => {
        const value = str(ctx.flags, 'value');
        const path = str(ctx.flags, 'path');
        if ((value === undefined) === (path === undefined)) {
          throw new InputError('value', 'give exactly one of --value and --path');
        }
        const flag = value !== undefined ? 'value' : 'path';
        let text = value;
        if (text === undefined) {
          try {
            text = readFileSync(path!, 'utf8');
          } catch (err) {
            throw new InputError('path', `cannot read ${path} (${(err as NodeJS.ErrnoException).code})`);
          }
        }
        const raw = parsePublicKey(text, flag);
        return one(
          'signing_key',
          await ctx.client().createSigningKey({ name: str(ctx.flags, 'name')!, value: publicKeyValue(raw) }),
          COLUMNS,
        );
      },
    },
    {
      name: 'get',
      summary: 'Show one signing key',
      flags: [prnFlag('signing key')],
      examples: ['peridio signing-keys get --prn "$KEY_PRN"'],
      run: async (ctx) =>
        one('signing_key', await ctx.client().getSigningKey(str(ctx.flags, 'prn')!), COLUMNS),
    },
    {
      name: 'list',
      summary: 'List signing keys (one page)',
      flags: LIST_FLAGS,
      examples: ['peridio signing-keys list --output table'],
      run: async (ctx) => {
        const page = await ctx.client().listSigningKeys(listParams(ctx.flags));
        return list('signing_keys', page.items, page.next_page, COLUMNS);
      },
    },
    {
      name: 'delete',
      summary: 'Delete a signing key',
      flags: [{ ...prnFlag('signing key'), aliases: ['signing-key-prn'] }],
      examples: ['peridio signing-keys delete --prn "$KEY_PRN"'],
      run: async (ctx) => {
        await ctx.client().deleteSigningKey(str(ctx.flags, 'prn')!);
        return { kind: 'none' };
      },
    },
  ],
};
