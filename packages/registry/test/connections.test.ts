/**
 * Slow, silent and surplus connections (issue 18): the JSON body deadline, the idle timeout that still lets a
 * slow upload through, closing after a 401 on an unread body, and the connection cap.
 */
import { connect } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createBinary, sha256, startTestRegistry, type TestRegistry } from './support.js';

const open: TestRegistry[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((t) => t.close()));
});

async function start(options: Parameters<typeof startTestRegistry>[0] = {}) {
  const t = await startTestRegistry(options);
  open.push(t);
  return t;
}

const port = (t: TestRegistry) => Number(new URL(t.baseUrl).port);

/** A raw connection: what the server writes back, and when it closed the socket. */
function rawConnection(t: TestRegistry) {
  const socket = connect(port(t), '127.0.0.1');
  let received = '';
  const opened = Date.now();
  socket.on('data', (chunk) => (received += chunk.toString('latin1')));
  socket.on('error', () => {});
  const closed = new Promise<{ received: string; afterMs: number }>((resolve) =>
    socket.on('close', () => resolve({ received, afterMs: Date.now() - opened })),
  );
  return { socket, closed, received: () => received };
}

describe('slow, silent and surplus connections (risk)', () => {
  it('a JSON body still trickling at the body timeout gets a 408 and the connection is closed', async () => {
    const t = await start({ bodyTimeoutMs: 400, idleTimeoutMs: 5_000 });
    const c = rawConnection(t);
    c.socket.write(
      `POST /artifacts HTTP/1.1\r\nHost: x\r\nAuthorization: Token ${t.apiKey}\r\n` +
        'Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n{',
    );
    // One byte every 50 ms keeps the socket busy: only the body deadline can end this.
    const trickle = setInterval(() => c.socket.writable && c.socket.write(' '), 50);
    const { received, afterMs } = await c.closed;
    clearInterval(trickle);
    expect(received).toMatch(/^HTTP\/1\.1 408 /);
    expect(received.toLowerCase()).toContain('connection: close');
    expect(afterMs).toBeGreaterThanOrEqual(400);
    expect(afterMs).toBeLessThan(4_000);
  });

  it('an upload that keeps moving outlives the idle timeout; one that goes silent is cut off', async () => {
    const t = await start({ idleTimeoutMs: 300, bodyTimeoutMs: 300 });
    const content = Buffer.alloc(20_000, 7);
    const binary = await createBinary(t, content, 'slow');
    const part = (
      await t.api('PUT', `/binaries/${binary.prn}/parts/1`, { hash: sha256(content), size: content.length })
    ).body.binary_part;
    const target = new URL(part.presigned_upload_url);
    const head = `PUT ${target.pathname}${target.search} HTTP/1.1\r\nHost: x\r\nContent-Length: ${content.length}\r\n\r\n`;

    const moving = rawConnection(t);
    moving.socket.write(head);
    // 20 chunks 100 ms apart: 2 s in all, far past both timeouts, never silent for 300 ms.
    for (let i = 0; i < 20; i++) {
      moving.socket.write(content.subarray(i * 1000, (i + 1) * 1000));
      await new Promise((r) => setTimeout(r, 100));
    }
    await expect.poll(() => moving.received(), { timeout: 5_000 }).toMatch(/^HTTP\/1\.1 200 /);
    moving.socket.destroy();

    const silent = rawConnection(t);
    silent.socket.write(head);
    silent.socket.write(content.subarray(0, 1000));
    const { received, afterMs } = await silent.closed;
    expect(received).toBe('');
    expect(afterMs).toBeGreaterThanOrEqual(300);
    expect(afterMs).toBeLessThan(3_000);
    const parts = await t.api('GET', `/binaries/${binary.prn}/parts`);
    expect(parts.body.binary_parts).toMatchObject([{ index: 1, state: 'valid' }]);
  });

  it('refusing an unauthenticated request with a body closes the connection instead of reading on', async () => {
    const t = await start();
    const c = rawConnection(t);
    c.socket.write(
      'POST /artifacts HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n' +
        'Content-Length: 1000000\r\n\r\n{"name":',
    );
    const { received, afterMs } = await c.closed;
    expect(received).toMatch(/^HTTP\/1\.1 401 /);
    expect(received.toLowerCase()).toContain('connection: close');
    expect(afterMs).toBeLessThan(2_000);
  });

  it('connections past --max-connections are closed at once; the registry answers again once they go', async () => {
    const t = await start({ maxConnections: 2 });
    const held = [rawConnection(t), rawConnection(t)];
    const connections = () =>
      new Promise<number>((resolve) => t.registry.server.getConnections((_e, n) => resolve(n)));
    await expect.poll(connections).toBe(2);
    const surplus = rawConnection(t);
    surplus.socket.write('GET /health HTTP/1.1\r\nHost: x\r\n\r\n');
    const { received } = await surplus.closed;
    expect(received).toBe('');
    for (const c of held) c.socket.destroy();
    await Promise.all(held.map((c) => c.closed));
    await expect.poll(async () => (await fetch(`${t.baseUrl}/health`)).status).toBe(200);
  });
});
