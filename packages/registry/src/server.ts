import { createHash, timingSafeEqual } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { silentLogger, type Logger } from '@peridio-actions/core';
import type { BlobStore } from './blobs/blob-store.js';
import { LocalBlobStore } from './blobs/local/local-blob-store.js';
import type { RegistryContext } from './context.js';
import { Hasher } from './hasher.js';
import { detailError, HttpError, sendJson } from './http.js';
import { Janitor } from './janitor.js';
import { findBinary } from './lifecycle.js';
import { KeyedLock } from './lock.js';
import { Presigner } from './presign.js';
import { defaultReleaseDeps, releaseManagementRoutes, warnBinaryDestroyed } from './releases/index.js';
import { makeRequest, Router } from './router.js';
import { artifactVersionRoutes } from './routes/artifact-versions.js';
import { artifactRoutes } from './routes/artifacts.js';
import { binaryRoutes } from './routes/binaries.js';
import { downloadRoutes } from './routes/download.js';
import { consoleRoutes } from './routes/console.js';
import { partRoutes } from './routes/parts.js';
import { signatureRoutes } from './routes/signatures.js';
import { signingKeyRoutes } from './routes/signing-keys.js';
import { uploadRoutes } from './routes/uploads.js';
import { loadOrganization, loadPresignSecret } from './secrets.js';
import { SqliteStore } from './store/sqlite/sqlite-store.js';
import type { Store } from './store/store.js';

export interface RegistryOptions {
  dataDir: string;
  apiKey: string;
  /** Base of presigned URLs; default: `http://` + the request's Host header (so a proxy in front works). */
  publicUrl?: string;
  presignTtlSeconds?: number;
  /** Artificial delay before the server-side hash check, to exercise clients' polling. */
  hashingDelayMs?: number;
  logger?: Logger;
  /** Records; default: SQLite in <dataDir>/registry.db. The registry closes it. */
  store?: Store;
  /** Content; default: the local filesystem under dataDir. */
  blobs?: BlobStore;
}

export interface Registry {
  server: Server;
  context: RegistryContext;
  hasher: Hasher;
  listen(port: number, host?: string): Promise<{ url: string; port: number }>;
  /** Stops accepting, lets in-flight requests finish, stops hashing, closes the database. */
  close(): Promise<void>;
}

const digest = (value: string) => createHash('sha256').update(value).digest();

function authenticate(req: IncomingMessage, expected: Buffer): void {
  const match = /^(?:Token|Bearer)\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '');
  if (!match || !timingSafeEqual(digest(match[1]!), expected)) {
    throw new HttpError(401, {
      errors: {
        detail: "Unauthorized: send the registry's API key as 'Authorization: Token <key>' (or Bearer)",
      },
    });
  }
}

function checkApiVersion(req: IncomingMessage): void {
  const version = req.headers['x-api-version'];
  if (version !== undefined && version !== '1' && version !== '2') {
    throw detailError(400, `Unsupported x-api-version '${String(version)}'; this registry speaks 1 and 2`);
  }
}

/** The path for the request log: presigned query strings (the capability) are never logged. */
function loggablePath(url: string): string {
  const [path, query] = url.split('?', 2) as [string, string | undefined];
  if (path.includes('/_presigned/')) return query === undefined ? path : `${path}?***`;
  return url;
}

/** Parts that no binary in an upload state owns: left by a crash between two steps. */
async function sweepOrphanParts(ctx: RegistryContext): Promise<void> {
  for (const id of await ctx.blobs.partOwners()) {
    const binary = await findBinary(ctx, id);
    if (!binary || !['uploadable', 'hashable', 'hashing'].includes(binary.state))
      await ctx.blobs.removeParts(id);
  }
}

export async function createRegistry(options: RegistryOptions): Promise<Registry> {
  const logger = options.logger ?? silentLogger;
  mkdirSync(options.dataDir, { recursive: true });
  const store = options.store ?? new SqliteStore(join(options.dataDir, 'registry.db'));
  const blobs = options.blobs ?? (await LocalBlobStore.open(options.dataDir));
  const locks = new KeyedLock();
  const presigner = new Presigner(loadPresignSecret(options.dataDir), options.presignTtlSeconds ?? 3600);
  const publicUrl = options.publicUrl?.replace(/\/+$/, '');
  let hasher: Hasher;
  const context: RegistryContext = {
    store,
    blobs,
    locks,
    janitor: new Janitor(store, blobs, locks, logger),
    presigner,
    logger,
    org: await loadOrganization(store),
    publicUrl,
    enqueueHashing: (id) => hasher.enqueue(id),
    partValid: (id) => hasher.prefixes.partValid(id),
  };
  hasher = new Hasher(context, options.hashingDelayMs ?? 0);
  // What a crash left: content deletions not yet done, parts no upload owns.
  await context.janitor.sweep();
  await sweepOrphanParts(context);
  const releases = defaultReleaseDeps(context, logger);
  context.binaryDestroyed = (id) => warnBinaryDestroyed(releases, id);

  const router = new Router([
    ...artifactRoutes(context),
    ...artifactVersionRoutes(context),
    ...binaryRoutes(context),
    ...partRoutes(context),
    ...signatureRoutes(context),
    ...signingKeyRoutes(context),
    ...uploadRoutes(context),
    ...downloadRoutes(context),
    ...releaseManagementRoutes(releases),
    ...consoleRoutes(),
    {
      method: 'GET',
      pattern: '/health',
      auth: false,
      handler: () => ({ status: 200, body: { status: 'ok' } }),
    },
  ]);
  const apiKeyDigest = digest(options.apiKey);
  let listening = { host: '127.0.0.1', port: 0 };

  let shuttingDown = false;
  const inFlight = new Set<ServerResponse>();

  async function handle(req: IncomingMessage, res: ServerResponse) {
    const started = performance.now();
    const method = req.method ?? 'GET';
    inFlight.add(res);
    if (shuttingDown) res.setHeader('connection', 'close');
    res.on('close', () => {
      inFlight.delete(res);
      // Once shutting down, a connection whose last request just finished must not idle on keep-alive.
      if (shuttingDown) server.closeIdleConnections();
      const ms = Math.round(performance.now() - started);
      const status = res.writableFinished ? res.statusCode : `${res.statusCode} aborted`;
      logger.info(`request method=${method} path=${loggablePath(req.url ?? '/')} status=${status} ms=${ms}`);
    });
    try {
      // Not `new URL(...)`: it would read the SDK's `//binaries` as a host name.
      const [pathname, search = ''] = (req.url ?? '/').split('?', 2) as [string, string | undefined];
      const { route, params } = router.match(method, pathname);
      if (route.auth) {
        authenticate(req, apiKeyDigest);
        checkApiVersion(req);
      }
      const baseUrl = publicUrl ?? `http://${req.headers.host ?? `${listening.host}:${listening.port}`}`;
      const result = await route.handler(makeRequest(req, res, params, new URLSearchParams(search), baseUrl));
      if (result) sendJson(res, result.status, result.body, result.headers);
    } catch (err) {
      if (res.headersSent) {
        res.destroy();
        return;
      }
      if (err instanceof HttpError) {
        sendJson(res, err.status, err.body, err.headers);
      } else if ((err as NodeJS.ErrnoException)?.code === 'ERR_STREAM_PREMATURE_CLOSE' || req.destroyed) {
        res.destroy(); // the client went away mid-request
      } else {
        logger.error(`${method} ${loggablePath(req.url ?? '/')}: ${(err as Error)?.stack ?? String(err)}`);
        sendJson(res, 500, { errors: { detail: 'Internal Server Error' } });
      }
    }
  }

  const server = createServer({ requestTimeout: 3_600_000, headersTimeout: 60_000 }, (req, res) => {
    void handle(req, res);
  });
  await hasher.requeueInterrupted();

  let closing: Promise<void> | undefined;
  return {
    server,
    context,
    hasher,
    listen(port, host = '127.0.0.1') {
      return new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, host, () => {
          server.off('error', reject);
          const address = server.address() as AddressInfo;
          listening = { host, port: address.port };
          const shownHost = host.includes(':') ? `[${host}]` : host;
          resolve({ url: `http://${shownHost}:${address.port}`, port: address.port });
        });
      });
    },
    close() {
      closing ??= (async () => {
        shuttingDown = true;
        for (const res of inFlight) if (!res.headersSent) res.setHeader('connection', 'close');
        await new Promise<void>((resolve) => {
          if (!server.listening) return resolve();
          // In-flight requests finish; idle keep-alive connections are closed; stragglers get 30 s.
          const force = setTimeout(() => server.closeAllConnections(), 30_000);
          server.close(() => {
            clearTimeout(force);
            resolve();
          });
          server.closeIdleConnections();
        });
        await hasher.close();
        await store.close();
      })();
      return closing;
    },
  };
}
