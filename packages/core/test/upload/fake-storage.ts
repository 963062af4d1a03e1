/**
 * The two sides an upload talks to, for the engine's tests: a fake `PartsApi` that hands out presigned
 * URLs, and a real HTTP server on 127.0.0.1 that plays the storage behind those URLs — checking the
 * checksum header against the bytes as S3 does — and fails on purpose when a test queues a fault.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { FileDigest, PartDigest } from '../../src/hash.js';
import type { BinaryPart, BinaryPartState, CreatedBinaryPart } from '../../src/types.js';
import type { PartsApi } from '../../src/upload/engine.js';

export type Fault =
  /** Read this many body bytes, then destroy the socket (the client sees a reset mid-body). */
  | { kind: 'reset'; afterBytes: number }
  /** Read the body, answer with this status. */
  | { kind: 'status'; status: number; headers?: Record<string, string>; body?: string }
  /** Read the body and never answer. */
  | { kind: 'stall' }
  /** The URL has expired: 403 as S3 answers, and the URL stays dead. */
  | { kind: 'expire' }
  /** Accept the bytes and answer 200, but record the part as invalid (a storage that loses a part). */
  | { kind: 'lose' };

export interface PutRecord {
  index: number;
  token: string;
  bytesIn: number;
  status?: number;
  fault?: Fault['kind'];
  headers: http.IncomingHttpHeaders;
}

interface StoredPart {
  hash: string;
  size: number;
  state: BinaryPartState;
  data?: Buffer;
}

export const PRN = 'prn:1:5b8d7e0c-0f5a-4a0e-9a55-1f7a0a3b2c11:binary:7c0f3a9e-5d2b-4f1c-8e6a-2b9d4c1e0f3a';

export class FakeStorage {
  readonly parts = new Map<number, StoredPart>();
  readonly creates: { index: number; token: string; body: unknown }[] = [];
  readonly puts: PutRecord[] = [];
  lists = 0;
  inFlight = 0;
  maxInFlight = 0;
  /** Hold every successful answer this long, so parts overlap in the concurrency test. */
  answerDelayMs = 0;
  /** Pause this long after each body chunk: a slow reader, so the client's writes back up in its socket. */
  readPauseMs = 0;
  private readonly faults = new Map<number, Fault[]>();
  private readonly deadTokens = new Set<string>();
  private readonly tokens = new Map<string, number>();
  private server!: http.Server;
  baseUrl = '';

  readonly api: PartsApi = {
    createBinaryPart: async (binaryPrn, body) => {
      if (binaryPrn !== PRN) throw new Error(`unexpected binary ${binaryPrn}`);
      const token = randomBytes(12).toString('hex');
      this.tokens.set(token, body.index);
      this.creates.push({ index: body.index, token, body });
      this.parts.set(body.index, { hash: body.hash, size: body.size, state: 'uploadable' });
      const record: CreatedBinaryPart = {
        ...this.record(body.index, this.parts.get(body.index)!),
        presigned_upload_url: `${this.baseUrl}/bucket/parts/${body.index}?X-Amz-Expires=900&X-Amz-Signature=${token}`,
      };
      return record;
    },
    listBinaryParts: async () => {
      this.lists += 1;
      return [...this.parts.entries()].map(([index, part]) => this.record(index, part));
    },
  };

  async start(): Promise<this> {
    this.server = http.createServer((req, res) => this.handle(req, res));
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.baseUrl = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /** Queue faults for the next PUTs of one part, consumed one per request. */
  fault(index: number, ...faults: Fault[]): void {
    this.faults.set(index, [...(this.faults.get(index) ?? []), ...faults]);
  }

  /** A part the server already has, as a previous run left it. */
  seed(index: number, part: { hash: string; size: number; state?: BinaryPartState }): void {
    this.parts.set(index, { state: 'valid', ...part });
  }

  putsOf(index: number): PutRecord[] {
    return this.puts.filter((put) => put.index === index);
  }

  /** The bytes of all valid parts in index order. */
  assembled(): Buffer {
    const indexes = [...this.parts.keys()].sort((a, b) => a - b);
    return Buffer.concat(indexes.map((index) => this.parts.get(index)!.data ?? Buffer.alloc(0)));
  }

  private record(index: number, part: StoredPart): BinaryPart {
    return {
      prn: `prn:1:org:binary_part:${index}`,
      organization_prn: 'prn:1:org',
      binary_prn: PRN,
      index,
      hash: part.hash,
      size: part.size,
      state: part.state,
      inserted_at: '2026-01-01T00:00:00Z',
      updated_at: '2026-01-01T00:00:00Z',
    };
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const url = new URL(req.url ?? '/', this.baseUrl);
    const index = Number(url.pathname.split('/').pop());
    const token = url.searchParams.get('X-Amz-Signature') ?? '';
    const put: PutRecord = { index, token, bytesIn: 0, headers: req.headers };
    this.puts.push(put);
    this.inFlight += 1;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    let counted = true;
    const done = (): void => {
      if (counted) this.inFlight -= 1;
      counted = false;
    };
    res.on('close', done);
    req.on('close', () => {
      if (!res.headersSent && req.socket.destroyed) done();
    });

    const fault = this.faults.get(index)?.shift();
    if (fault) put.fault = fault.kind;
    const chunks: Buffer[] = [];
    const hash = createHash('sha256');
    req.on('data', (chunk: Buffer) => {
      put.bytesIn += chunk.length;
      chunks.push(chunk);
      hash.update(chunk);
      if (fault?.kind === 'reset' && put.bytesIn >= fault.afterBytes) req.socket.destroy();
      else if (this.readPauseMs > 0) {
        req.pause();
        setTimeout(() => req.resume(), this.readPauseMs);
      }
    });
    req.on('end', () => {
      const answer = (status: number, body = '', headers: Record<string, string> = {}): void => {
        put.status = status;
        res.writeHead(status, { 'content-type': 'application/xml', ...headers });
        res.end(body);
      };
      if (fault?.kind === 'stall') return;
      if (fault?.kind === 'status') return answer(fault.status, fault.body ?? '', fault.headers);
      if (fault?.kind === 'expire') this.deadTokens.add(token);
      if (this.deadTokens.has(token) || this.tokens.get(token) !== index) {
        return answer(403, '<Error><Code>AccessDenied</Code><Message>Request has expired</Message></Error>');
      }
      const stored = this.parts.get(index)!;
      const data = Buffer.concat(chunks);
      const digest = hash.digest();
      const sizeOk = data.length === stored.size && Number(req.headers['content-length']) === stored.size;
      const hashOk =
        digest.toString('hex') === stored.hash &&
        digest.toString('base64') === req.headers['x-amz-checksum-sha256'];
      if (!sizeOk || !hashOk) {
        stored.state = sizeOk ? 'invalid_hash' : 'invalid_size';
        return answer(
          400,
          '<Error><Code>BadDigest</Code><Message>The SHA256 you specified did not match the calculated checksum.</Message></Error>',
        );
      }
      stored.state = fault?.kind === 'lose' ? 'invalid_hash' : 'valid';
      stored.data = data;
      setTimeout(
        () => answer(200, '', { etag: `"${digest.toString('hex').slice(0, 32)}"` }),
        this.answerDelayMs,
      );
    });
  }
}

/** A file of pseudo-random bytes, written in chunks. */
export async function makeFile(path: string, size: number): Promise<void> {
  const out = createWriteStream(path);
  for (let written = 0; written < size;) {
    const chunk = randomBytes(Math.min(256 * 1024, size - written));
    written += chunk.length;
    if (!out.write(chunk)) await new Promise<void>((resolve) => out.once('drain', () => resolve()));
  }
  await new Promise<void>((resolve, reject) =>
    out.end((err?: Error | null) => (err ? reject(err) : resolve())),
  );
}

/**
 * A digest with small parts, so tests stay light: the engine does not care about the API's 5 MiB
 * minimum, which belongs to the part planner.
 */
export async function digestOf(path: string, partSize: number): Promise<FileDigest> {
  const info = await stat(path);
  const handle = await open(path, 'r');
  const whole = createHash('sha256');
  const parts: PartDigest[] = [];
  try {
    for (let offset = 0, index = 1; offset < info.size || index === 1; offset += partSize, index++) {
      const size = Math.min(partSize, info.size - offset);
      const buffer = Buffer.alloc(size);
      await handle.read(buffer, 0, size, offset);
      whole.update(buffer);
      const digest = createHash('sha256').update(buffer).digest();
      parts.push({
        index,
        offset,
        size,
        sha256Hex: digest.toString('hex'),
        sha256Base64: digest.toString('base64'),
      });
      if (size === 0) break;
    }
  } finally {
    await handle.close();
  }
  return { size: info.size, sha256Hex: whole.digest('hex'), partSize, parts, mtimeMs: info.mtimeMs };
}

export function sha256(data: Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}
