import { randomUUID } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { BinaryRow } from '../../src/store/rows.js';
import { UniqueViolation, type Repositories, type Store } from '../../src/store/store.js';

/**
 * What every Store must do, whatever holds the records. Run for SQLite (sqlite-store.contract.test.ts);
 * a PostgreSQL store runs the same suite. It tests behaviour through the interface only, never SQL.
 */
export function describeStoreContract(
  name: string,
  makeStore: () => Promise<{ store: Store; cleanup(): Promise<void> }>,
): void {
  describe(`Store contract: ${name}`, () => {
    let store: Store;
    let cleanup: () => Promise<void>;
    const org = randomUUID();
    let clock = 0;
    const at = () => new Date(Date.UTC(2026, 0, 1, 0, 0, 0, ++clock)).toISOString().replace('Z', '000Z');

    beforeEach(async () => {
      ({ store, cleanup } = await makeStore());
    });
    afterEach(async () => cleanup());

    const artifact = (
      repos: Repositories = store,
      fields: Partial<{ name: string; description: string }> = {},
    ) => {
      const now = at();
      return repos.artifacts.insert({
        id: randomUUID(),
        org,
        name: fields.name ?? `a-${randomUUID()}`,
        description: fields.description ?? null,
        custom_metadata: null,
        inserted_at: now,
        updated_at: now,
      });
    };
    const version = async (artifactId?: string, v = '1.0.0') => {
      const now = at();
      return store.artifactVersions.insert({
        id: randomUUID(),
        org,
        artifact_id: artifactId ?? (await artifact()).id,
        version: v,
        description: null,
        custom_metadata: null,
        inserted_at: now,
        updated_at: now,
      });
    };
    const binary = async (versionId?: string, target = 'arm', size = 10) => {
      const now = at();
      return store.binaries.insert({
        id: randomUUID(),
        org,
        artifact_version_id: versionId ?? (await version()).id,
        target,
        hash: 'a'.repeat(64),
        size,
        description: null,
        custom_metadata: null,
        inserted_at: now,
        updated_at: now,
      });
    };
    const key = async (keyid = randomUUID().replaceAll('-', '').repeat(2)) => {
      const now = at();
      return store.signingKeys.insert({
        id: randomUUID(),
        org,
        name: 'k',
        value: 'v',
        keyid,
        inserted_at: now,
        updated_at: now,
      });
    };
    const part = (binaryId: string, idx: number, hash = 'b'.repeat(64), size = 5) =>
      store.parts.register({ binaryId, idx, id: randomUUID(), org, hash, size, at: at() });
    const unique = async (promise: Promise<unknown>) => {
      const err = await promise.then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(UniqueViolation);
      return (err as UniqueViolation).what;
    };

    describe('meta', () => {
      it('sets a key once; a second value does not replace it', async () => {
        expect(await store.meta.get('organization')).toBeUndefined();
        expect(await store.meta.setIfAbsent('organization', 'one')).toBe('one');
        expect(await store.meta.setIfAbsent('organization', 'two')).toBe('one');
        expect(await store.meta.get('organization')).toBe('one');
      });
    });

    describe('artifacts and versions', () => {
      it('finds by id only within the organization, and keeps unchanged fields on update', async () => {
        const a = await artifact(store, { name: 'fw', description: 'first' });
        expect(await store.artifacts.find(org, a.id)).toMatchObject({ name: 'fw', description: 'first' });
        expect(await store.artifacts.find(randomUUID(), a.id)).toBeUndefined();
        expect(await store.artifacts.idTaken(a.id)).toBe(true);
        const updated = await store.artifacts.update(a.id, { name: 'fw2', updated_at: at() });
        expect(updated).toMatchObject({ name: 'fw2', description: 'first', inserted_at: a.inserted_at });
        expect(updated.updated_at > a.updated_at).toBe(true);
      });

      it('keeps names unique per organization', async () => {
        const a = await artifact(store, { name: 'same' });
        expect(await store.artifacts.nameTaken(org, 'same')).toBe(true);
        expect(await store.artifacts.nameTaken(org, 'same', a.id)).toBe(false);
        expect(await unique(artifact(store, { name: 'same' }))).toBe('name');
      });

      it('allows one version string per artifact, the same string in another artifact', async () => {
        const a = await artifact();
        await version(a.id, '2.0.0');
        expect(await store.artifactVersions.versionTaken(a.id, '2.0.0')).toBe(true);
        expect(await unique(version(a.id, '2.0.0'))).toBe('version');
        await expect(version(undefined, '2.0.0')).resolves.toMatchObject({ version: '2.0.0' });
        expect(await store.artifacts.hasVersions(a.id)).toBe(true);
      });

      it('deletes a version together with its destroyed binaries', async () => {
        const v = await version();
        const b = await binary(v.id);
        await store.binaries.transition(b.id, { to: 'destroyed' }, at());
        expect(await store.binaries.hasLive(v.id)).toBe(false);
        await store.artifactVersions.delete(v.id);
        expect(await store.artifactVersions.find(org, v.id)).toBeUndefined();
        expect(await store.binaries.find(org, b.id)).toBeUndefined();
      });
    });

    describe('binaries', () => {
      it('starts uploadable, with one live binary per version and target', async () => {
        const v = await version();
        const b = await binary(v.id, 'x86');
        expect(b).toMatchObject({ state: 'uploadable', revision: 0, upload_generation: 0, blob_hash: null });
        expect((await store.binaries.findLive(v.id, 'x86'))?.id).toBe(b.id);
        expect(await unique(binary(v.id, 'x86'))).toBe('target');
        await expect(binary(v.id, 'arm')).resolves.toMatchObject({ target: 'arm' });
        // A destroyed binary frees its target.
        await store.binaries.transition(b.id, { to: 'destroyed' }, at());
        expect(await store.binaries.findLive(v.id, 'x86')).toBeUndefined();
        const again = await binary(v.id, 'x86');
        expect((await store.binaries.findLive(v.id, 'x86'))?.id).toBe(again.id);
      });

      it('applies transitions: reset bumps the generation; signable only for the generation being hashed', async () => {
        const b = await binary();
        await store.binaries.transition(b.id, { to: 'hashable' }, at());
        await store.binaries.transition(b.id, { to: 'hashing' }, at());
        expect(await store.binaries.idsInState('hashing')).toEqual([b.id]);
        const hashing = (await store.binaries.find(org, b.id))!;
        // A stale result (older generation) is refused.
        expect(
          await store.binaries.transition(
            b.id,
            { to: 'signable', generation: 99, blobHash: 'c'.repeat(64) },
            at(),
          ),
        ).toBe(false);
        expect(
          await store.binaries.transition(
            b.id,
            { to: 'signable', generation: hashing.upload_generation, blobHash: 'c'.repeat(64) },
            at(),
          ),
        ).toBe(true);
        expect(await store.binaries.find(org, b.id)).toMatchObject({
          state: 'signable',
          blob_hash: 'c'.repeat(64),
        });
        expect(await store.binaries.blobReferenced('c'.repeat(64))).toBe(true);
        // Not hashing any more: signable again is refused.
        expect(
          await store.binaries.transition(
            b.id,
            { to: 'signable', generation: hashing.upload_generation, blobHash: 'd'.repeat(64) },
            at(),
          ),
        ).toBe(false);

        await store.binaries.transition(b.id, { to: 'uploadable', hashError: 'why' }, at());
        const reset = (await store.binaries.find(org, b.id))!;
        expect(reset).toMatchObject({ state: 'uploadable', blob_hash: null, hash_error: 'why' });
        expect(reset.upload_generation).toBe(hashing.upload_generation + 1);
        expect(await store.binaries.blobReferenced('c'.repeat(64))).toBe(false);
        await store.binaries.transition(b.id, { to: 'hashable' }, at());
        expect((await store.binaries.find(org, b.id))!.hash_error).toBeNull();
      });

      it('destroying clears the content reference', async () => {
        const b = await binary();
        await store.binaries.transition(b.id, { to: 'hashable' }, at());
        await store.binaries.transition(b.id, { to: 'hashing' }, at());
        await store.binaries.transition(
          b.id,
          { to: 'signable', generation: 0, blobHash: 'e'.repeat(64) },
          at(),
        );
        await store.binaries.transition(b.id, { to: 'signed' }, at());
        await store.binaries.transition(b.id, { to: 'destroyed' }, at());
        expect(await store.binaries.find(org, b.id)).toMatchObject({ state: 'destroyed', blob_hash: null });
      });

      it('updates hash and size, keeping what is not given', async () => {
        const b = await binary();
        const u = await store.binaries.update(b.id, { size: 99, updated_at: at() });
        expect(u).toMatchObject({ size: 99, hash: b.hash, target: b.target });
      });
    });

    describe('parts', () => {
      it('lists parts by index; a valid part is re-registered with the same hash keeping its content', async () => {
        const b = await binary();
        await part(b.id, 2);
        await part(b.id, 1);
        expect((await store.parts.list(b.id)).map((p) => p.idx)).toEqual([1, 2]);
        expect(await store.parts.hasAfter(b.id, 1)).toBe(true);
        expect(await store.parts.hasAfter(b.id, 2)).toBe(false);
        const expect1 = { hash: 'b'.repeat(64), size: 5 };
        expect(await store.parts.markValid(b.id, 1, expect1, 'file-1', at())).toBe(true);
        expect(await store.parts.find(b.id, 1)).toMatchObject({ state: 'valid', file: 'file-1' });
        const same = await part(b.id, 1);
        expect(same).toMatchObject({ row: { state: 'uploadable', file: 'file-1' }, replacedFile: null });
        await store.parts.markValid(b.id, 1, expect1, 'file-1', at());
        const other = await part(b.id, 1, 'f'.repeat(64));
        expect(other).toMatchObject({
          row: { state: 'uploadable', file: null, hash: 'f'.repeat(64) },
          replacedFile: 'file-1',
        });
      });

      it('marks valid only the registered hash and size, only while the binary is uploadable', async () => {
        const b = await binary();
        await part(b.id, 1);
        expect(await store.parts.markValid(b.id, 1, { hash: 'c'.repeat(64), size: 5 }, 'x', at())).toBe(
          false,
        );
        expect(await store.parts.markValid(b.id, 1, { hash: 'b'.repeat(64), size: 6 }, 'x', at())).toBe(
          false,
        );
        await store.binaries.transition(b.id, { to: 'hashable' }, at());
        expect(await store.parts.markValid(b.id, 1, { hash: 'b'.repeat(64), size: 5 }, 'x', at())).toBe(
          false,
        );
        expect((await store.parts.find(b.id, 1))!.state).toBe('uploadable');
      });

      it('a rejection never changes a valid part, nor any part once the binary left uploadable', async () => {
        const b = await binary();
        const e = { hash: 'b'.repeat(64), size: 5 };
        await part(b.id, 1);
        await part(b.id, 2);
        expect(await store.parts.markRejected(b.id, 2, e, 'invalid_hash', at())).toBe(true);
        expect((await store.parts.find(b.id, 2))!.state).toBe('invalid_hash');
        await store.parts.markValid(b.id, 1, e, 'f1', at());
        expect(await store.parts.markRejected(b.id, 1, e, 'invalid_size', at())).toBe(false);
        expect((await store.parts.find(b.id, 1))!.state).toBe('valid');
        await store.binaries.transition(b.id, { to: 'hashable' }, at());
        expect(await store.parts.markRejected(b.id, 2, e, 'invalid_size', at())).toBe(false);
        expect((await store.parts.find(b.id, 2))!.state).toBe('invalid_hash');
      });

      it('deletes all parts of a binary, returning their content references', async () => {
        const b = await binary();
        const e = { hash: 'b'.repeat(64), size: 5 };
        await part(b.id, 1);
        await part(b.id, 2);
        await store.parts.markValid(b.id, 2, e, 'f2', at());
        expect(await store.parts.deleteAll(b.id)).toEqual(['f2']);
        expect(await store.parts.list(b.id)).toEqual([]);
      });
    });

    describe('signing keys and signatures', () => {
      it('keeps keyids unique and finds a key by its keyid or a 16-hex prefix', async () => {
        const k = await key('0123456789abcdef'.repeat(4));
        expect((await store.signingKeys.findByKeyid(org, k.keyid))?.id).toBe(k.id);
        expect((await store.signingKeys.findByKeyidPrefix(org, '0123456789abcdef'))?.id).toBe(k.id);
        expect(await store.signingKeys.findByKeyid(randomUUID(), k.keyid)).toBeUndefined();
        expect(await store.signingKeys.keyidTaken(org, k.keyid)).toBe(true);
        expect(await store.signingKeys.keyidTaken(org, k.keyid, k.id)).toBe(false);
        expect(await unique(key(k.keyid))).toBe('keyid');
      });

      it('one signature per binary and key; listed per binary in creation order with the key', async () => {
        const b = await binary();
        const k1 = await key();
        const k2 = await key();
        const sign = (keyId: string) => {
          const now = at();
          return store.signatures.insert({
            id: randomUUID(),
            org,
            binary_id: b.id,
            signing_key_id: keyId,
            signature: 'ab'.repeat(64),
            inserted_at: now,
            updated_at: now,
          });
        };
        const s1 = await sign(k2.id);
        await sign(k1.id);
        expect(await unique(sign(k1.id))).toBeTypeOf('string');
        expect((await store.signatures.findByKey(b.id, k2.id))?.id).toBe(s1.id);
        expect(await store.signatures.count(b.id)).toBe(2);
        expect((await store.signatures.forBinary(b.id)).map((s) => s.keyid)).toEqual([k2.keyid, k1.keyid]);
        const other = await binary();
        const batch = await store.signatures.forBinaries([b.id, other.id]);
        expect(batch.get(b.id)).toEqual(await store.signatures.forBinary(b.id));
        expect(batch.get(other.id)).toEqual([]);
        expect((await store.signatures.forBinaries([])).size).toBe(0);
        expect(await store.signingKeys.inUse(k1.id)).toBe(true);
        await store.signatures.delete(s1.id);
        expect(await store.signatures.count(b.id)).toBe(1);
        expect(await store.signingKeys.inUse(k2.id)).toBe(false);
      });
    });

    describe('listing', () => {
      it('pages in insertion order, both ways, and filters', async () => {
        const made = [];
        for (const name of ['alpha', 'beta', 'Gamma', 'delta', 'epsilon'])
          made.push(await artifact(store, { name }));
        const q = { org, limit: 2, order: 'asc' as const, after: 0, filters: [] };
        const first = await store.artifacts.list(q);
        expect(first.rows.map((r) => r.name)).toEqual(['alpha', 'beta']);
        expect(first.more).toBe(true);
        const rest = await store.artifacts.list({ ...q, limit: 10, after: first.rows[1]!.seq });
        expect(rest.rows.map((r) => r.name)).toEqual(['Gamma', 'delta', 'epsilon']);
        expect(rest.more).toBe(false);
        const desc = await store.artifacts.list({ ...q, order: 'desc', after: Number.MAX_SAFE_INTEGER });
        expect(desc.rows.map((r) => r.name)).toEqual(['epsilon', 'delta']);
        // Another organization's rows are never listed.
        expect((await store.artifacts.list({ ...q, org: randomUUID() })).rows).toEqual([]);

        const names = async (filters: Parameters<Store['artifacts']['list']>[0]['filters']) =>
          (await store.artifacts.list({ ...q, limit: 10, filters })).rows.map((r) => r.name);
        expect(await names([{ field: 'name', op: '=', value: 'beta' }])).toEqual(['beta']);
        expect(await names([{ field: 'name', op: 'contains', value: 'ta' }])).toEqual(['beta', 'delta']);
        expect(await names([{ field: 'name', op: 'contains', value: 'gamma' }])).toEqual([]);
        expect(await names([{ field: 'name', op: 'icontains', value: 'gamma' }])).toEqual(['Gamma']);
        expect(await names([{ field: 'prn', op: '=', prn: { org, id: made[3]!.id } }])).toEqual(['delta']);
        expect(await names([{ field: 'prn', op: '=', prn: { org: randomUUID(), id: made[3]!.id } }])).toEqual(
          [],
        );
        expect(await names([{ field: 'prn', never: true }])).toEqual([]);
        const secondOfDelta = made[3]!.inserted_at.slice(0, 19);
        expect(
          await names([{ field: 'inserted_at', op: '=', value: secondOfDelta, secondsOnly: true }]),
        ).toContain('delta');
        expect(await names([{ field: 'inserted_at', op: '>', value: made[3]!.inserted_at }])).toEqual([
          'epsilon',
        ]);
      });

      it('filters integers by comparison', async () => {
        const v = await version();
        for (const [target, size] of [
          ['a', 1],
          ['b', 50],
          ['c', 100],
        ] as const)
          await binary(v.id, target, size);
        const q = { org, limit: 10, order: 'asc' as const, after: 0 };
        const got = await store.binaries.list({ ...q, filters: [{ field: 'size', op: '>=', value: 50 }] });
        expect(got.rows.map((r: BinaryRow) => r.target)).toEqual(['b', 'c']);
      });
    });

    describe('transactions and content garbage', () => {
      it('a transaction that throws leaves nothing behind, garbage included', async () => {
        const err = await store
          .transaction(async (tx) => {
            const a = await artifact(tx, { name: 'rolled-back' });
            await tx.contentGarbage.add({ kind: 'blob', blobHash: 'a'.repeat(64) }, at());
            expect(await tx.artifacts.find(org, a.id)).toBeDefined();
            throw new Error('no');
          })
          .catch((e: unknown) => e);
        expect((err as Error).message).toBe('no');
        expect(await store.artifacts.nameTaken(org, 'rolled-back')).toBe(false);
        expect(await store.contentGarbage.pending()).toEqual([]);
      });

      it('records garbage durably until it is marked done', async () => {
        const id = await store.transaction((tx) =>
          tx.contentGarbage.add({ kind: 'parts', binaryId: 'x' }, at()),
        );
        await store.contentGarbage.add({ kind: 'part', binaryId: 'x', file: 'f' }, at());
        const pending = await store.contentGarbage.pending();
        expect(pending.map((p) => p.item)).toEqual([
          { kind: 'parts', binaryId: 'x' },
          { kind: 'part', binaryId: 'x', file: 'f' },
        ]);
        await store.contentGarbage.done(id);
        expect((await store.contentGarbage.pending()).map((p) => p.item.kind)).toEqual(['part']);
      });

      it('two transactions that check and then insert the same name create it once', async () => {
        const attempt = () =>
          store.transaction(async (tx) => {
            if (await tx.artifacts.nameTaken(org, 'race')) return 'taken';
            await artifact(tx, { name: 'race' });
            return 'created';
          });
        const results = await Promise.allSettled([attempt(), attempt(), attempt()]);
        const created = results.filter((r) => r.status === 'fulfilled' && r.value === 'created');
        expect(created).toHaveLength(1);
        for (const r of results) {
          if (r.status === 'rejected') expect(r.reason).toBeInstanceOf(UniqueViolation);
        }
        expect(
          (await store.artifacts.list({ org, limit: 10, order: 'asc', after: 0, filters: [] })).rows,
        ).toHaveLength(1);
      });
    });
  });
}
