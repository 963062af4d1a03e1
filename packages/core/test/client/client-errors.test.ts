import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { PeridioClient } from '../../src/client/admin-client.js';
import { ApiError, NetworkError } from '../../src/errors.js';
import { memoryLogger } from '../../src/logger.js';
import { startStub, type StubServer } from './stub-server.js';

const API_KEY = 'pk_live_SECRET_d41d8cd98f00b204e980';
const PRN = 'prn:1:8ced1740-7fbf-407e-9d6e-afec9399cc41:binary:bf02c28a-56b3-411f-ba88-f92d947c53a1';
const FAST = { baseDelayMs: 1, maxDelayMs: 2 };

let stub: StubServer;
const clients: PeridioClient[] = [];
const logger = memoryLogger();

function makeClient(options: { retry?: object; timeoutMs?: number; baseUrl?: string } = {}): PeridioClient {
  const client = new PeridioClient({
    baseUrl: options.baseUrl ?? stub.url,
    apiKey: API_KEY,
    logger,
    retry: { ...FAST, ...options.retry },
    ...(options.timeoutMs ? { timeoutMs: options.timeoutMs } : {}),
  });
  clients.push(client);
  return client;
}

async function failure(promise: Promise<unknown>): Promise<Error> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err, 'the call should have failed').toBeInstanceOf(Error);
  return err as Error;
}

/** Nothing thrown or logged may carry the key: message, detail, field errors or stack. */
function expectNoKey(err: Error): void {
  const everything = JSON.stringify({
    ...err,
    message: err.message,
    stack: err.stack,
    cause: String(err.cause),
  });
  expect(everything).not.toContain(API_KEY);
  expect(JSON.stringify(logger.lines)).not.toContain(API_KEY);
}

beforeAll(async () => {
  stub = await startStub();
});
afterEach(() => {
  stub.requests.length = 0;
  logger.lines.length = 0;
});
afterAll(async () => {
  await Promise.all(clients.map((c) => c.close()));
  await stub.close();
});

describe('error answers', () => {
  it.each([
    [400, { errors: { detail: 'Bad Request' } }, 'Bad Request', {}],
    [401, { errors: [{ code: 'unauthenticated', context: { api_key: API_KEY } }] }, 'unauthenticated', {}],
    [403, { status: 'forbidden' }, 'forbidden', {}],
    [404, { errors: { detail: 'Not Found' } }, 'Not Found', {}],
    [
      422,
      { errors: { target: ['has already been taken'] } },
      'target has already been taken',
      { target: ['has already been taken'] },
    ],
  ])(
    '%i becomes an ApiError with the server message, sent once',
    async (status, json, detail, fieldErrors) => {
      stub.reply({ status, json });
      const err = await failure(makeClient().getBinary(PRN));
      expect(err).toBeInstanceOf(ApiError);
      expect(err).toMatchObject({ status, method: 'GET', path: `/binaries/${PRN}`, detail, fieldErrors });
      expect(err.message).toBe(`GET /binaries/${PRN} failed with HTTP ${status}: ${detail}`);
      expect(stub.requests).toHaveLength(1);
      expectNoKey(err);
    },
  );

  it('a plain-text error body is kept as the message', async () => {
    stub.reply(
      { status: 502, text: 'upstream connect error' },
      { status: 502, text: 'upstream connect error' },
    );
    const err = await failure(makeClient({ retry: { maxAttempts: 2 } }).listArtifacts());
    expect(err).toMatchObject({ status: 502, detail: 'upstream connect error' });
    expect(stub.requests).toHaveLength(2);
  });

  it('429 carries Retry-After as retryAfterMs', async () => {
    stub.reply({
      status: 429,
      json: { errors: { detail: 'too_many_requests' } },
      headers: { 'retry-after': '7' },
    });
    const err = await failure(makeClient({ retry: { maxAttempts: 1 } }).getBinary(PRN));
    expect(err).toMatchObject({ status: 429, detail: 'too_many_requests', retryAfterMs: 7000 });
  });

  it('429 is retried after the Retry-After wait', async () => {
    stub.reply(
      { status: 429, json: { errors: { detail: 'too_many_requests' } }, headers: { 'retry-after': '1' } },
      { status: 200, json: { binary: { prn: PRN } } },
    );
    const started = Date.now();
    await expect(makeClient().getBinary(PRN)).resolves.toMatchObject({ prn: PRN });
    expect(Date.now() - started).toBeGreaterThanOrEqual(950);
    expect(stub.requests).toHaveLength(2);
  });

  it('500 then success is retried and succeeds; the failed attempt is logged', async () => {
    stub.reply(
      { status: 500, json: { errors: { detail: 'boom' } } },
      { status: 201, json: { artifact: { prn: 'a' } } },
    );
    await expect(makeClient().createArtifact({ name: 'fw' })).resolves.toEqual({ prn: 'a' });
    expect(stub.requests).toHaveLength(2);
    expect(stub.requests[1]!.body).toBe(stub.requests[0]!.body);
    expect(logger.lines.map((l) => l.message)).toContainEqual(
      expect.stringMatching(/^POST \/artifacts: attempt 1\/8 failed: .*HTTP 500: boom; retrying in \d+ ms$/),
    );
  });

  it('a 2xx that is not JSON, or lacks the envelope, fails clearly without retrying', async () => {
    stub.reply({ status: 200, text: '<html>login</html>' }, { status: 200, json: { something: 1 } });
    const client = makeClient();
    expect((await failure(client.getBinary(PRN))).message).toMatch(/not JSON/);
    expect((await failure(client.getBinary(PRN))).message).toMatch(/no "binary".*Peridio Admin API/);
    expect(stub.requests).toHaveLength(2);
  });
});

describe('transport failures', () => {
  it('a request that hangs becomes NetworkError ETIMEDOUT, and is retried', async () => {
    stub.reply({ hang: true }, { hang: true });
    const err = await failure(makeClient({ timeoutMs: 200, retry: { maxAttempts: 2 } }).getBinary(PRN));
    expect(err).toBeInstanceOf(NetworkError);
    expect((err as NetworkError).code).toBe('ETIMEDOUT');
    expect(err.message).toMatch(/no response .* within 200 ms/);
    expect(stub.requests).toHaveLength(2);
    expectNoKey(err);
  });

  it('a body that stops mid-way becomes NetworkError ETIMEDOUT', async () => {
    stub.reply({ stallBody: true });
    const err = await failure(makeClient({ timeoutMs: 200, retry: { maxAttempts: 1 } }).getBinary(PRN));
    expect(err).toBeInstanceOf(NetworkError);
    expect((err as NetworkError).code).toBe('ETIMEDOUT');
  });

  it('a connection reset becomes NetworkError and is retried until it succeeds', async () => {
    stub.reply({ reset: true }, { reset: true }, { status: 200, json: { binary: { prn: PRN } } });
    await expect(makeClient().getBinary(PRN)).resolves.toEqual({ prn: PRN });
    expect(stub.requests).toHaveLength(3);
  });

  it('a reset on every attempt surfaces as NetworkError with the socket error code', async () => {
    stub.reply({ reset: true }, { reset: true });
    const err = await failure(makeClient({ retry: { maxAttempts: 2 } }).getBinary(PRN));
    expect(err).toBeInstanceOf(NetworkError);
    expect((err as NetworkError).code).toMatch(/^(ECONNRESET|UND_ERR_SOCKET)$/);
    expect(err.message).toContain(`GET /binaries/${PRN}: connection to`);
    expectNoKey(err);
  });

  it('a refused connection becomes NetworkError ECONNREFUSED', async () => {
    const port = await freePort();
    const err = await failure(
      makeClient({ baseUrl: `http://127.0.0.1:${port}`, retry: { maxAttempts: 2 } }).listBinaries(),
    );
    expect(err).toBeInstanceOf(NetworkError);
    expect((err as NetworkError).code).toBe('ECONNREFUSED');
    expectNoKey(err);
  });

  it('an abort signal stops the request and is not retried', async () => {
    stub.reply({ hang: true });
    const controller = new AbortController();
    const client = new PeridioClient({ baseUrl: stub.url, apiKey: API_KEY, signal: controller.signal });
    clients.push(client);
    setTimeout(() => controller.abort(new Error('cancelled by test')), 50);
    const err = await failure(client.getBinary(PRN));
    expect(err.message).toBe('cancelled by test');
    expect(stub.requests).toHaveLength(1);
  });

  it("a call's own signal stops that call only, and it is not retried", async () => {
    stub.reply({ hang: true });
    const controller = new AbortController();
    const client = makeClient();
    setTimeout(() => controller.abort(new Error('no longer needed')), 50);
    const part = { index: 2, expected_binary_size: 100, hash: 'a'.repeat(64), size: 50 };
    const err = await failure(client.createBinaryPart(PRN, part, { signal: controller.signal }));
    expect(err.message).toBe('no longer needed');
    expect(stub.requests).toHaveLength(1);
    // The client itself is not cancelled: its next call goes out.
    stub.reply({ status: 200, json: { binary: { prn: PRN } } });
    await expect(client.getBinary(PRN)).resolves.toMatchObject({ prn: PRN });
  });
});

async function freePort(): Promise<number> {
  const server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
