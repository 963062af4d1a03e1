/** A local webhook receiver for tests: records every request; can answer slowly, fail, or go away. */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Received {
  headers: IncomingMessage['headers'];
  raw: string;
  body: any;
  at: number;
}

export interface Receiver {
  url: string;
  port: number;
  received: Received[];
  /** Answer for the next requests: status, delay, or a custom handler. */
  behave(b: {
    status?: number;
    delayMs?: number;
    handle?: (req: IncomingMessage, res: ServerResponse) => void;
  }): void;
  down(): Promise<void>;
  up(): Promise<void>;
  waitFor(n: number, timeoutMs?: number, filter?: (r: Received) => boolean): Promise<Received[]>;
  close(): Promise<void>;
}

export async function startReceiver(port = 0): Promise<Receiver> {
  const received: Received[] = [];
  let behaviour: Parameters<Receiver['behave']>[0] = { status: 200 };
  let server: Server;
  const listen = (p: number) =>
    new Promise<number>((resolve, reject) => {
      server = createServer((req, res) => {
        const chunks: Buffer[] = [];
        req.on('data', (c: Buffer) => chunks.push(c));
        req.on('end', () => {
          const raw = Buffer.concat(chunks).toString('utf8');
          let body: unknown;
          try {
            body = JSON.parse(raw);
          } catch {
            body = undefined;
          }
          received.push({ headers: req.headers, raw, body, at: Date.now() });
          const b = behaviour;
          if (b.handle) return b.handle(req, res);
          setTimeout(() => {
            res.writeHead(b.status ?? 200, { 'content-type': 'text/plain' });
            res.end('ok');
          }, b.delayMs ?? 0);
        });
      });
      server.once('error', reject);
      server.listen(p, '127.0.0.1', () => resolve((server.address() as AddressInfo).port));
    });
  const actual = await listen(port);
  const close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return {
    url: `http://127.0.0.1:${actual}/hook`,
    port: actual,
    received,
    behave(b) {
      behaviour = b;
    },
    down: close,
    up: async () => void (await listen(actual)),
    async waitFor(n, timeoutMs = 15_000, filter = () => true) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const matching = received.filter(filter);
        if (matching.length >= n) return matching;
        if (Date.now() > deadline)
          throw new Error(`receiver got ${matching.length} of ${n} expected deliveries in ${timeoutMs} ms`);
        await new Promise((r) => setTimeout(r, 20));
      }
    },
    close,
  };
}

/** Independent of the registry's code: HMAC-SHA256, key = hex-decoded secret, over published-at ‖ body. */
export function signatureValid(secretHex: string, r: Received): boolean {
  const publishedAt = String(r.headers['peridio-published-at']);
  const expected = createHmac('sha256', Buffer.from(secretHex, 'hex'))
    .update(publishedAt + r.raw)
    .digest('hex')
    .toUpperCase();
  return String(r.headers['peridio-signature'])
    .split(',')
    .some((s) => s.length === expected.length && timingSafeEqual(Buffer.from(s), Buffer.from(expected)));
}
