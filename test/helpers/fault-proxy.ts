/**
 * An HTTP proxy the reliability tests put between the bundled actions and the registry process, to
 * inject the failures real networks produce at exact points of an upload. It streams both ways (never
 * buffers a part) and counts the body bytes of every request, so a test can tell which parts were sent
 * again after a failure. The Host header is forwarded unchanged: the registry builds presigned URLs from
 * it, so part uploads come back through the proxy too.
 */
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import {
  endToEndHeaders,
  RuleSet,
  type FaultAction,
  type FaultProxy,
  type RecordedRequest,
} from './fault-rules.js';

export type { FaultAction, FaultProxy, RuleHandle } from './fault-rules.js';

export async function startFaultProxy(options: { target: string }): Promise<FaultProxy> {
  let target = new URL(options.target);
  const rules = new RuleSet();
  const requests: RecordedRequest[] = [];
  const sockets = new Set<Socket>();
  const upstreams = new Set<http.ClientRequest>();
  // Keep-alive upstream, as a direct client would be: with `Connection: close` a server that answers
  // early (an expired URL refused before the body is read) closes on the unsent body, and the client would
  // see a reset the real registry never causes.
  let upstreamAgent = new http.Agent({ keepAlive: true });

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
        if (fault?.kind !== 'cut-response') {
          upRes.pipe(res);
          return;
        }
        let sent = 0;
        upRes.on('data', (chunk: Buffer) => {
          const room = fault.afterBytes - sent;
          if (room <= 0) return;
          const piece = chunk.length > room ? chunk.subarray(0, room) : chunk;
          sent += piece.length;
          if (sent < fault.afterBytes) return void res.write(piece);
          record.error = 'response cut by proxy';
          res.write(piece, () => {
            res.socket?.destroy();
            upRes.destroy();
          });
        });
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
    const rule = rules.pick(method, path);
    if (!rule) return forward(req, res, record);
    const fault = rule.action;
    record.fault = fault.kind;
    // Hold the body until the hook and any delay are done, so nothing is read or forwarded early.
    req.pause();
    void (async () => {
      try {
        await rule.onFire?.(record);
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
      // Pooled connections belong to the old upstream (typically a killed process): never reuse them.
      upstreamAgent.destroy();
      upstreamAgent = new http.Agent({ keepAlive: true });
    },
    addRule: (rule) => rules.add(rule),
    clearRules: () => rules.clear(),
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
