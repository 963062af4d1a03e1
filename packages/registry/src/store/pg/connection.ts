import pg from 'pg';
import { StoreUnavailable, UniqueViolation } from '../store.js';

export type Value = string | number | boolean | null | string[];

/** Runs statements on the pool (each on its own) or on one transaction's client. */
export interface Sql {
  all<T>(text: string, params?: Value[]): Promise<T[]>;
  get<T>(text: string, params?: Value[]): Promise<T | undefined>;
  /** Rows changed. */
  run(text: string, params?: Value[]): Promise<number>;
}

// Codes of a server going away or not there (admin shutdown, crash recovery, cannot connect now).
const UNAVAILABLE_CODES = new Set(['57P01', '57P02', '57P03', '08000', '08001', '08003', '08004', '08006']);
const NETWORK =
  /ECONNREFUSED|ECONNRESET|EPIPE|ETIMEDOUT|EHOSTUNREACH|ENOTFOUND|Connection terminated|connection timeout|Client has encountered a connection error|timeout exceeded when trying to connect/i;

function isUnavailable(err: unknown): boolean {
  const e = err as { code?: string; message?: string };
  return (e?.code !== undefined && UNAVAILABLE_CODES.has(e.code)) || NETWORK.test(e?.message ?? '');
}

/** PostgreSQL's error → the store's: a unique violation names the last column of the key, as SQLite's does. */
export function translate(err: unknown): unknown {
  const e = err as { code?: string; detail?: string };
  if (e?.code === '23505') {
    const columns = /Key \(([^)]*)\)/.exec(e.detail ?? '')?.[1]?.split(',') ?? [];
    return new UniqueViolation(columns.at(-1)?.trim() || 'unknown');
  }
  if (isUnavailable(err)) return new StoreUnavailable(err);
  return err;
}

export function sqlOn(client: pg.Pool | pg.PoolClient): Sql {
  const query = async (text: string, params: Value[] = []) => {
    try {
      return await client.query(text, params);
    } catch (err) {
      throw translate(err);
    }
  };
  return {
    all: async <T>(text: string, params?: Value[]) => (await query(text, params)).rows as T[],
    get: async <T>(text: string, params?: Value[]) => (await query(text, params)).rows[0] as T | undefined,
    run: async (text, params) => (await query(text, params)).rowCount ?? 0,
  };
}

/** BIGINT (seq, size) as a JavaScript number: every value the registry stores is below 2^53. */
export const TYPES = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === (pg.types.builtins.INT8 as number)
      ? (value: string) => Number(value)
      : (pg.types.getTypeParser(oid, format ?? 'text') as unknown)) as pg.CustomTypesConfig['getTypeParser'],
};
