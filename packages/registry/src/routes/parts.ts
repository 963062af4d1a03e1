import { randomUUID } from 'node:crypto';
import type { RegistryContext } from '../context.js';
import { optionalInteger, requiredInteger, sha256Field } from '../fields.js';
import { fieldError } from '../http.js';
import { MAX_PART_SIZE, MAX_PARTS, MIN_PART_SIZE, partsOf } from '../lifecycle.js';
import { partJson } from '../records.js';
import type { Route } from '../router.js';
import type { PartRow } from '../rows.js';
import { nowTimestamp } from '../time.js';
import { getBinary, MAX_BINARY_SIZE } from './binaries.js';

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
        const binary = getBinary(ctx, params.prn!);
        const index = parseIndex(params.index!);
        if (index === undefined) throw fieldError('index', `must be an integer from 1 to ${MAX_PARTS}`);
        // `binary_prn`, `index` and the `content-range` header repeat the path (the SDK sends them); ignored.
        const input = await body();
        const hash = sha256Field(input, 'hash', true);
        const size = requiredInteger(input, 'size', 0, MAX_PART_SIZE);
        const expected = optionalInteger(input, 'expected_binary_size', 0, MAX_BINARY_SIZE);
        const row = ctx.db.transaction(() => {
          const current = getBinary(ctx, params.prn!);
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
          const later = ctx.db.get(
            'SELECT 1 FROM binary_parts WHERE binary_id = ? AND idx > ?',
            binary.id,
            index,
          );
          if (size < MIN_PART_SIZE && later) {
            throw fieldError(
              'size',
              `must be at least ${MIN_PART_SIZE} bytes for a part that is not the last`,
            );
          }
          const old = ctx.db.get<PartRow>(
            'SELECT * FROM binary_parts WHERE binary_id = ? AND idx = ?',
            binary.id,
            index,
          );
          const now = nowTimestamp();
          if (old) {
            // Overwrite: the part waits for new bytes. A file named by another hash can no longer become valid.
            if (old.hash !== hash) ctx.storage.removePartFileSync(binary.id, old.file);
            ctx.db.run(
              `UPDATE binary_parts SET hash = ?, size = ?, state = 'uploadable', file = ?, updated_at = ?
               WHERE binary_id = ? AND idx = ?`,
              hash,
              size,
              old.hash === hash ? old.file : null,
              now,
              binary.id,
              index,
            );
          } else {
            ctx.db.run(
              `INSERT INTO binary_parts (binary_id, idx, id, org, hash, size, state, inserted_at, updated_at)
               VALUES (?, ?, ?, ?, ?, ?, 'uploadable', ?, ?)`,
              binary.id,
              index,
              randomUUID(),
              ctx.org,
              hash,
              size,
              now,
              now,
            );
          }
          return ctx.db.get<PartRow>(
            'SELECT * FROM binary_parts WHERE binary_id = ? AND idx = ?',
            binary.id,
            index,
          )!;
        });
        return {
          status: 201,
          body: {
            binary_part: {
              ...partJson(ctx, row),
              presigned_upload_url: ctx.presigner.partUrl(baseUrl, binary.id, index, row.hash),
            },
          },
        };
      },
    },
    {
      method: 'GET',
      pattern: '/binaries/:prn/parts',
      auth: true,
      handler({ params }) {
        const binary = getBinary(ctx, params.prn!);
        // Never paginated: a resuming client needs every part at once (protocol.md §3.4).
        return {
          status: 200,
          body: { binary_parts: partsOf(ctx, binary.id).map((p) => partJson(ctx, p)), next_page: null },
        };
      },
    },
  ];
}
