import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from '@peridio-actions/core/base';
import { LocalBlobStore } from './blobs/local/local-blob-store.js';
import { openBackends, type BackendChoice } from './backends.js';
import { copyBinary } from './migrate-binaries.js';
import {
  advanceSequences,
  AFTER_CONTENT,
  BEFORE_CONTENT,
  RecordCopier,
  type TableCount,
} from './store/copy-records.js';
import { PgStore } from './store/pg/pg-store.js';
import { SqliteStore } from './store/sqlite/sqlite-store.js';
import type { Listable } from './store/store.js';

export interface MigrateReport {
  ok: boolean;
  summary: string;
  problems: string[];
}

async function* rows<T extends { seq: number }>(repo: Listable<T>, org: string): AsyncIterable<T> {
  for (let after = 0; ;) {
    const page = await repo.list({ org, limit: 500, order: 'asc', after, filters: [] });
    for (const row of page.rows) yield row;
    if (!page.more || page.rows.length === 0) return;
    after = page.rows.at(-1)!.seq;
  }
}

/**
 * Copies an embedded registry (SQLite + content in a data dir) into PostgreSQL + S3: every record
 * (store/copy-records.ts) and every binary's content. Every byte is hashed on the way: content whose SHA-256
 * is not the one its record names is reported and not copied, and its binary arrives `uploadable` (with the
 * reason in `hash_error`), so a client uploads it again instead of anyone trusting it.
 *
 * The target is an empty database, or the one this data dir was migrated into before: a re-run (after a
 * crash, say) copies only what is missing. The organization is written last, so a half-migrated database
 * is never taken for a finished one.
 */
export async function migrate(
  fromDir: string,
  choice: BackendChoice,
  env: NodeJS.ProcessEnv,
  logger: Logger,
): Promise<MigrateReport> {
  const dbPath = join(fromDir, 'registry.db');
  if (!existsSync(dbPath)) throw new Error(`${dbPath} does not exist: --from must be a registry data dir`);
  const source = new SqliteStore(dbPath);
  const sourceBlobs = await LocalBlobStore.open(fromDir);
  const target = await openBackends(choice, fromDir, env);
  const problems: string[] = [];
  const content = { binaries: 0, bytes: 0 };
  let copier: RecordCopier;
  let before: TableCount[];
  let after: TableCount[];
  try {
    const direct = target.blobs.direct;
    if (!direct) throw new Error('migrate copies content into an S3 bucket: give --to s3://…');
    if (!(target.store instanceof PgStore))
      throw new Error('migrate copies records into PostgreSQL: give --to postgres://…');
    const pg = target.store;
    const org = await source.meta.get('organization');
    if (!org) throw new Error(`${dbPath} has no organization: not a registry database`);
    const there = await pg.meta.get('organization');
    if (there && there !== org)
      throw new Error(
        `the target database holds another registry (organization ${there}); migrate into an empty one, or the one this data dir was migrated into`,
      );
    if (there) logger.info(`the target holds organization ${org} already: copying what is missing`);
    // The fleet keeps the embedded registry's API key and presigned-URL key.
    for (const [file, key] of [
      ['api-key', 'api-key'],
      ['presign-secret', 'presign-secret'],
    ] as const) {
      const path = join(fromDir, file);
      if (existsSync(path)) await pg.meta.setIfAbsent(key, readFileSync(path, 'utf8').trim());
    }

    copier = await RecordCopier.open(source, pg);
    const log = (line: string) => logger.info(line);
    before = await copier.copy(BEFORE_CONTENT, log);
    for await (const b of rows(source.binaries, org)) {
      const bytes = await copyBinary(b, source, sourceBlobs, pg, direct, problems);
      content.bytes += bytes;
      content.binaries++;
      logger.info(`binary ${b.id} (${b.state}): ${bytes} bytes copied`);
    }
    after = await copier.copy(AFTER_CONTENT, log);
    copier.checkAccounted();
    problems.push(...copier.problems);
    await advanceSequences(pg);
    // Last, so a registry started on a half-migrated database finds no organization and refuses nothing silently.
    await pg.meta.setIfAbsent('organization', org);
  } finally {
    await source.close();
    await target.store.close();
  }
  for (const p of problems) logger.error(p);
  const counted = (c: TableCount) => `${c.rows} ${c.label}`;
  const records = [...before, ...after];
  const rowsTotal = records.reduce((n, c) => n + c.rows, 0);
  const written = records.reduce((n, c) => n + c.inserted, 0);
  const summary =
    `migrated ${[
      ...before.map(counted),
      `${content.binaries} binaries (${content.bytes} bytes verified and copied)`,
      ...after.map(counted),
    ].join(', ')}; ${written} of ${rowsTotal} rows written by this run` +
    (written < rowsTotal ? ' (the others were there already)' : '') +
    copier.notes.map((n) => `; ${n}`).join('') +
    (problems.length
      ? `; ${problems.length} problem(s):\n${problems.map((p) => `  ${p}`).join('\n')}`
      : '; every SHA-256 verified');
  return { ok: problems.length === 0, summary, problems };
}
