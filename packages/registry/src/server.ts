import type { X509Certificate } from 'node:crypto';
import { randomUUID } from 'node:crypto';
import { chmodSync, mkdirSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { silentLogger, type Logger } from '@peridio-actions/core/base';
import { AccessLayer } from './access/layer.js';
import { EventWriter } from './audit/event-writer.js';
import { ContentUnavailable, type BlobStore, type DirectUploads } from './blobs/blob-store.js';
import { LocalBlobStore } from './blobs/local/local-blob-store.js';
import type { RegistryContext } from './context.js';
import { Hasher } from './hasher.js';
import { detailError, HttpError, sendJson, setBodyTimeout } from './http.js';
import { Janitor } from './janitor.js';
import { findBinary } from './lifecycle.js';
import { KeyedLock } from './lock.js';
import { Presigner } from './presign.js';
import { defaultReleaseDeps, releaseManagementRoutes, warnBinaryDestroyed } from './releases/index.js';
import { makeRequest, Router, type Route } from './router.js';
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
import { StoreFeatureMissing, StoreUnavailable, type Store } from './store/store.js';

export interface RegistryOptions {
  dataDir: string;
  apiKey: string;
  /** Base of presigned URLs; default: `http://` + the request's Host header (so a proxy in front works). */
  publicUrl?: string;
  presignTtlSeconds?: number;
  /** Artificial delay before the server-side hash check, to exercise clients' polling. */
  hashingDelayMs?: number;
  /** Trusted CAs of certificate signing keys (`--signing-ca`). */
  signingCas?: X509Certificate[];
  /** A connection that sends nothing for this long is closed (a slow upload that keeps moving is not). */
  idleTimeoutMs?: number;
  /** A JSON request body must have arrived in full this long after the request began. */
  bodyTimeoutMs?: number;
  /** Connections beyond this many are refused (closed on accept). */
  maxConnections?: number;
  logger?: Logger;
  /** Records; default: SQLite in <dataDir>/registry.db. The registry closes it. */
  store?: Store;
  /** Content; default: the local filesystem under dataDir. */
  blobs?: BlobStore;
  /**
   * Several instances share the store (PostgreSQL): look for background work other instances left (a hash
   * check whose instance died) and sweep abandoned uploads, each under a lease.
   */
  shared?: boolean;
  /** Lease of background work (default 30 s); another instance takes over this long after a death. */
  leaseMs?: number;
  /** Key of the registry's own presigned URLs; default: <dataDir>/presign-secret. Shared instances share it. */
  presignSecret?: Buffer;
  /** Direct stores: multipart uploads older than this are aborted (default 24 h). */
  abandonedUploadAgeMs?: number;
  /** Lets webhooks use http:// URLs (local tests); https:// only otherwise. */
  allowInsecureWebhooks?: boolean;
  /** Webhook delivery timing (tests shorten the backoff). */
  webhookDispatch?: ConstructorParameters<typeof AccessLayer>[3]['webhookDispatch'];
}

export interface Registry {
  server: Server;
  context: RegistryContext;
  hasher: Hasher;
  /** Every route served (tests walk them against the access table). */
  routes: readonly Route[];
  listen(port: number, host?: string): Promise<{ url: string; port: number }>;
  /** Stops accepting, lets in-flight requests finish, stops hashing, closes the database. */
  close(): Promise<void>;
}

const DEFAULT_IDLE_TIMEOUT_MS = 60_000;
const DEFAULT_BODY_TIMEOUT_MS = 30_000;
const DEFAULT_MAX_CONNECTIONS = 256;

/** `host`, `host:port`, `[v6]` or `[v6]:port`: nothing that could change a URL built from it. */
const HOST_HEADER =
  /^(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\.?|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?$/;

/** The base of presigned URLs when no --public-url is set: taken from Host, which the client controls. */
function baseUrlFromHost(req: IncomingMessage, fallback: string): string {
  const host = req.headers.host;
  if (host === undefined) return `http://${fallback}`;
  if (!HOST_HEADER.test(host))
    throw detailError(
      400,
      'Host header must be host[:port]; set --public-url when behind a proxy that rewrites it',
    );
  return `http://${host}`;
}

/** A request whose body was not read to its end: answering it must close the connection. */
function bodyUnread(req: IncomingMessage): boolean {
  if (req.complete) return false;
  return Number(req.headers['content-length'] ?? 0) > 0 || req.headers['transfer-encoding'] !== undefined;
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

/**
 * Aborts multipart uploads nobody finished within the age (a client gave up, a binary deleted while a
 * crash kept its garbage), under a lease so one instance sweeps at a time.
 */
function startUploadSweeper(ctx: RegistryContext, direct: DirectUploads, ageMs: number): NodeJS.Timeout {
  const sweep = async () => {
    const lease = 'sweep:abandoned-uploads';
    if (!(await ctx.store.leases.claim(lease, ctx.instanceId, 10 * 60_000))) return;
    try {
      const aborted = await direct.sweepAbandoned(ageMs);
      if (aborted > 0)
        ctx.logger.info(`aborted ${aborted} abandoned multipart upload(s) older than ${ageMs} ms`);
    } finally {
      await ctx.store.leases.release(lease, ctx.instanceId);
    }
  };
  const run = () =>
    void sweep().catch((err: unknown) =>
      ctx.logger.warning(`upload sweep failed: ${(err as Error).message}`),
    );
  run();
  const timer = setInterval(run, Math.min(Math.max(ageMs / 4, 1000), 10 * 60_000));
  timer.unref();
  return timer;
}

export async function createRegistry(options: RegistryOptions): Promise<Registry> {
  const logger = options.logger ?? silentLogger;
  // Records, content and secrets are the operator's alone: the data dir is 0700 whatever the umask.
  mkdirSync(options.dataDir, { recursive: true, mode: 0o700 });
  chmodSync(options.dataDir, 0o700);
  // Checked before anything is opened, so a refused secret leaves no database handle behind.
  const presigner = new Presigner(
    options.presignSecret ?? loadPresignSecret(options.dataDir),
    options.presignTtlSeconds ?? 3600,
  );
  const store = options.store ?? new SqliteStore(join(options.dataDir, 'registry.db'));
  const blobs: BlobStore = options.blobs ?? (await LocalBlobStore.open(options.dataDir));
  const locks = new KeyedLock();
  const instanceId = randomUUID();
  const leaseMs = options.leaseMs ?? 30_000;
  const publicUrl = options.publicUrl?.replace(/\/+$/, '');
  let hasher: Hasher;
  const context: RegistryContext = {
    store,
    blobs,
    locks,
    janitor: new Janitor(store, blobs, locks, logger, options.shared ? instanceId : undefined),
    instanceId,
    presigner,
    logger,
    org: await loadOrganization(store),
    publicUrl,
    signingCas: options.signingCas ?? [],
    enqueueHashing: (id) => hasher.enqueue(id),
    partValid: (id) => hasher.prefixes.partValid(id),
  };
  hasher = new Hasher(context, {
    delayMs: options.hashingDelayMs ?? 0,
    leaseMs,
    shared: options.shared ?? false,
  });
  // What a crash left: content deletions not yet done, parts no upload owns.
  await context.janitor.sweep();
  if (!blobs.direct) await sweepOrphanParts(context);
  const sweeper = blobs.direct
    ? startUploadSweeper(context, blobs.direct, options.abandonedUploadAgeMs ?? 24 * 3600_000)
    : undefined;
  // One group commit for every event a request records (the audit trail's, the update check's).
  const events = new EventWriter(store.accessStore(context.org), () => access.dispatcher.wake());
  const releases = defaultReleaseDeps(context, logger, events);
  context.binaryDestroyed = (id) => warnBinaryDestroyed(releases, id);

  const access = new AccessLayer(context, releases.store, events, {
    bootstrapKey: options.apiKey,
    allowInsecureWebhooks: options.allowInsecureWebhooks,
    webhookDispatch: options.webhookDispatch,
    sharedLeaseMs: options.shared ? leaseMs : undefined,
  });
  const routes = access.seal([
    ...access.routes,
    ...artifactRoutes(context),
    ...artifactVersionRoutes(context),
    ...binaryRoutes(context),
    ...partRoutes(context),
    ...signatureRoutes(context),
    ...signingKeyRoutes(context),
    // The registry's own content URLs; a direct store hands out its own and never sends bytes here.
    ...(blobs.direct ? [] : [...uploadRoutes(context), ...downloadRoutes(context)]),
    ...releaseManagementRoutes(releases),
    ...consoleRoutes(),
    {
      method: 'GET',
      pattern: '/health',
      auth: false,
      handler: () => ({ status: 200, body: { status: 'ok' } }),
    },
  ]);
  const router = new Router(routes);
  let listening = { host: '127.0.0.1', port: 0 };

  let shuttingDown = false;
  const inFlight = new Set<ServerResponse>();

  async function handle(req: IncomingMessage, res: ServerResponse) {
    const started = performance.now();
    const method = req.method ?? 'GET';
    const requestId = randomUUID();
    res.setHeader('x-request-id', requestId);
    setBodyTimeout(req, bodyTimeoutMs);
    inFlight.add(res);
    if (shuttingDown) res.setHeader('connection', 'close');
    res.on('close', () => {
      inFlight.delete(res);
      // Once shutting down, a connection whose last request just finished must not idle on keep-alive.
      if (shuttingDown) server.closeIdleConnections();
      const ms = Math.round(performance.now() - started);
      const status = res.writableFinished ? res.statusCode : `${res.statusCode} aborted`;
      logger.info(
        `request method=${method} path=${loggablePath(req.url ?? '/')} status=${status} ms=${ms} id=${requestId}`,
      );
    });
    try {
      // Not `new URL(...)`: it would read the SDK's `//binaries` as a host name.
      const [pathname, search = ''] = (req.url ?? '/').split('?', 2) as [string, string | undefined];
      const { route, params } = router.match(method, pathname);
      const actor = route.auth ? await access.authenticate(req) : undefined;
      if (route.auth) checkApiVersion(req);
      const baseUrl = publicUrl ?? baseUrlFromHost(req, `${listening.host}:${listening.port}`);
      const request = makeRequest(req, res, params, new URLSearchParams(search), baseUrl);
      const result = await access.run(route, request, actor);
      if (result) sendJson(res, result.status, result.body, result.headers);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException)?.code;
      // Only the socket says whether the client went away: on Node 24 `req.destroyed` is already true once
      // the body has been read, which used to turn every later error into a silent drop.
      const clientGone =
        code === 'ERR_STREAM_PREMATURE_CLOSE' || code === 'ECONNRESET' || req.socket.destroyed;
      if (err instanceof HttpError && !res.headersSent) {
        // An unauthenticated body is not drained: the connection closes after the 401. Other refusals (an
        // expired part URL) are drained as usual, so that a client still sending sees the answer, not a reset.
        const close: Record<string, string> =
          err.status === 401 && bodyUnread(req) ? { connection: 'close' } : {};
        sendJson(res, err.status, err.body, { ...close, ...err.headers });
        return;
      }
      if (clientGone) {
        res.destroy();
        return;
      }
      if (err instanceof StoreFeatureMissing && !res.headersSent) {
        sendJson(res, 501, { errors: { detail: `Not Implemented: ${err.message}` } });
        return;
      }
      if ((err instanceof StoreUnavailable || err instanceof ContentUnavailable) && !res.headersSent) {
        // Nothing was recorded: the client may retry, and should once the backend is back.
        logger.warning(
          `request id=${requestId} ${method} ${loggablePath(req.url ?? '/')}: 503: ${err.message}`,
        );
        const what = err instanceof StoreUnavailable ? 'database' : 'content store';
        sendJson(
          res,
          503,
          {
            errors: {
              detail: `Service Unavailable: the registry's ${what} cannot be reached; retry shortly`,
            },
          },
          { 'retry-after': '1', ...(bodyUnread(req) ? { connection: 'close' } : {}) },
        );
        return;
      }
      logger.error(
        `request id=${requestId} ${method} ${loggablePath(req.url ?? '/')}: ${(err as Error)?.stack ?? String(err)}`,
      );
      if (res.headersSent) {
        res.destroy(); // the answer has begun: cutting it short is the only way to say it failed
        return;
      }
      sendJson(
        res,
        500,
        { errors: { detail: `Internal Server Error (request id ${requestId})` } },
        bodyUnread(req) ? { connection: 'close' } : undefined,
      );
    }
  }

  const bodyTimeoutMs = options.bodyTimeoutMs ?? DEFAULT_BODY_TIMEOUT_MS;
  const server = createServer({ requestTimeout: 3_600_000, headersTimeout: 60_000 }, (req, res) => {
    void handle(req, res);
  });
  // No 'timeout' listener: Node destroys a socket that has been silent this long (mid-body or idle).
  server.setTimeout(options.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS);
  server.maxConnections = options.maxConnections ?? DEFAULT_MAX_CONNECTIONS;
  await hasher.requeueInterrupted();

  let closing: Promise<void> | undefined;
  return {
    server,
    context,
    hasher,
    routes,
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
        clearInterval(sweeper);
        await hasher.close();
        await access.close();
        await store.close();
      })();
      return closing;
    },
  };
}
