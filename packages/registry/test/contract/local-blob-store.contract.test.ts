import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalBlobStore } from '../../src/blobs/local/local-blob-store.js';
import { describeBlobStoreContract } from './blob-store-contract.js';

describeBlobStoreContract('local directory', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'blob-contract-'));
  return {
    blobs: await LocalBlobStore.open(dir),
    async cleanup() {
      rmSync(dir, { recursive: true, force: true });
    },
  };
});
