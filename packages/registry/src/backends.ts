import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import type { BlobStore } from './blobs/blob-store.js';
import { LocalBlobStore } from './blobs/local/local-blob-store.js';
import { parseS3Url, s3Settings } from './blobs/s3/config.js';
import { SqliteStore } from './store/sqlite/sqlite-store.js';
import type { Store } from './store/store.js';

export interface BackendChoice {
  /** `postgres://…`; undefined: SQLite in the data dir. */
  databaseUrl?: string;
  /** `s3://bucket[/prefix]`; undefined: the data dir. */
  blobStore?: string;
  s3ForcePathStyle?: boolean;
}

export interface Backends {
  store: Store;
  blobs: BlobStore;
  /** PostgreSQL: several instances may share these records. */
  shared: boolean;
  /** For the startup line, without passwords. */
  records: string;
  content: string;
}

/** Why a choice cannot be used, naming the flag; undefined when it can. */
export function checkChoice(choice: BackendChoice): string | undefined {
  if (choice.databaseUrl !== undefined && !/^postgres(ql)?:\/\/\S+$/.test(choice.databaseUrl))
    return '--database-url must be a postgres://user:password@host:port/database URL';
  if (choice.blobStore !== undefined && !parseS3Url(choice.blobStore))
    return '--blob-store must be s3://bucket or s3://bucket/prefix (a valid bucket name)';
  return undefined;
}

/** The URL as it may be shown: no password. */
export function redactDatabaseUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return 'postgres://(unparsable URL)';
  }
}

export async function openBackends(
  choice: BackendChoice,
  dataDir: string,
  env: NodeJS.ProcessEnv,
  onDatabaseError: (err: Error) => void = () => undefined,
): Promise<Backends> {
  // PostgreSQL's driver and the AWS SDK load only when chosen: both cost ~20 MiB resident (bundled), a
  // third of what a registry on SQLite and a local directory needs in all.
  const store: Store = choice.databaseUrl
    ? await (
        await import('./store/pg/pg-store.js')
      ).PgStore.open({ url: choice.databaseUrl, onError: onDatabaseError })
    : new SqliteStore(join(dataDir, 'registry.db'));
  try {
    let blobs: BlobStore;
    let content: string;
    if (choice.blobStore) {
      const settings = s3Settings(env, choice.s3ForcePathStyle ?? false);
      const [{ S3BlobStore }, { s3Client }] = await Promise.all([
        import('./blobs/s3/s3-blob-store.js'),
        import('./blobs/s3/client.js'),
      ]);
      const s3 = new S3BlobStore(
        s3Client(settings),
        parseS3Url(choice.blobStore)!,
        store.multipartUploads,
        settings.endpoint,
      );
      await s3.ensureBucket();
      blobs = s3;
      content = `S3 ${s3.description}`;
    } else {
      blobs = await LocalBlobStore.open(dataDir);
      content = `local directory ${dataDir}`;
    }
    return {
      store,
      blobs,
      shared: choice.databaseUrl !== undefined,
      records: choice.databaseUrl
        ? `PostgreSQL ${redactDatabaseUrl(choice.databaseUrl)}`
        : `SQLite ${join(dataDir, 'registry.db')}`,
      content,
    };
  } catch (err) {
    await store.close();
    throw err;
  }
}

/**
 * Secrets every instance of a fleet must share, kept in the shared database (or given in the environment):
 * the API key, and the key of the registry's own presigned URLs.
 */
export async function sharedSecrets(
  store: Store,
  env: NodeJS.ProcessEnv,
): Promise<{ apiKey: string; generated: boolean; presignSecret: Buffer }> {
  const given = env.PERIDIO_REGISTRY_API_KEY?.trim();
  const fresh = `prk_${randomBytes(24).toString('base64url')}`;
  const apiKey = given || (await store.meta.setIfAbsent('api-key', fresh));
  const secret =
    env.PERIDIO_REGISTRY_PRESIGN_SECRET?.trim() ||
    (await store.meta.setIfAbsent('presign-secret', randomBytes(32).toString('hex')));
  const presignSecret = Buffer.from(secret, /^([0-9a-f]{2})+$/.test(secret) ? 'hex' : 'utf8');
  return { apiKey, generated: !given && apiKey === fresh, presignSecret };
}
