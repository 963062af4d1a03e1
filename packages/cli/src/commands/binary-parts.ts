import { uploadPartFile } from '@peridio-actions/core';
import { one, list } from '../output.js';
import type { ResourceSpec } from '../spec.js';
import { optionalInteger, str } from './common.js';
import { statSync } from 'node:fs';
import { InputError } from '@peridio-actions/core';

const COLUMNS = ['prn', 'index', 'size', 'state', 'hash'];

export const binaryParts: ResourceSpec = {
  name: 'binary-parts',
  summary: 'Binary parts: the pieces of a multipart upload, sent one command each',
  verbs: [
    {
      name: 'create',
      summary: 'Upload one part from a file holding exactly its bytes (e.g. made by split)',
      details:
        'Hashes the file, creates (or overwrites) part --index of the binary and PUTs the bytes, with retries.\n' +
        'The binary stays uploadable: after the last part, `binaries update --state hashable`.',
      flags: [
        { name: 'binary-prn', required: true, description: 'PRN of the binary' },
        {
          name: 'index',
          aliases: ['part-number'],
          required: true,
          description: 'Part number, 1 to 10000',
          valueName: 'N',
        },
        { name: 'file', required: true, description: 'File holding this part’s bytes', valueName: 'PATH' },
        {
          name: 'expected-binary-size',
          description: 'Size of the whole binary (default: the size its record declares)',
          valueName: 'BYTES',
        },
        {
          name: 'binary-content-path',
          description: 'The whole binary’s file, to take its size from',
          valueName: 'PATH',
        },
      ],
      examples: [
        'split -b 5242880 -d firmware.bin part.',
        'peridio binary-parts create --binary-prn "$BINARY_PRN" --index 1 --file part.00',
      ],
      run: async (ctx) => {
        const wholePath = str(ctx.flags, 'binary-content-path');
        let expected = optionalInteger(ctx.flags, 'expected-binary-size');
        if (wholePath !== undefined) {
          if (expected !== undefined) {
            throw new InputError('binary-content-path', 'cannot be combined with --expected-binary-size');
          }
          try {
            expected = statSync(wholePath).size;
          } catch (err) {
            throw new InputError(
              'binary-content-path',
              `cannot read ${wholePath} (${(err as NodeJS.ErrnoException).code})`,
            );
          }
        }
        const result = await uploadPartFile({
          api: ctx.client(),
          binaryPrn: str(ctx.flags, 'binary-prn')!,
          index: optionalInteger(ctx.flags, 'index', 1)!,
          filePath: str(ctx.flags, 'file')!,
          expectedBinarySize: expected,
          logger: ctx.logger,
          signal: ctx.signal,
          onProgress: ctx.onUploadProgress,
        });
        return one('binary_part', result.part, COLUMNS);
      },
    },
    {
      name: 'list',
      summary: 'List the parts of a binary',
      flags: [{ name: 'binary-prn', required: true, description: 'PRN of the binary' }],
      examples: ['peridio binary-parts list --binary-prn "$BINARY_PRN" --output table'],
      run: async (ctx) =>
        list(
          'binary_parts',
          await ctx.client().listBinaryParts(str(ctx.flags, 'binary-prn')!),
          null,
          COLUMNS,
        ),
    },
  ],
};
