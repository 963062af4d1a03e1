/**
 * A scripted Admin API on 127.0.0.1: each test queues the answers, and every request is recorded with
 * its raw URL, headers and body, so tests assert on what actually went over the wire.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

interface RecordedRequest {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  rawHeaders: string[];
  body: string;
}

type Reply =
  | { status: number; json?: unknown; text?: string; headers?: Record<string, string> }
  /** Never answer (the client must time out). */
  | { hang: true }
  /** Destroy the socket without answering (the client sees a reset). */
  | { reset: true }
  /** Send the headers and part of a JSON body, then nothing more. */
  | { stallBody: true };

export interface StubServer {
  url: string;
  requests: RecordedRequest[];
  /** Answers the next requests in order; when the queue is empty, `fallback` answers. */
  reply(...replies: Reply[]): void;
  fallback: (req: RecordedRequest) => Reply;
  close(): Promise<void>;
}

export async function startStub(): Promise<StubServer> {
  const queue: Reply[] = [];
  const requests: RecordedRequest[] = [];
  const sockets = new Set<import('node:net').Socket>();
  const stub: StubServer = {
    url: '',
    requests,
    reply: (...replies) => void queue.push(...replies),
    fallback: () => ({ status: 500, json: { errors: { detail: 'no reply queued' } } }),
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const recorded: RecordedRequest = {
        method: req.method ?? '',
        url: req.url ?? '',
        headers: req.headers,
        rawHeaders: req.rawHeaders,
        body: Buffer.concat(chunks).toString('utf8'),
      };
      requests.push(recorded);
      const reply = queue.shift() ?? stub.fallback(recorded);
      if ('hang' in reply) return;
      if ('reset' in reply) return void req.socket.destroy();
      if ('stallBody' in reply) {
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': '100' });
        return void res.write('{"binary": {');
      }
      const headers: Record<string, string> = { ...reply.headers };
      let payload = reply.text ?? '';
      if (reply.json !== undefined) {
        payload = JSON.stringify(reply.json);
        headers['content-type'] ??= 'application/json';
      }
      res.writeHead(reply.status, headers);
      res.end(payload);
    });
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  stub.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return stub;
}
