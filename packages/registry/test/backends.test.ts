import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import './quiet-sqlite.js';
import { checkChoice, redactDatabaseUrl, sharedSecrets } from '../src/backends.js';
import { parseS3Url, s3Settings } from '../src/blobs/s3/config.js';
import { SqliteStore } from '../src/store/sqlite/sqlite-store.js';

describe('choosing backends', () => {
  it('parses s3://bucket[/prefix] and refuses what is not one', () => {
    expect(parseS3Url('s3://firmware')).toEqual({ bucket: 'firmware', prefix: '' });
    expect(parseS3Url('s3://firmware/a/b/')).toEqual({ bucket: 'firmware', prefix: 'a/b/' });
    expect(parseS3Url('s3://Bad_Bucket')).toBeUndefined();
    expect(parseS3Url('https://firmware')).toBeUndefined();
    expect(checkChoice({ blobStore: 'firmware' })).toMatch(/--blob-store must be s3:\/\/bucket/);
    expect(checkChoice({ databaseUrl: 'mysql://x' })).toMatch(/--database-url must be a postgres:\/\//);
    expect(
      checkChoice({ databaseUrl: 'postgres://u:p@h:5432/d', blobStore: 's3://bucket/p' }),
    ).toBeUndefined();
  });

  it('never shows the database password', () => {
    expect(redactDatabaseUrl('postgres://reg:s3cret@db:5432/registry')).toBe(
      'postgres://reg:***@db:5432/registry',
    );
    expect(redactDatabaseUrl('postgres://reg@db/registry')).toBe('postgres://reg@db/registry');
  });

  it('reads endpoint, region and keys from the standard AWS variables', () => {
    const s = s3Settings(
      {
        AWS_ENDPOINT_URL: 'http://a',
        AWS_ENDPOINT_URL_S3: 'http://s3',
        AWS_REGION: 'eu-west-1',
        AWS_ACCESS_KEY_ID: 'k',
        AWS_SECRET_ACCESS_KEY: 's',
      },
      true,
    );
    expect(s).toEqual({
      endpoint: 'http://s3',
      region: 'eu-west-1',
      forcePathStyle: true,
      credentials: { accessKeyId: 'k', secretAccessKey: 's' },
    });
    expect(s3Settings({ AWS_ENDPOINT_URL: 'http://a' }, false)).toEqual({
      endpoint: 'http://a',
      region: 'us-east-1',
      forcePathStyle: false,
    });
  });

  it('keeps the API key and presign secret in the shared database: every instance gets the same', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'secrets-'));
    const store = new SqliteStore(join(dir, 'registry.db'));
    try {
      const first = await sharedSecrets(store, {});
      const second = await sharedSecrets(store, {});
      expect(first.generated).toBe(true);
      expect(second).toEqual({ ...first, generated: false });
      expect(first.apiKey).toMatch(/^prk_/);
      expect(first.presignSecret).toHaveLength(32);
      const given = await sharedSecrets(store, { PERIDIO_REGISTRY_API_KEY: 'prk_given' });
      expect(given).toMatchObject({ apiKey: 'prk_given', generated: false });
    } finally {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
