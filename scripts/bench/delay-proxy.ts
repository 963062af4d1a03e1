/**
 * A TCP proxy that holds every chunk for half the round trip in each direction, so request/response
 * turns (Admin API calls, a PUT's answer) cost an RTT as over a WAN. `tc` here has no `netem`, so latency
 * lives in this proxy and bandwidth in a `tbf` qdisc behind it. Each direction buffers at most
 * `maxQueued` bytes and pauses its source beyond that, so TCP's back-pressure still reaches the sender.
 * A new connection waits one RTT before any byte moves, as a TCP handshake does.
 */
import net, { type AddressInfo } from 'node:net';

export interface DelayProxy {
  port: number;
  setUpstream(host: string, port: number): void;
  close(): Promise<void>;
}

export async function startDelayProxy(rttMs: number, maxQueued = 8 * 1024 * 1024): Promise<DelayProxy> {
  let upstream: { host: string; port: number } | undefined;
  const sockets = new Set<net.Socket>();
  const oneWay = rttMs / 2;
  const pipeDelayed = (from: net.Socket, to: net.Socket): void => {
    const queue: { due: number; chunk: Buffer }[] = [];
    let queued = 0;
    let timer: NodeJS.Timeout | undefined;
    let ended = false;
    // What waits here plus what the next hop has not taken yet (a shaped link drains slowly).
    const backlog = (): number => queued + to.writableLength;
    const maybeResume = (): void => {
      if (backlog() < maxQueued && from.isPaused()) from.resume();
    };
    to.on('drain', maybeResume);
    const flush = (): void => {
      timer = undefined;
      const now = performance.now();
      while (queue.length > 0 && queue[0]!.due <= now) {
        const { chunk } = queue.shift()!;
        queued -= chunk.length;
        to.write(chunk);
      }
      maybeResume();
      if (queue.length > 0) timer = setTimeout(flush, Math.max(0, queue[0]!.due - now));
      else if (ended) to.end();
    };
    from.on('data', (chunk: Buffer) => {
      queue.push({ due: performance.now() + oneWay, chunk });
      queued += chunk.length;
      if (backlog() >= maxQueued) from.pause();
      timer ??= setTimeout(flush, oneWay);
    });
    from.on('end', () => {
      ended = true;
      timer ??= setTimeout(flush, 0);
    });
  };
  const server = net.createServer((client) => {
    client.pause();
    const target = upstream;
    if (!target) return client.destroy();
    const remote = net.connect(target.port, target.host);
    for (const s of [client, remote]) {
      sockets.add(s);
      s.setNoDelay(true);
      s.on('error', () => {
        client.destroy();
        remote.destroy();
      });
      s.on('close', () => {
        sockets.delete(s);
        client.destroy();
        remote.destroy();
      });
    }
    remote.once('connect', () =>
      setTimeout(() => {
        pipeDelayed(client, remote);
        pipeDelayed(remote, client);
        client.resume();
      }, rttMs),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    setUpstream: (host, port) => (upstream = { host, port }),
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
