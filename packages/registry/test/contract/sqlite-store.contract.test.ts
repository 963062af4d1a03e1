import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import '../quiet-sqlite.js';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { describeAccessStoreContract } from './access-store-contract.js';
import { describeStoreContract } from './store-contract.js';

const sqliteStore = async () => {
  const dir = mkdtempSync(join(tmpdir(), 'store-contract-'));
  const store = new SqliteStore(join(dir, 'registry.db'));
  return {
    store,
    async cleanup() {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
};
describeStoreContract('SQLite', sqliteStore);
describeAccessStoreContract('SQLite', sqliteStore);

describe('SqliteStore', () => {
  it('refuses a call to the outer store from inside a transaction instead of waiting for itself', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'store-reentry-'));
    const store = new SqliteStore(join(dir, 'registry.db'));
    try {
      await expect(store.transaction(async () => store.meta.get('organization'))).rejects.toThrow(
        /inside a transaction/,
      );
      expect(await store.meta.get('organization')).toBeUndefined();
    } finally {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
