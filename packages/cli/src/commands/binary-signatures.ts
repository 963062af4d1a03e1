import { InputError, signBinary } from '@peridio-actions/core';
import { list, one } from '../output.js';
import type { ResourceSpec } from '../spec.js';
import { LIST_FLAGS, listParams, signingKeyFromFlags, SIGNING_FLAGS, str } from './common.js';

const COLUMNS = ['prn', 'binary_prn', 'signing_key_prn', 'keyid'];

export const binarySignatures: ResourceSpec = {
  name: 'binary-signatures',
  summary: 'Binary signatures: Ed25519 signatures of a binary’s hash',
  verbs: [
    {
      name: 'create',
      summary: 'Attach a signature (given, or made here with a private key) to a binary',
      details:
        'Either --signature (hex or base64, made elsewhere, e.g. by an HSM) with --signing-key-prn or\n' +
        '--signing-key-keyid; or --signing-key-pair / --signing-key-private to sign the binary’s hash here\n' +
        '(the signature is checked against the registered key before it is sent; the binary ends signed).',
      flags: [
        { name: 'binary-prn', required: true, description: 'PRN of the binary (signable or signed)' },
        { name: 'signature', description: 'Ed25519 signature of the binary’s hash, hex or base64' },
        { name: 'signing-key-keyid', description: 'keyid of the registered key (instead of its PRN)' },
        ...SIGNING_FLAGS,
      ],
      examples: [
        'peridio binary-signatures create --binary-prn "$BINARY_PRN" --signature "$SIG_HEX" --signing-key-prn "$KEY_PRN"',
        'peridio binary-signatures create --binary-prn "$BINARY_PRN" --signing-key-pair prod',
      ],
      run: async (ctx) => {
        const binaryPrn = str(ctx.flags, 'binary-prn')!;
        const signature = str(ctx.flags, 'signature');
        const keyid = str(ctx.flags, 'signing-key-keyid');
        if (signature === undefined) {
          if (keyid !== undefined) throw new InputError('signing-key-keyid', 'needs --signature with it');
          const signing = signingKeyFromFlags(ctx);
          if (!signing) {
            throw new InputError(
              'signature',
              'is needed, or else --signing-key-pair or --signing-key-private to sign here',
            );
          }
          const result = await signBinary({
            api: ctx.client(),
            binaryPrn,
            key: signing.key,
            signingKeyPrn: signing.signingKeyPrn,
            // Adding a signature is what this command is for, also to a binary other keys signed.
            alsoSign: true,
            logger: ctx.logger,
            signal: ctx.signal,
          });
          const [record] = (
            await ctx.client().listBinarySignatures({ search: `binary_prn:'${binaryPrn}'`, limit: 100 })
          ).items.filter((s) => s.prn === result.binarySignaturePrn);
          return one(
            'binary_signature',
            record ?? { prn: result.binarySignaturePrn, signature: result.signature },
            COLUMNS,
          );
        }
        const prn = str(ctx.flags, 'signing-key-prn');
        if (ctx.flags['signing-key-pair'] !== undefined || ctx.flags['signing-key-private'] !== undefined) {
          throw new InputError(
            'signature',
            'is made here from the key; give --signature or a private key, not both',
          );
        }
        if ((prn === undefined) === (keyid === undefined)) {
          throw new InputError(
            'signing-key-prn',
            'give exactly one of --signing-key-prn and --signing-key-keyid with --signature',
          );
        }
        return one(
          'binary_signature',
          await ctx.client().createBinarySignature({
            binary_prn: binaryPrn,
            signature: signatureHex(signature),
            ...(prn !== undefined ? { signing_key_prn: prn } : {}),
            ...(keyid !== undefined ? { signing_key_keyid: keyid } : {}),
          }),
          COLUMNS,
        );
      },
    },
    {
      name: 'list',
      summary: 'List binary signatures (one page)',
      flags: LIST_FLAGS,
      examples: [`peridio binary-signatures list --search "binary_prn:'$BINARY_PRN'"`],
      run: async (ctx) => {
        const page = await ctx.client().listBinarySignatures(listParams(ctx.flags));
        return list('binary_signatures', page.items, page.next_page, COLUMNS);
      },
    },
    {
      name: 'delete',
      summary: 'Delete a binary signature',
      flags: [
        {
          name: 'binary-signature-prn',
          aliases: ['prn'],
          required: true,
          description: 'PRN of the signature',
        },
      ],
      examples: ['peridio binary-signatures delete --binary-signature-prn "$SIGNATURE_PRN"'],
      run: async (ctx) => {
        await ctx.client().deleteBinarySignature(str(ctx.flags, 'binary-signature-prn')!);
        return { kind: 'none' };
      },
    },
  ],
};

/** Peridio stores signatures as uppercase hex of the 64 bytes; base64 (what many signers print) is converted. */
export function signatureHex(value: string): string {
  const text = value.trim();
  if (/^[0-9a-fA-F]{128}$/.test(text)) return text.toUpperCase();
  if (/^[A-Za-z0-9+/_-]+={0,2}$/.test(text)) {
    const bytes = Buffer.from(text.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
    if (bytes.length === 64) return bytes.toString('hex').toUpperCase();
  }
  throw new InputError('signature', 'must be a 64-byte Ed25519 signature in hex (128 characters) or base64');
}
