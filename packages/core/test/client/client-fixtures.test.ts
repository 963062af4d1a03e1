/**
 * Contract test: every response fixture from Peridio's SDK tests and docs, served as the answer, parses
 * through the client into the typed resource (or, for error bodies, into ApiError fields).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PeridioClient } from '../../src/client/admin-client.js';
import { ApiError } from '../../src/errors.js';
import { startStub, type StubServer } from './stub-server.js';

const FIXTURES = fileURLToPath(new URL('../../../../test/fixtures/', import.meta.url));
const PRN = 'prn:1:8ced1740-7fbf-407e-9d6e-afec9399cc41:binary:bf02c28a-56b3-411f-ba88-f92d947c53a1';

const REQUIRED = {
  artifact: ['prn', 'organization_prn', 'name', 'inserted_at', 'updated_at'],
  artifact_version: ['prn', 'organization_prn', 'artifact_prn', 'version', 'inserted_at', 'updated_at'],
  binary: ['prn', 'organization_prn', 'artifact_version_prn', 'target', 'state', 'inserted_at', 'updated_at'],
  binary_signature: [
    'prn',
    'organization_prn',
    'binary_prn',
    'signing_key_prn',
    'keyid',
    'signature',
    'inserted_at',
  ],
  signing_key: ['prn', 'organization_prn', 'name', 'inserted_at', 'updated_at'],
} as const;
type Kind = keyof typeof REQUIRED;

type Call = (c: PeridioClient) => Promise<unknown>;
interface Case {
  status: number;
  call: Call;
  /** Envelope key whose content the call must return (`[]` suffix: a list page). */
  unwrap?: Kind | `${Kind}[]`;
  listKey?: string;
  error?: { detail: string; fieldErrors?: Record<string, string[]> };
}

const createArtifact: Call = (c) => c.createArtifact({ name: 'a' });
const createVersion: Call = (c) => c.createArtifactVersion({ artifact_prn: 'a', version: '1' });
const createBinary: Call = (c) =>
  c.createBinary({ artifact_version_prn: 'v', target: 't', hash: 'h', size: 1 });
const createSignature: Call = (c) =>
  c.createBinarySignature({ binary_prn: PRN, signature: 'S', signing_key_prn: 'k' });

const CASES: Record<string, Case> = {
  'peridio-docs/artifact-create-201.json': { status: 201, call: createArtifact, unwrap: 'artifact' },
  'peridio-docs/artifact-version-create-201.json': {
    status: 201,
    call: createVersion,
    unwrap: 'artifact_version',
  },
  'peridio-docs/binary-signed-200.json': { status: 200, call: (c) => c.getBinary(PRN), unwrap: 'binary' },
  'peridio-docs/signing-key-create-201.json': {
    status: 201,
    call: (c) => c.createSigningKey({ name: 'demo key', value: 'v' }),
    unwrap: 'signing_key',
  },
  'peridio-sdk/artifacts-create-201.json': { status: 201, call: createArtifact, unwrap: 'artifact' },
  'peridio-sdk/artifacts-get-200.json': { status: 200, call: (c) => c.getArtifact('1'), unwrap: 'artifact' },
  'peridio-sdk/artifacts-update-200.json': {
    status: 200,
    call: (c) => c.updateArtifact('1', { name: 'b' }),
    unwrap: 'artifact',
  },
  'peridio-sdk/artifact-versions-create-201.json': {
    status: 201,
    call: createVersion,
    unwrap: 'artifact_version',
  },
  'peridio-sdk/artifact-versions-get-200.json': {
    status: 200,
    call: (c) => c.getArtifactVersion('prn'),
    unwrap: 'artifact_version',
  },
  'peridio-sdk/artifact-versions-update-200.json': {
    status: 200,
    call: (c) => c.updateArtifactVersion('prn', { description: 'updated_description' }),
    unwrap: 'artifact_version',
  },
  'peridio-sdk/binaries-create-201.json': { status: 201, call: createBinary, unwrap: 'binary' },
  'peridio-sdk/binaries-get-200.json': { status: 200, call: (c) => c.getBinary('prn'), unwrap: 'binary' },
  'peridio-sdk/binaries-update-200.json': {
    status: 200,
    call: (c) => c.updateBinary('1', { state: 'signed' }),
    unwrap: 'binary',
  },
  'peridio-sdk/binaries-download-url-200.json': { status: 200, call: (c) => c.getBinaryDownloadUrl(PRN) },
  'peridio-sdk/binary-signatures-create-201.json': {
    status: 201,
    call: createSignature,
    unwrap: 'binary_signature',
  },
  'peridio-sdk/binary-signatures-create-both-201.json': {
    status: 201,
    call: createSignature,
    unwrap: 'binary_signature',
  },
  'peridio-sdk/binary-signatures-create-keyid-201.json': {
    status: 201,
    call: createSignature,
    unwrap: 'binary_signature',
  },
  'peridio-sdk/binary-signatures-create-neither-201.json': {
    status: 201,
    call: createSignature,
    unwrap: 'binary_signature',
  },
  'peridio-sdk/binary-signatures-list-200.json': {
    status: 200,
    call: (c) => c.listBinarySignatures(),
    unwrap: 'binary_signature[]',
    listKey: 'binary_signatures',
  },
  'peridio-sdk/signing-keys-create-201.json': {
    status: 201,
    call: (c) => c.createSigningKey({ name: 'b', value: 'a' }),
    unwrap: 'signing_key',
  },
  'peridio-sdk/signing-keys-get-200.json': {
    status: 200,
    call: (c) => c.getSigningKey('s'),
    unwrap: 'signing_key',
  },
  // The fixture's `signing_key` (singular) list key is a known mistake; the client reads it as a fallback.
  'peridio-sdk/signing-keys-list-200.json': {
    status: 200,
    call: (c) => c.listSigningKeys(),
    unwrap: 'signing_key[]',
    listKey: 'signing_key',
  },
  'peridio-sdk/403.json': { status: 403, call: (c) => c.getBinary(PRN), error: { detail: 'forbidden' } },
  'peridio-sdk/422.json': {
    status: 422,
    call: createArtifact,
    error: {
      detail:
        "email can't be blank, is invalid; password is too short (minimum is 8 characters); name can't be blank",
      fieldErrors: {
        email: ["can't be blank", 'is invalid'],
        password: ['is too short (minimum is 8 characters)'],
        name: ["can't be blank"],
      },
    },
  },
  'peridio-sdk/error-parameter-400.json': {
    status: 400,
    call: (c) => c.listBinaries(),
    error: {
      detail: 'parameter (parameter: number, reason: required)',
      fieldErrors: { number: ['required'] },
    },
  },
  'peridio-sdk/error-unauthenticated-401.json': {
    status: 401,
    call: (c) => c.getBinary(PRN),
    error: { detail: 'unauthenticated' },
  },
  'peridio-sdk/error-unauthorized-403.json': {
    status: 403,
    call: createVersion,
    error: { detail: 'unauthorized (scope_name: create_element_versions)' },
  },
};

let stub: StubServer;
let client: PeridioClient;

beforeAll(async () => {
  stub = await startStub();
  client = new PeridioClient({ baseUrl: stub.url, apiKey: 'fixture-key', retry: { maxAttempts: 1 } });
});
afterAll(async () => {
  await client.close();
  await stub.close();
});

describe('fixtures', () => {
  it('every JSON fixture in peridio-sdk and peridio-docs has a case', () => {
    const files = ['peridio-sdk', 'peridio-docs'].flatMap((dir) =>
      readdirSync(`${FIXTURES}${dir}`)
        .filter((f) => f.endsWith('.json'))
        .map((f) => `${dir}/${f}`),
    );
    expect(files.length).toBeGreaterThan(20);
    expect(Object.keys(CASES).sort()).toEqual(files.sort());
  });

  for (const [file, c] of Object.entries(CASES)) {
    it(`${file} parses through the client`, async () => {
      const json = JSON.parse(readFileSync(`${FIXTURES}${file}`, 'utf8')) as Record<string, unknown>;
      stub.reply({ status: c.status, json });
      if (c.error) {
        const err = await c.call(client).catch((e: unknown) => e);
        expect(err).toBeInstanceOf(ApiError);
        expect(err).toMatchObject({
          status: c.status,
          detail: c.error.detail,
          fieldErrors: c.error.fieldErrors ?? {},
        });
        return;
      }
      const result = await c.call(client);
      if (!c.unwrap) {
        expect(result).toBe(json.download_url);
        expect(result).toMatch(/^https:\/\//);
      } else if (c.unwrap.endsWith('[]')) {
        const kind = c.unwrap.slice(0, -2) as Kind;
        const page = result as { items: Record<string, unknown>[]; next_page: string | null };
        expect(page.items).toEqual(json[c.listKey!]);
        expect(page.items.length).toBe(2);
        for (const item of page.items) expectShape(item, kind);
        expect(page.next_page).toBe(json.next_page ?? null);
      } else {
        expect(result).toEqual(json[c.unwrap]);
        expectShape(result as Record<string, unknown>, c.unwrap as Kind);
      }
    });
  }

  it('the real signed binary keeps its signature list and hash', async () => {
    const json = JSON.parse(readFileSync(`${FIXTURES}peridio-docs/binary-signed-200.json`, 'utf8'));
    stub.reply({ status: 200, json });
    const b = await client.getBinary(PRN);
    expect(b.state).toBe('signed');
    expect(b.hash).toBe('403ccc806332775b59558608031ce2656bfee95b32229bdd9aed5aab433af55b');
    expect(b.signatures?.[0]?.signature).toMatch(/^[0-9A-F]{128}$/);
    expect(b.signatures?.[0]?.keyid).toBeUndefined();
  });
});

function expectShape(value: Record<string, unknown>, kind: Kind): void {
  for (const key of REQUIRED[kind]) expect(typeof value[key], `${kind}.${key}`).toBe('string');
  if (kind === 'binary') {
    expect(value.size === null || typeof value.size === 'number').toBe(true);
    expect(['uploadable', 'hashable', 'hashing', 'signable', 'signed', 'destroyed']).toContain(value.state);
  }
}
