import { inspect } from 'node:util';
import { afterAll, afterEach, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { PeridioClient } from '../../src/client/admin-client.js';
import { searchQuery } from '../../src/client/search.js';
import { InputError } from '../../src/errors.js';
import { memoryLogger } from '../../src/logger.js';
import type { Binary } from '../../src/types.js';
import { expectRequest } from '../../../../test/contract/load.js';
import { startStub, type StubServer } from './stub-server.js';

const API_KEY = 'pk_test_wire_9f8e7d6c5b4a';
const ORG = 'prn:1:8ced1740-7fbf-407e-9d6e-afec9399cc41';
const BINARY_PRN = `${ORG}:binary:bf02c28a-56b3-411f-ba88-f92d947c53a1`;

let stub: StubServer;
let client: PeridioClient;

beforeAll(async () => {
  stub = await startStub();
  client = new PeridioClient({
    baseUrl: `${stub.url}/`,
    apiKey: API_KEY,
    retry: { baseDelayMs: 1, maxDelayMs: 2 },
  });
});
afterEach(() => {
  stub.requests.length = 0;
});
afterAll(async () => {
  await client.close();
  await stub.close();
});

const binary = (n: number): Binary => ({
  prn: `${ORG}:binary:00000000-0000-4000-8000-00000000000${n}`,
  organization_prn: ORG,
  artifact_version_prn: `${ORG}:artifact_version:v`,
  target: `t${n}`,
  hash: null,
  size: null,
  state: 'uploadable',
  description: null,
  custom_metadata: null,
  revision: 0,
  signatures: [],
  inserted_at: '2025-06-11T05:04:10.081728Z',
  updated_at: '2025-06-11T05:04:10.081728Z',
});

describe('PeridioClient on the wire', () => {
  it('sends Token auth, x-api-version 2 and a user agent, and no content-type on GET or DELETE', async () => {
    stub.reply({ status: 200, json: { binary: binary(1) } }, { status: 204 });
    await client.getBinary(BINARY_PRN);
    await client.deleteBinary(BINARY_PRN);
    for (const req of stub.requests) {
      expect(req.headers.authorization).toBe(`Token ${API_KEY}`);
      expect(req.headers['x-api-version']).toBe('2');
      expect(req.headers['user-agent']).toMatch(/^peridio-actions\/\d+\.\d+\.\d+/);
      expect(req.headers['content-type']).toBeUndefined();
      expect(req.body).toBe('');
    }
    expect(stub.requests.map((r) => r.method)).toEqual(['GET', 'DELETE']);
  });

  it('puts PRNs raw in the path and strips the trailing slash of the base URL', async () => {
    stub.reply({ status: 200, json: { binary: binary(1) } });
    await client.getBinary(BINARY_PRN);
    expect(stub.requests[0]!.url).toBe(`/binaries/${BINARY_PRN}`);
    expect(client.baseUrl).toBe(stub.url);
  });

  it('keeps a path prefix of the base URL', async () => {
    const prefixed = new PeridioClient({ baseUrl: `${stub.url}/api//`, apiKey: API_KEY });
    stub.reply({ status: 200, json: { artifact: { prn: 'p' } } });
    await prefixed.getArtifact('p');
    await prefixed.close();
    expect(stub.requests[0]!.url).toBe('/api/artifacts/p');
  });

  it('sends optional create fields as explicit null, with a JSON content-type', async () => {
    stub.reply({ status: 201, json: { binary: binary(1) } });
    await client.createBinary({
      artifact_version_prn: 'av',
      target: 'arm64',
      hash: 'ab'.repeat(32),
      size: 14,
    });
    const [req] = stub.requests;
    expect(req!.method).toBe('POST');
    expect(req!.url).toBe('/binaries');
    expect(req!.headers['content-type']).toBe('application/json');
    expect(JSON.parse(req!.body)).toStrictEqual({
      artifact_version_prn: 'av',
      target: 'arm64',
      hash: 'ab'.repeat(32),
      size: 14,
      description: null,
      custom_metadata: null,
    });
  });

  it('sends artifact and artifact-version creates with nulls, and an id only when given', async () => {
    stub.reply({ status: 201, json: { artifact: {} } }, { status: 201, json: { artifact_version: {} } });
    await client.createArtifact({ name: 'fw', id: '8afd6899-fdee-4f39-b2f8-cdcb4c945e21' });
    await client.createArtifactVersion({ artifact_prn: 'a', version: '1.0.0', description: 'd' });
    expect(JSON.parse(stub.requests[0]!.body)).toStrictEqual({
      name: 'fw',
      description: null,
      custom_metadata: null,
      id: '8afd6899-fdee-4f39-b2f8-cdcb4c945e21',
    });
    expect(JSON.parse(stub.requests[1]!.body)).toStrictEqual({
      artifact_prn: 'a',
      version: '1.0.0',
      description: 'd',
      custom_metadata: null,
    });
  });

  it('echoes the prn in PATCH bodies as the SDK does, and sends only the fields given', async () => {
    stub.reply({ status: 200, json: { binary: { ...binary(1), state: 'hashable' } } });
    const updated = await client.updateBinary(BINARY_PRN, { state: 'hashable' });
    expect(updated.state).toBe('hashable');
    expect(stub.requests[0]!.method).toBe('PATCH');
    expect(JSON.parse(stub.requests[0]!.body)).toStrictEqual({ prn: BINARY_PRN, state: 'hashable' });
  });

  it('form-encodes list parameters like reqwest', async () => {
    stub.reply({ status: 200, json: { binaries: [], next_page: null } });
    const search = searchQuery({ target: "it's", artifact_version_prn: 'prn:1:o' });
    await client.listBinaries({ search, limit: 100, order: 'asc' });
    expect(stub.requests[0]!.url).toBe(
      '/binaries?limit=100&order=asc&search=target%3A%27it%5C%27s%27+and+artifact_version_prn%3A%27prn%3A1%3Ao%27',
    );
    expect(new URL(stub.requests[0]!.url, stub.url).searchParams.get('search')).toBe(search);
  });

  it('iterate follows next_page across three pages', async () => {
    stub.reply(
      { status: 200, json: { binaries: [binary(1), binary(2)], next_page: 'p2' } },
      { status: 200, json: { binaries: [binary(3)], next_page: 'p3' } },
      { status: 200, json: { binaries: [binary(4)], next_page: null } },
    );
    const targets: string[] = [];
    for await (const b of client.iterate((p) => client.listBinaries(p), { search: "state:'uploadable'" })) {
      targets.push(b.target);
    }
    expect(targets).toEqual(['t1', 't2', 't3', 't4']);
    const pages = stub.requests.map((r) => new URL(r.url, stub.url).searchParams);
    expect(pages.map((p) => p.get('page'))).toEqual([null, 'p2', 'p3']);
    expect(pages.every((p) => p.get('search') === "state:'uploadable'")).toBe(true);
  });

  it('iterate stops paging when the consumer stops', async () => {
    stub.reply({ status: 200, json: { binaries: [binary(1), binary(2)], next_page: 'p2' } });
    for await (const b of client.iterate((p) => client.listBinaries(p))) {
      if (b.target === 't1') break;
    }
    expect(stub.requests).toHaveLength(1);
  });

  it('iterate refuses a server that repeats a cursor', async () => {
    stub.reply(
      { status: 200, json: { binaries: [binary(1)], next_page: 'same' } },
      { status: 200, json: { binaries: [binary(2)], next_page: 'same' } },
    );
    const run = async (): Promise<void> => {
      for await (const _ of client.iterate((p) => client.listBinaries(p)));
    };
    await expect(run()).rejects.toThrow(/cursor "same" twice/);
  });

  it('creates a binary part with PUT, the SDK body and content-range, and unwraps binary_part', async () => {
    const part = { prn: 'bp', index: 2, presigned_upload_url: 'http://storage/x' };
    stub.reply({ status: 201, json: { binary_part: part } });
    const created = await client.createBinaryPart(BINARY_PRN, {
      index: 2,
      expected_binary_size: 12_000_000,
      hash: 'cd'.repeat(32),
      size: 5_242_880,
    });
    expect(created.presigned_upload_url).toBe('http://storage/x');
    const [req] = stub.requests;
    expect(req!.method).toBe('PUT');
    expect(req!.url).toBe(`/binaries/${BINARY_PRN}/parts/2`);
    expect(req!.headers['content-range']).toBe('bytes 5242880-10485759/12000000');
    expect(JSON.parse(req!.body)).toStrictEqual({
      binary_prn: BINARY_PRN,
      index: 2,
      expected_binary_size: 12_000_000,
      hash: 'cd'.repeat(32),
      size: 5_242_880,
    });
  });

  it('lists binary parts from binary_parts without next_page', async () => {
    stub.reply({ status: 200, json: { binary_parts: [{ index: 1 }, { index: 2 }] } });
    const parts = await client.listBinaryParts(BINARY_PRN);
    expect(parts.map((p) => p.index)).toEqual([1, 2]);
    expect(stub.requests[0]!.url).toBe(`/binaries/${BINARY_PRN}/parts`);
  });

  it('sends only the signing-key reference given on signature create', async () => {
    stub.reply({ status: 201, json: { binary_signature: { prn: 's' } } });
    await client.createBinarySignature({ binary_prn: BINARY_PRN, signature: 'AB', signing_key_keyid: 'k' });
    expect(JSON.parse(stub.requests[0]!.body)).toStrictEqual({
      binary_prn: BINARY_PRN,
      signature: 'AB',
      signing_key_keyid: 'k',
    });
  });

  it('logs method, path, status and time at debug, never the key or a body', async () => {
    const logger = memoryLogger();
    const logged = new PeridioClient({ baseUrl: stub.url, apiKey: API_KEY, logger });
    stub.reply({ status: 201, json: { signing_key: { prn: 'sk' } } });
    await logged.createSigningKey({ name: 'demo', value: 'DIU8Zhf20Gr4n6vzDxCG2eupglynQ1Q6j19UKA4Mf88=' });
    await logged.close();
    expect(logger.lines).toEqual([
      { level: 'debug', message: expect.stringMatching(/^POST \/signing_keys -> 201 \(\d+ ms\)$/) },
    ]);
  });

  it('does not show the API key when the client object is inspected', () => {
    expect(inspect(client, { depth: 6 })).not.toContain(API_KEY);
  });

  it('refuses an empty API key and a malformed base URL as input errors', () => {
    expect(() => new PeridioClient({ baseUrl: stub.url, apiKey: ' ' })).toThrow(InputError);
    expect(() => new PeridioClient({ baseUrl: 'not a url', apiKey: API_KEY })).toThrow(/base-url/);
    expect(() => new PeridioClient({ baseUrl: 'ftp://x', apiKey: API_KEY })).toThrow(/http/);
  });
});

describe('request bodies against the API contract', () => {
  const V = `${ORG}:artifact_version:0f6b7c4e-3a2d-4e1f-9b8a-7c6d5e4f3a2b`;
  const KEY = `${ORG}:signing_key:1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d`;
  const HASH = '403ccc806332775b59558608031ce2656bfee95b32229bdd9aed5aab433af55b';
  const sent = (): unknown => JSON.parse(stub.requests.at(-1)!.body);

  it('the create bodies the client sends, explicit nulls included, are valid requests of the contract', async () => {
    // The answers do not matter here (the client refuses them): only what it sent is checked.
    const fallback = stub.fallback;
    stub.fallback = () => ({ status: 201, json: {} });
    onTestFinished(() => {
      stub.fallback = fallback;
    });
    await client.createArtifact({ name: 'fw' }).catch(() => undefined);
    expectRequest('/artifacts', 'post', sent());
    expect(sent()).toMatchObject({ description: null, custom_metadata: null });
    await client
      .createArtifactVersion({ artifact_prn: `${ORG}:artifact:x`, version: '1.0.0' })
      .catch(() => undefined);
    expectRequest('/artifact_versions', 'post', sent());
    await client
      .createBinary({ artifact_version_prn: V, target: 'arm', hash: HASH, size: 14 })
      .catch(() => undefined);
    expectRequest('/binaries', 'post', sent());
    await client
      .createBinarySignature({ binary_prn: BINARY_PRN, signature: 'AB'.repeat(64), signing_key_prn: KEY })
      .catch(() => undefined);
    expectRequest('/binary_signatures', 'post', sent());
    await client
      .createSigningKey({ name: 'release', value: 'DIU8Zhf20Gr4n6vzDxCG2eupglynQ1Q6j19UKA4Mf88=' })
      .catch(() => undefined);
    expectRequest('/signing_keys', 'post', sent());
  });
});
