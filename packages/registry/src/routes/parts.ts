import { MAX_BINARY_SIZE, MAX_PART_SIZE, MAX_PARTS, MIN_PART_SIZE } from '@peridio-actions/core/base';
import { randomUUID } from 'node:crypto';
import { partUploadUrl, syncDirectParts } from '../content.js';
import type { RegistryContext } from '../context.js';
import { optionalInteger, requiredInteger, sha256Field } from '../fields.js';
import { fieldError, notFound } from '../http.js';
import { changeBinary, findBinary } from '../lifecycle.js';
import { partJson } from '../records.js';
import type { Route } from '../router.js';
import { nowTimestamp } from '../time.js';
import { getBinary } from './binaries.js';

export function parseIndex(value: string): number | undefined {
  if (!/^\d{1,5}$/.test(value)) return undefined;
  const index = Number(value);
  return index >= 1 && index <= MAX_PARTS ? index : undefined;
}

export function partRoutes(ctx: RegistryContext): Route[] {
  return [
    {
      method: 'PUT',
      pattern: '/binaries/:prn/parts/:index',
      auth: true,
      async handler({ params, body, baseUrl }) {
        const binary = await getBinary(ctx, params.prn!);
        const index = parseIndex(params.index!);
        if (index === undefined) throw fieldError('index', `must be an integer from 1 to ${MAX_PARTS}`);
        // `binary_prn`, `index` and the `content-range` header repeat the path (the SDK sends them); ignored.
        const input = await body();
        const hash = sha256Field(input, 'hash', true);
        const size = requiredInteger(input, 'size', 0, MAX_PART_SIZE);
        const expected = optionalInteger(input, 'expected_binary_size', 0, MAX_BINARY_SIZE);
        const { row, current } = await changeBinary(ctx, binary.id, async (tx) => {
          const current = await findBinary(ctx, binary.id, tx);
          if (!current) throw notFound();
          if (current.state !== 'uploadable') {
            throw fieldError(
              'state',
              `parts can only be uploaded while the binary is uploadable; it is ${current.state}`,
            );
          }
          if (expected !== undefined && expected !== current.size) {
            throw fieldError(
              'expected_binary_size',
              `is ${expected} but the binary's size is ${current.size}`,
            );
          }
          if (size > current.size)
            throw fieldError('size', `is larger than the binary (${current.size} bytes)`);
          if (size < MIN_PART_SIZE && (await tx.parts.hasAfter(binary.id, index))) {
            throw fieldError(
              'size',
              `must be at least ${MIN_PART_SIZE} bytes for a part that is not the last`,
            );
          }
          const now = nowTimestamp();
          // Overwrite: the part waits for new bytes. A file named by another hash can no longer become valid.
          const { row, replacedFile } = await tx.parts.register({
            binaryId: binary.id,
            idx: index,
            id: randomUUID(),
            org: ctx.org,
            hash,
            size,
            at: now,
          });
          if (replacedFile)
            await tx.contentGarbage.add({ kind: 'part', binaryId: binary.id, file: replacedFile }, now);
          return { row, current };
        });
        return {
          status: 201,
          body: {
            binary_part: {
              ...partJson(ctx, row),
              presigned_upload_url: await partUploadUrl(ctx, baseUrl, current, row),
            },
          },
        };
      },
    },
    {
      method: 'GET',
      pattern: '/binaries/:prn/parts',
      auth: true,
      async handler({ params }) {
        const binary = await getBinary(ctx, params.prn!);
        await syncDirectParts(ctx, binary);
        const parts = await ctx.store.parts.list(binary.id);
        // Never paginated: a resuming client needs every part at once, as Peridio's API lists them.
        return { status: 200, body: { binary_parts: parts.map((p) => partJson(ctx, p)), next_page: null } };
      },
    },
  ];
}
