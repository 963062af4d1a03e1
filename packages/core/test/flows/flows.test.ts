import { describe, expect, it } from 'vitest';
import {
  ApiError,
  ConflictError,
  ensureArtifactVersion,
  ensureBinary,
  InputError,
  memoryLogger,
  parsePrivateKey,
  signBinary,
  TimeoutError,
  verifyHashSignature,
  waitWhileHashing,
  withProvenance,
  type Binary,
} from '../../src/index.js';
import { throttledProgress } from '../../src/flows/progress.js';
import { FakeApi, prn } from './fake-api.js';

const HASH_A = 'a'.repeat(64);
const HASH_B = 'b'.repeat(64);
const key = parsePrivateKey('9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60');
const otherKey = parsePrivateKey('4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb');

describe('ensureArtifactVersion', () => {
  it('creates the artifact and the version when neither exists', async () => {
    const api = new FakeApi();
    const result = await ensureArtifactVersion({ api, artifact: 'fw', version: '1.0.0' });
    expect(result).toMatchObject({ created: true, artifactCreated: true });
    expect(api.writes()).toEqual(['POST artifact fw', 'POST version 1.0.0']);
  });

  it('a create that loses the race takes the winner’s record and reports created: false', async () => {
    const api = new FakeApi();
    api.loseNextCreate.add('artifact').add('version');
    const result = await ensureArtifactVersion({ api, artifact: 'fw', version: '1.0.0' });
    expect(result.created).toBe(false);
    expect(result.artifactVersion.prn).toBe(api.versions[0]!.prn);
    expect(api.versions).toHaveLength(1);
  });

  it('does not swallow a create failure that is not a lost race', async () => {
    const api = new FakeApi();
    api.createArtifactVersion = async () => {
      throw new ApiError(422, 'POST', '/artifact_versions', 'Validation errors', { version: ['is invalid'] });
    };
    await expect(ensureArtifactVersion({ api, artifact: 'fw', version: '1.0.0' })).rejects.toMatchObject({
      fieldErrors: { version: ['is invalid'] },
    });
  });

  it('an artifact PRN that does not exist is an InputError naming artifact', async () => {
    const api = new FakeApi();
    const missing = prn('artifact');
    await expect(ensureArtifactVersion({ api, artifact: missing, version: '1.0.0' })).rejects.toMatchObject({
      input: 'artifact',
    });
    expect(api.writes()).toEqual([]);
  });
});

describe('ensureBinary', () => {
  const av = prn('artifact_version');
  const base = { artifactVersionPrn: av, target: 't', hash: HASH_A, size: 10 };

  it('same content in any state: continues where it stands, writing nothing', async () => {
    for (const state of ['uploadable', 'hashing', 'signable', 'signed'] as const) {
      const api = new FakeApi();
      const existing = api.addBinary({
        artifact_version_prn: av,
        target: 't',
        hash: HASH_A,
        size: 10,
        state,
      });
      const result = await ensureBinary({ api, ...base });
      expect(result).toMatchObject({ outcome: 'found', binary: { prn: existing.prn, state } });
      expect(api.writes()).toEqual([]);
    }
  });

  it('other content, not signed: resets to uploadable, then sets the new hash and size', async () => {
    const api = new FakeApi();
    const existing = api.addBinary({
      artifact_version_prn: av,
      target: 't',
      hash: HASH_B,
      size: 99,
      state: 'signable',
    });
    const result = await ensureBinary({ api, ...base });
    expect(result.outcome).toBe('reset');
    expect(api.writes()).toEqual([
      `PATCH ${existing.prn} {"state":"uploadable"}`,
      `PATCH ${existing.prn} {"hash":"${HASH_A}","size":10}`,
    ]);
  });

  it('a reset refused because another job moved the record on: a ConflictError naming the target', async () => {
    const api = new FakeApi();
    const existing = api.addBinary({
      artifact_version_prn: av,
      target: 't',
      hash: HASH_B,
      size: 99,
      state: 'uploadable',
    });
    api.updateBinary = async () => {
      existing.state = 'hashing';
      throw new ApiError(422, 'PATCH', `/binaries/${existing.prn}`, 'Validation errors', {
        hash: ['can only change while uploadable'],
      });
    };
    const error = await ensureBinary({ api, ...base }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConflictError);
    expect((error as Error).message).toContain(`target 't'`);
    expect((error as Error).message).toContain(HASH_B);
    expect((error as Error).message).toContain('another job');
  });

  it('other content, signed: a ConflictError naming both hashes, and nothing written', async () => {
    const api = new FakeApi();
    api.addBinary({ artifact_version_prn: av, target: 't', hash: HASH_B, size: 99, state: 'signed' });
    const error = await ensureBinary({ api, ...base }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConflictError);
    expect((error as Error).message).toContain(HASH_A);
    expect((error as Error).message).toContain(HASH_B);
    expect(api.writes()).toEqual([]);
  });

  it('only a destroyed binary for the target: a clear error, nothing created', async () => {
    const api = new FakeApi();
    api.addBinary({ artifact_version_prn: av, target: 't', hash: HASH_A, size: 10, state: 'destroyed' });
    await expect(ensureBinary({ api, ...base })).rejects.toThrow(/was destroyed/);
    expect(api.writes()).toEqual([]);
  });

  it('ignores binaries of the same target in another version', async () => {
    const api = new FakeApi();
    api.addBinary({
      artifact_version_prn: prn('artifact_version'),
      target: 't',
      hash: HASH_B,
      size: 1,
      state: 'signed',
    });
    expect((await ensureBinary({ api, ...base })).outcome).toBe('created');
  });
});

describe('signBinary', () => {
  function signable(api: FakeApi, fields: Partial<Binary> = {}) {
    return api.addBinary({
      artifact_version_prn: prn('artifact_version'),
      target: 't',
      hash: HASH_A,
      size: 10,
      state: 'signable',
      ...fields,
    });
  }

  it('finds the registered key by the private key’s public half, signs, verifies and sends', async () => {
    const api = new FakeApi();
    api.addKey(otherKey.publicValue);
    const registered = api.addKey(key.publicValue);
    const binary = signable(api);
    const result = await signBinary({ api, binaryPrn: binary.prn, key });
    expect(result.signingKey.prn).toBe(registered.prn);
    expect(verifyHashSignature(HASH_A, result.signature, key.publicKey)).toBe(true);
    expect(api.writes()).toEqual([`POST signature ${binary.prn}`, `PATCH ${binary.prn} {"state":"signed"}`]);
  });

  it('already signed by this key: success, and nothing sent', async () => {
    const api = new FakeApi();
    api.addKey(key.publicValue);
    const binary = signable(api);
    const first = await signBinary({ api, binaryPrn: binary.prn, key });
    api.calls = [];
    const again = await signBinary({ api, binaryPrn: binary.prn, key });
    expect(again).toMatchObject({
      alreadySigned: true,
      signature: first.signature,
      binarySignaturePrn: first.binarySignaturePrn,
    });
    expect(api.writes()).toEqual([]);
  });

  it('a signature that does not verify against the registered key is never sent', async () => {
    const api = new FakeApi();
    // Registered under this key's keyid but with another public value: the local check must catch it.
    api.addKey(otherKey.publicValue, key.keyid);
    const binary = signable(api);
    await expect(signBinary({ api, binaryPrn: binary.prn, key })).rejects.toThrow(
      /does not verify.*nothing was sent/,
    );
    expect(api.writes()).toEqual([]);
  });

  it('a signing-key-prn of another key is an InputError naming signing-key-prn', async () => {
    const api = new FakeApi();
    const other = api.addKey(otherKey.publicValue);
    const binary = signable(api);
    await expect(
      signBinary({ api, binaryPrn: binary.prn, key, signingKeyPrn: other.prn }),
    ).rejects.toMatchObject({
      input: 'signing-key-prn',
    });
    expect(api.writes()).toEqual([]);
  });

  it('an unregistered key is an InputError naming signing-key-private and the public value', async () => {
    const api = new FakeApi();
    const binary = signable(api);
    const error = await signBinary({ api, binaryPrn: binary.prn, key }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InputError);
    expect(error).toMatchObject({ input: 'signing-key-private' });
    expect((error as Error).message).toContain(key.publicValue);
  });

  it('tolerates a 422 on PATCH signed when the binary is already signed', async () => {
    const api = new FakeApi();
    api.addKey(key.publicValue);
    const binary = signable(api);
    api.updateBinary = async () => {
      throw new ApiError(422, 'PATCH', '/binaries', 'Validation errors', { state: ['invalid transition'] });
    };
    const result = await signBinary({ api, binaryPrn: binary.prn, key });
    expect(result.binary.state).toBe('signed');
  });

  it('a signature refused because another job reset the record: a ConflictError naming the target', async () => {
    const api = new FakeApi();
    api.addKey(key.publicValue);
    const binary = signable(api, { target: 'x86_64-linux-gnu' });
    api.createBinarySignature = async () => {
      Object.assign(api.binaries[0]!, { hash: HASH_B, state: 'uploadable' });
      throw new ApiError(422, 'POST', '/binary_signatures', 'binary must be signable to be signed');
    };
    const error = await signBinary({ api, binaryPrn: binary.prn, key, expectedHash: HASH_A }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ConflictError);
    expect((error as Error).message).toMatch(/another job .*'x86_64-linux-gnu'.*bbbb/);
  });

  it('refuses a binary whose upload is not complete, naming the step to run', async () => {
    const api = new FakeApi();
    api.addKey(key.publicValue);
    const binary = signable(api, { state: 'uploadable' });
    await expect(signBinary({ api, binaryPrn: binary.prn, key })).rejects.toThrow(/Run upload-binary/);
  });
});

describe('waitWhileHashing', () => {
  it('waits a tenth of the time so far between polls, within the first delay and the cap, and times out with advice', async () => {
    let t = 0;
    const sleeps: number[] = [];
    const waitedBefore: number[] = [];
    const api = { getBinary: async () => ({ state: 'hashing' }) as Binary };
    const error = await waitWhileHashing({
      api,
      binaryPrn: 'prn',
      timeoutMs: 60_000,
      firstDelayMs: 200,
      maxDelayMs: 5_000,
      now: () => t,
      sleep: async (ms) => {
        waitedBefore.push(t);
        sleeps.push(ms);
        t += ms;
      },
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TimeoutError);
    expect((error as Error).message).toMatch(/hashing-timeout/);
    expect(sleeps.slice(0, 3)).toEqual([200, 200, 200]);
    // The last sleep is cut to the deadline; every other follows the rule.
    sleeps
      .slice(0, -1)
      .forEach((ms, i) => expect(ms).toBe(Math.min(5_000, Math.max(200, Math.ceil(waitedBefore[i]! / 10)))));
    expect(Math.max(...sleeps)).toBe(5_000);
    expect(t).toBe(60_000);
  });

  it('returns as soon as the state leaves hashing', async () => {
    const states = ['hashing', 'hashing', 'uploadable'];
    const api = { getBinary: async () => ({ state: states.shift() }) as Binary };
    const binary = await waitWhileHashing({ api, binaryPrn: 'prn', sleep: async () => {} });
    expect(binary.state).toBe('uploadable');
  });
});

describe('withProvenance', () => {
  it('adds the run’s provenance under the user’s keys, which win', () => {
    const merged = withProvenance(
      { commit: 'mine', board: 'rev-b' },
      { repository: 'o/r', commit: 'abc', ref: 'refs/tags/v1', workflowRunUrl: 'https://x/runs/1' },
    );
    expect(merged).toEqual({
      repository: 'o/r',
      commit: 'mine',
      ref: 'refs/tags/v1',
      workflow_run_url: 'https://x/runs/1',
      board: 'rev-b',
    });
  });

  it('leaves the metadata alone outside a runner', () => {
    expect(withProvenance(undefined, {})).toBeUndefined();
    expect(withProvenance({ a: 1 }, undefined)).toEqual({ a: 1 });
  });
});

describe('throttledProgress', () => {
  it('logs at most once per interval, with percent, bytes and MiB/s, and not at the end', () => {
    let t = 0;
    const logger = memoryLogger();
    const report = throttledProgress(logger, 'Uploading', { intervalMs: 5_000, now: () => t });
    for (let done = 0; done <= 100e6; done += 1e6) {
      t += 200; // 1 MB per 200 ms = 5 MB/s
      report({ done, total: 100e6 });
    }
    const lines = logger.lines.map((l) => l.message);
    // 20 s of transfer: a line at 5, 10, 15 and 20 s, none for the completed transfer.
    expect(lines).toHaveLength(4);
    expect(lines[0]).toBe('Uploading: 24% (22.9 MiB of 95.4 MiB) at 4.6 MiB/s');
    expect(lines.some((line) => line.includes('100%'))).toBe(false);
  });
});
