/**
 * An HTTP proxy the reliability tests put between the bundled actions and the registry process, to
 * inject the failures real networks produce at exact points of an upload. It streams both ways (never
 * buffers a part) and counts the body bytes of every request, so a test can tell which parts were sent
 * again after a failure. The Host header is forwarded unchanged: the registry builds presigned URLs from
 * it, so part uploads come back through the proxy too.
 */
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export type FaultAction =
  /** Forward this many request-body bytes, then reset both connections (client sees ECONNRESET). */
  | { kind: 'reset-mid-body'; afterBytes: number }
  /**
   * Forward this many request-body bytes, then stop reading: await `onHold` (e.g. kill the upstream
   * there) and `ms`, then go on. The way to act while an upstream holds a partial body.
   */
  | { kind: 'hold-mid-body'; afterBytes: number; ms?: number; onHold?: () => void | Promise<void> }
  /** Forward the whole request and let the upstream answer, then drop the client without a response. */
  | { kind: 'close-before-response' }
  /** Forward the request, then hold the upstream response for `ms` (forever when omitted). */
  | { kind: 'stall-response'; ms?: number }
  /**
   * Answer without forwarding (the body is read and discarded first, as a real front end would). `body`
   * is sent as JSON, or as is when a string (set `content-type` in `headers` then, e.g. S3's XML).
   */
  | { kind: 'status'; status: number; headers?: Record<string, string>; body?: unknown }
  /** Wait `ms` before forwarding. */
  | { kind: 'delay'; ms: number }
  /** Forward normally: the rule exists for its `onFire` hook or to count matches. */
  | { kind: 'pass' };

export interface FaultRule {
  /** Any method when omitted. */
  method?: string;
  /** Matched against the request target (path + query). */
  path: RegExp;
  /** 1-based: the rule fires from the nth request it matches (default 1). */
  nth?: number;
  /** How many consecutive matching requests it fires for (default 1; Infinity for all). */
  times?: number;
  action: FaultAction;
  /** Awaited when the rule fires, before its action: lets a test change the world at an exact moment. */
  onFire?: (request: RecordedRequest) => void | Promise<void>;
}

export interface RuleHandle {
  /** Requests that matched method + path. */
  readonly matched: number;
  /** Requests the rule acted on. */
  readonly fired: number;
  remove(): void;
}

export interface RecordedRequest {
  method: string;
  path: string;
  /** Status sent to the client; absent when the client got no response. */
  status?: number;
  /** Request-body bytes received from the client. */
  bytesIn: number;
  /** Request-body bytes passed on to the upstream. */
  bytesForwarded: number;
  /** The fault applied, if any. */
  fault?: FaultAction['kind'];
  /** Why the exchange ended without a normal response (upstream error, client gone). */
  error?: string;
  startedAt: number;
  durationMs?: number;
}

export interface FaultProxy {
  url: string;
  setTarget(url: string): void;
  addRule(rule: FaultRule): RuleHandle;
  clearRules(): void;
  stats: { requests: RecordedRequest[] };
  close(): Promise<void>;
}

// Hop-by-hop headers belong to one connection, not to the message.
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'upgrade', 'te', 'trailer']);

function endToEndHeaders(headers: http.IncomingHttpHeaders): http.OutgoingHttpHeaders {
  const out: http.OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined && !HOP_BY_HOP.has(name)) out[name] = value;
  }
  return out;
}

interface ActiveRule {
  rule: FaultRule;
  matched: number;
  fired: number;
}

export async function startFaultProxy(options: { target: string }): Promise<FaultProxy> {
  let target = new URL(options.target);
  let rules: ActiveRule[] = [];
  const requests: RecordedRequest[] = [];
  const sockets = new Set<Socket>();
  const upstreams = new Set<http.ClientRequest>();
  // Keep-alive upstream, as a direct client would be: with `Connection: close` a server that answers
  // early (an expired URL refused before the body is read) closes on the unsent body, and the client would
  // see a reset the real registry never causes.
  const upstreamAgent = new http.Agent({ keepAlive: true });

  function pickRule(method: string, path: string): ActiveRule | undefined {
    let chosen: ActiveRule | undefined;
    for (const active of rules) {
      const { rule } = active;
      if (rule.method && rule.method.toUpperCase() !== method) continue;
      if (!rule.path.test(path)) continue;
      active.matched += 1;
      const first = rule.nth ?? 1;
      const last = first + (rule.times ?? 1) - 1;
      if (!chosen && active.matched >= first && active.matched <= last) chosen = active;
    }
    if (chosen) chosen.fired += 1;
    return chosen;
  }

  function forward(
    req: http.IncomingMessage,
    res: http.ServerResponse,
    record: RecordedRequest,
    fault?: FaultAction,
  ): void {
    const upstream = http.request({
      protocol: target.protocol,
      hostname: target.hostname,
      port: target.port,
      method: req.method,
      path: req.url,
      headers: endToEndHeaders(req.headers),
      agent: upstreamAgent,
    });
    upstreams.add(upstream);
    upstream.on('close', () => {
      upstreams.delete(upstream);
      if (responded && !req.destroyed) req.resume();
    });
    const limit =
      fault?.kind === 'reset-mid-body' || fault?.kind === 'hold-mid-body' ? fault.afterBytes : Infinity;
    let reset = false;
    let limitReached = false;
    let responded = false;
    let bodyDone = false;
    // Body bytes dropped after an early answer: the upstream connection must not be reused then.
    let truncated = false;

    const resetBoth = (): void => {
      reset = true;
      record.error = 'reset by proxy';
      req.socket.resetAndDestroy();
      upstream.destroy();
    };
    // Runs `then` once what was written has left, so the upstream really holds the partial body.
    const afterFlush = (flushed: boolean, then: () => void): void => {
      if (flushed) then();
      else upstream.once('drain', then);
    };
    const hold = async (rest: Buffer): Promise<void> => {
      if (fault?.kind !== 'hold-mid-body') return;
      try {
        await fault.onHold?.();
      } catch (err) {
        record.error = `onHold hook failed: ${String(err)}`;
      }
      if (fault.ms) await new Promise((resolve) => setTimeout(resolve, fault.ms));
      if (upstream.destroyed || req.destroyed) return;
      record.bytesForwarded += rest.length;
      afterFlush(rest.length === 0 || upstream.write(rest), () => req.resume());
    };

    req.on('data', (chunk: Buffer) => {
      if (reset) return;
      record.bytesIn += chunk.length;
      // The upstream already answered (early, e.g. refusing an expired URL): read and drop the rest, as
      // the server would, so the client's connection stays usable for its next request.
      if (upstream.destroyed || responded) {
        truncated = true;
        return;
      }
      const room = limit - record.bytesForwarded;
      if (limitReached) {
        // Past the hold point: plain forwarding.
        record.bytesForwarded += chunk.length;
        if (!upstream.write(chunk)) {
          req.pause();
          upstream.once('drain', () => req.resume());
        }
        return;
      }
      const piece = chunk.length > room ? chunk.subarray(0, room) : chunk;
      record.bytesForwarded += piece.length;
      const flushed = piece.length === 0 || upstream.write(piece);
      if (record.bytesForwarded >= limit) {
        limitReached = true;
        req.pause();
        if (fault?.kind === 'reset-mid-body') afterFlush(flushed, resetBoth);
        else afterFlush(flushed, () => void hold(chunk.subarray(piece.length)));
      } else if (!flushed) {
        req.pause();
        upstream.once('drain', () => req.resume());
      }
    });
    req.on('end', () => {
      bodyDone = true;
      if (reset || truncated || upstream.destroyed) return;
      if (limit === 0 && fault?.kind === 'reset-mid-body') resetBoth();
      else upstream.end();
    });
    // A client that gives up (its own timeout) must not leave the upstream exchange running.
    res.on('close', () => {
      if (!res.writableFinished) {
        record.error ??= 'client closed';
        upstream.destroy();
      }
      record.durationMs ??= Date.now() - record.startedAt;
    });

    upstream.on('error', (err) => {
      // An upstream that answered before reading the whole body may close on the rest: its answer stands.
      if (responded) return;
      if (reset || res.headersSent) {
        res.destroy();
        return;
      }
      // Without a proxy the client would see its connection fail; keep the proxy transparent.
      record.error ??= `upstream: ${(err as NodeJS.ErrnoException).code ?? err.message}`;
      req.socket.resetAndDestroy();
    });

    upstream.on('response', (upRes) => {
      responded = true;
      if (!bodyDone) {
        req.resume();
        upRes.on('end', () => {
          if (truncated || !bodyDone) upstream.destroy();
        });
      }
      if (fault?.kind === 'close-before-response') {
        record.error = 'closed by proxy before response';
        upRes.resume();
        upRes.on('end', () => req.socket.destroy());
        return;
      }
      const relay = (): void => {
        if (res.destroyed) {
          upRes.destroy();
          return;
        }
        record.status = upRes.statusCode;
        res.writeHead(upRes.statusCode ?? 502, endToEndHeaders(upRes.headers));
        upRes.pipe(res);
      };
      if (fault?.kind !== 'stall-response') return relay();
      if (fault.ms === undefined) {
        record.error = 'stalled by proxy';
        res.on('close', () => upRes.destroy());
        return;
      }
      const timer = setTimeout(relay, fault.ms);
      res.on('close', () => clearTimeout(timer));
    });
  }

  function answer(
    req: http.IncomingMessage,
    res: http.ServerResponse,
    record: RecordedRequest,
    fault: Extract<FaultAction, { kind: 'status' }>,
  ): void {
    req.on('data', (chunk: Buffer) => (record.bytesIn += chunk.length));
    req.on('end', () => {
      const body =
        typeof fault.body === 'string'
          ? fault.body
          : JSON.stringify(fault.body ?? { errors: { detail: http.STATUS_CODES[fault.status] } });
      record.status = fault.status;
      res.writeHead(fault.status, {
        'content-type': 'application/json',
        'content-length': Buffer.byteLength(body),
        ...fault.headers,
      });
      res.end(body);
    });
    res.on('close', () => (record.durationMs ??= Date.now() - record.startedAt));
  }

  const server = http.createServer((req, res) => {
    const method = req.method ?? 'GET';
    const path = req.url ?? '/';
    const record: RecordedRequest = { method, path, bytesIn: 0, bytesForwarded: 0, startedAt: Date.now() };
    requests.push(record);
    const active = pickRule(method, path);
    if (!active) return forward(req, res, record);
    const fault = active.rule.action;
    record.fault = fault.kind;
    // Hold the body until the hook and any delay are done, so nothing is read or forwarded early.
    req.pause();
    void (async () => {
      try {
        await active.rule.onFire?.(record);
      } catch (err) {
        record.error = `onFire hook failed: ${String(err)}`;
        req.socket.destroy();
        return;
      }
      if (fault.kind === 'delay') await new Promise((resolve) => setTimeout(resolve, fault.ms));
      if (req.socket.destroyed) return;
      req.resume();
      if (fault.kind === 'status') answer(req, res, record, fault);
      else forward(req, res, record, fault);
    })();
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  // The default 5 s keep-alive timeout could cut an idle pooled connection just as a client reuses it,
  // a fault nobody asked for.
  server.keepAliveTimeout = 60_000;

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    setTarget(url) {
      target = new URL(url);
    },
    addRule(rule) {
      const active: ActiveRule = { rule, matched: 0, fired: 0 };
      rules.push(active);
      return {
        get matched() {
          return active.matched;
        },
        get fired() {
          return active.fired;
        },
        remove() {
          rules = rules.filter((r) => r !== active);
        },
      };
    },
    clearRules() {
      rules = [];
    },
    stats: { requests },
    async close() {
      for (const upstream of upstreams) upstream.destroy();
      for (const socket of sockets) socket.destroy();
      upstreamAgent.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Body bytes the proxy received for requests whose path matches (e.g. part uploads). */
export function bytesSent(proxy: FaultProxy, method: string, path: RegExp): number {
  return proxy.stats.requests
    .filter((r) => r.method === method && path.test(r.path))
    .reduce((sum, r) => sum + r.bytesIn, 0);
}
