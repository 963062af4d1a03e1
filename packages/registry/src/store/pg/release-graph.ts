import { claimLimit, type PhaseLimit } from '../../releases/phase.js';
import type { ReleaseRecord } from '../../releases/types.js';
import { nowTimestamp } from '../../time.js';
import { releaseOf, type Row } from '../release-rows.js';
import type { NewEvent, ReleasePlan } from '../release-store.js';
import type { Sql } from './connection.js';
import { insertEvent, type PgDatabase } from './release-tables.js';

/**
 * The release operations that must hold under concurrent callers on several instances: changes to a cohort's
 * release graph (serialised by a row lock on the cohort) and phase claims (a conditional increment of the
 * release's `claims`, which PostgreSQL re-evaluates on the newest row once a concurrent claim commits).
 */

export async function cohortReleases(sql: Sql, org: string, cohortId: string): Promise<ReleaseRecord[]> {
  const rows = await sql.all<Row>('SELECT * FROM releases WHERE cohort_id = $1 AND org = $2 ORDER BY seq', [
    cohortId,
    org,
  ]);
  return rows.map(releaseOf);
}

export function withCohortReleases<T>(
  db: PgDatabase,
  org: string,
  cohortId: string,
  plan: (releases: ReleaseRecord[]) => ReleasePlan<T>,
): Promise<T> {
  return db.sqlTransaction(async (sql) => {
    // Every change to the cohort's graph takes this lock first, so the releases read next (a fresh snapshot
    // at READ COMMITTED) are the ones the plan's changes apply to. NO KEY UPDATE leaves devices and releases
    // free to reference the cohort meanwhile (their foreign-key checks take KEY SHARE).
    await sql.run('SELECT 1 FROM cohorts WHERE id = $1 AND org = $2 FOR NO KEY UPDATE', [cohortId, org]);
    const p = plan(await cohortReleases(sql, org, cohortId));
    if (p.delete !== undefined) {
      for (const link of p.links) await setNext(sql, org, link.id, link.next_release_id);
      await sql.run('DELETE FROM releases WHERE id = $1 AND org = $2', [p.delete, org]);
      return p.result;
    }
    // A new release goes in before links pointing at it; its own next is part of the record.
    if (p.create) await writeRelease(sql, org, p.create, true);
    if (p.update) await writeRelease(sql, org, p.update, false);
    const own = p.create?.id ?? p.update?.id;
    for (const link of p.links) if (link.id !== own) await setNext(sql, org, link.id, link.next_release_id);
    return p.result;
  });
}

async function writeRelease(sql: Sql, org: string, r: ReleaseRecord, insert: boolean): Promise<void> {
  const values = [
    r.cohort_id,
    r.bundle_id,
    r.name,
    r.description,
    r.required,
    r.disabled,
    r.schedule_date,
    r.phase_mode,
    r.phase_value,
    r.phase_tags === null ? null : JSON.stringify(r.phase_tags),
    r.version,
    r.version_requirement,
    r.next_release_id,
    r.updated_at,
    r.id,
    org,
  ];
  if (insert) {
    await sql.run(
      `INSERT INTO releases (cohort_id, bundle_id, name, description, required, disabled, schedule_date, phase_mode,
       phase_value, phase_tags, version, version_requirement, next_release_id, updated_at, id, org, inserted_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)`,
      [...values, r.inserted_at],
    );
  } else {
    await sql.run(
      `UPDATE releases SET cohort_id = $1, bundle_id = $2, name = $3, description = $4, required = $5,
       disabled = $6, schedule_date = $7, phase_mode = $8, phase_value = $9, phase_tags = $10, version = $11,
       version_requirement = $12, next_release_id = $13, updated_at = $14 WHERE id = $15 AND org = $16`,
      values,
    );
  }
}

async function setNext(sql: Sql, org: string, id: string, next: string | null): Promise<void> {
  await sql.run('UPDATE releases SET next_release_id = $1, updated_at = $2 WHERE id = $3 AND org = $4', [
    next,
    nowTimestamp(),
    id,
    org,
  ]);
}

type Claimable = Pick<ReleaseRecord, 'id' | 'cohort_id'>;

/**
 * The release's claim count, whether the device holds a claim, and the limit now (a share counts the cohort's
 * devices), in one read without locks: a claim is never taken back and `claims` only grows, so "claimed"
 * and "full" read here stay true.
 */
async function claimState(sql: Sql, release: Claimable, deviceId: string, limit: PhaseLimit) {
  const row = await sql.get<{ claims: number; claimed: boolean; devices: number }>(
    `SELECT r.claims,
       EXISTS (SELECT 1 FROM release_claims c WHERE c.release_id = r.id AND c.device_id = $2) AS claimed,
       CASE WHEN $4 THEN (SELECT count(*) FROM devices d WHERE d.cohort_id = $3) ELSE 0 END AS devices
     FROM releases r WHERE r.id = $1`,
    [release.id, deviceId, release.cohort_id, limit.kind === 'share'],
  );
  const max = claimLimit(limit, row?.devices ?? 0);
  return { exists: !!row, claims: row?.claims ?? 0, claimed: !!row?.claimed, max };
}

async function hasClaim(sql: Sql, releaseId: string, deviceId: string): Promise<boolean> {
  const row = await sql.get('SELECT 1 FROM release_claims WHERE release_id = $1 AND device_id = $2', [
    releaseId,
    deviceId,
  ]);
  return row !== undefined;
}

/** Thrown inside the claim's transaction to roll its increment back: the device's claim won a race. */
class AlreadyClaimed extends Error {}

export async function claimPhaseSlot(
  db: PgDatabase,
  org: string,
  release: Claimable,
  deviceId: string,
  limit: PhaseLimit,
  makeEvent: () => NewEvent,
): Promise<{ admitted: boolean; claimed: boolean }> {
  const state = await claimState(db.sql, release, deviceId, limit);
  if (state.claimed) return { admitted: true, claimed: false };
  if (!state.exists || state.claims >= state.max) return { admitted: false, claimed: false };
  try {
    return await db.sqlTransaction(async (sql) => {
      // The conditional increment is the claim: concurrent ones queue on the row and each is re-checked
      // against the count the previous one committed, so the limit holds across instances.
      const taken = await sql.run('UPDATE releases SET claims = claims + 1 WHERE id = $1 AND claims < $2', [
        release.id,
        Number.isFinite(state.max) ? state.max : Number.MAX_SAFE_INTEGER,
      ]);
      // Full once the claims before it committed; one of them may be this device's through another
      // instance, which admits it as SQLite's serial order would.
      if (taken === 0) return { admitted: await hasClaim(sql, release.id, deviceId), claimed: false };
      // The same device checking in through another instance at once: the later claim waits for the first
      // and then finds it; its increment is rolled back.
      const inserted = await sql.run(
        `INSERT INTO release_claims (release_id, device_id, inserted_at) VALUES ($1, $2, $3)
         ON CONFLICT (release_id, device_id) DO NOTHING`,
        [release.id, deviceId, nowTimestamp()],
      );
      if (inserted === 0) throw new AlreadyClaimed();
      await insertEvent(sql, org, makeEvent());
      return { admitted: true, claimed: true };
    });
  } catch (err) {
    if (err instanceof AlreadyClaimed) return { admitted: true, claimed: false };
    throw err;
  }
}

export async function wouldAdmit(
  db: PgDatabase,
  release: Claimable,
  deviceId: string,
  limit: PhaseLimit,
): Promise<boolean> {
  const state = await claimState(db.sql, release, deviceId, limit);
  return state.claimed || state.claims < state.max;
}
