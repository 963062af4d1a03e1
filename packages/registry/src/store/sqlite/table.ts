import type { ListQuery, Page } from '../store.js';
import type { Database } from './database.js';
import { listTable, type COLUMNS } from './list.js';

type Value = string | number | null;

/** The record operations every table keyed by a UUID `id` shares. */
export function table<T>(db: Database, name: keyof typeof COLUMNS) {
  const byId = (id: string) => db.get<T>(`SELECT * FROM ${name} WHERE id = ?`, id)!;
  return {
    list: async (query: ListQuery): Promise<Page<T>> => listTable<T>(db, name, query),
    find: async (org: string, id: string) =>
      db.get<T>(`SELECT * FROM ${name} WHERE id = ? AND org = ?`, id, org),
    idTaken: async (id: string) => db.get(`SELECT 1 FROM ${name} WHERE id = ?`, id) !== undefined,
    async insert(row: object): Promise<T> {
      const entries = Object.entries(row) as [string, Value][];
      db.run(
        `INSERT INTO ${name} (${entries.map(([k]) => k).join(', ')}) VALUES (${entries.map(() => '?').join(', ')})`,
        ...entries.map(([, v]) => v),
      );
      return byId((row as { id: string }).id);
    },
    /** Sets the given fields; undefined ones keep their value. */
    async update(id: string, changes: object): Promise<T> {
      const entries = (Object.entries(changes) as [string, Value | undefined][]).filter(
        ([, v]) => v !== undefined,
      );
      db.run(
        `UPDATE ${name} SET ${entries.map(([k]) => `${k} = ?`).join(', ')} WHERE id = ?`,
        ...entries.map(([, v]) => v!),
        id,
      );
      return byId(id);
    },
    async delete(id: string): Promise<void> {
      db.run(`DELETE FROM ${name} WHERE id = ?`, id);
    },
  };
}
