import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBinary, expectSpec, HELLO, startTestRegistry, type TestRegistry } from './support.js';

describe('artifacts, artifact versions, listing, search, auth', () => {
  let t: TestRegistry;
  beforeAll(async () => {
    t = await startTestRegistry();
  });
  afterAll(() => t.close());

  it('creates, gets, updates, lists and deletes artifacts; names are unique', async () => {
    const id = randomUUID();
    const created = await t.api('POST', '/artifacts', {
      name: 'crud',
      description: 'd',
      custom_metadata: { a: 1 },
      id,
    });
    expect(created.status).toBe(201);
    const prn = created.body.artifact.prn;
    expect(prn).toBe(`prn:1:${t.org}:artifact:${id}`);
    expect(created.body.artifact).toMatchObject({
      description: 'd',
      custom_metadata: { a: 1 },
      organization_prn: `prn:1:${t.org}`,
    });
    expect((await t.api('POST', '/artifacts', { name: 'crud' })).body).toEqual({
      errors: { name: ['has already been taken'] },
    });

    const got = await t.api('GET', `/artifacts/${prn}`);
    expectSpec('/artifacts/{artifact_prn}', 'get', 200, got.body);
    const patched = await t.api('PATCH', `/artifacts/${prn}`, {
      prn,
      description: 'new',
      name: null,
      unknown: true,
    });
    expectSpec('/artifacts/{artifact_prn}', 'patch', 200, patched.body);
    expect(patched.body.artifact).toMatchObject({
      name: 'crud',
      description: 'new',
      custom_metadata: { a: 1 },
    });
    expect(patched.body.artifact.updated_at > patched.body.artifact.inserted_at).toBe(true);

    const version = await t.api('POST', '/artifact_versions', { artifact_prn: prn, version: '1.0.0' });
    expect((await t.api('DELETE', `/artifacts/${prn}`)).status).toBe(422);
    expect((await t.api('DELETE', `/artifact_versions/${version.body.artifact_version.prn}`)).status).toBe(
      204,
    );
    expect((await t.api('DELETE', `/artifacts/${prn}`)).status).toBe(204);
    expect((await t.api('GET', `/artifacts/${prn}`)).status).toBe(404);
  });

  it('keeps versions unique per artifact and immutable', async () => {
    const a = (await t.api('POST', '/artifacts', { name: 'versions-a' })).body.artifact.prn;
    const b = (await t.api('POST', '/artifacts', { name: 'versions-b' })).body.artifact.prn;
    const v = await t.api('POST', '/artifact_versions', {
      artifact_prn: a,
      version: '2.0.0',
      description: null,
      custom_metadata: null,
    });
    expect(v.status).toBe(201);
    expect((await t.api('POST', '/artifact_versions', { artifact_prn: a, version: '2.0.0' })).body).toEqual({
      errors: { version: ['has already been taken'] },
    });
    expect((await t.api('POST', '/artifact_versions', { artifact_prn: b, version: '2.0.0' })).status).toBe(
      201,
    );
    const prn = v.body.artifact_version.prn;
    expectSpec(
      '/artifact_versions/{artifact_version_prn}',
      'get',
      200,
      (await t.api('GET', `/artifact_versions/${prn}`)).body,
    );
    const patched = await t.api('PATCH', `/artifact_versions/${prn}`, { prn, description: 'notes' });
    expectSpec('/artifact_versions/{artifact_version_prn}', 'patch', 200, patched.body);
    expect(patched.body.artifact_version.description).toBe('notes');
    expect((await t.api('PATCH', `/artifact_versions/${prn}`, { version: '3.0.0' })).status).toBe(422);
    const list = await t.api('GET', `/artifact_versions?search=${encodeURIComponent(`artifact_prn:'${a}'`)}`);
    expectSpec('/artifact_versions', 'get', 200, list.body);
    expect(list.body.artifact_versions).toHaveLength(1);
  });

  it('validates bodies: required fields, lengths, types, PRNs; null means not given', async () => {
    expect((await t.api('POST', '/artifacts', { name: null })).body).toEqual({
      errors: { name: ["can't be blank"] },
    });
    expect((await t.api('POST', '/artifacts', { name: 'x'.repeat(129) })).status).toBe(422);
    expect(
      (await t.api('POST', '/artifacts', { name: 'm', custom_metadata: [1] })).body.errors.custom_metadata,
    ).toEqual(['is invalid: must be a JSON object']);
    expect((await t.api('POST', '/artifacts', '{not json')).status).toBe(400);
    expect(
      (await t.api('POST', '/artifact_versions', { artifact_prn: 'nope', version: '1' })).body.errors
        .artifact_prn,
    ).toEqual(['is invalid: must be an artifact PRN']);
    const missing = await t.api('POST', '/artifact_versions', {
      artifact_prn: `prn:1:${t.org}:artifact:${randomUUID()}`,
      version: '1',
    });
    expect(missing.status).toBe(404);
    const av = (
      await t.api('POST', '/artifact_versions', {
        artifact_prn: (await t.api('POST', '/artifacts', { name: 'bodies' })).body.artifact.prn,
        version: '1',
      })
    ).body.artifact_version.prn;
    const bad = await t.api('POST', '/binaries', {
      artifact_version_prn: av,
      hash: 'xyz',
      size: -1,
      target: '',
    });
    expect(bad.status).toBe(422);
    const ok = await t.api('POST', '/binaries', {
      artifact_version_prn: av,
      hash: `sha256:${HELLO.hash.toUpperCase()}`,
      size: 14,
      target: 't',
    });
    expect(ok.body.binary.hash).toBe(HELLO.hash);
  });

  it('refuses a body over the limit with 413', async () => {
    const res = await t.api('POST', '/artifacts', {
      name: 'big',
      custom_metadata: { blob: 'x'.repeat(3 * 1024 * 1024) },
    });
    expect(res.status).toBe(413);
  });

  it('answers 401 with a JSON error without the key, with a wrong key, and accepts Bearer', async () => {
    for (const authorization of [undefined, 'Token wrong', 'Basic dGVzdC1rZXk=']) {
      const res = await fetch(`${t.baseUrl}/artifacts`, { headers: authorization ? { authorization } : {} });
      expect(res.status).toBe(401);
      expect(((await res.json()) as any).errors.detail).toContain('Unauthorized');
    }
    const bearer = await t.api('GET', '/artifacts', undefined, { authorization: `Bearer ${t.apiKey}` });
    expect(bearer.status).toBe(200);
    expect((await t.api('GET', '/artifacts', undefined, { 'x-api-version': '9' })).status).toBe(400);
    const noVersion = await fetch(`${t.baseUrl}/artifacts`, {
      headers: { authorization: `Token ${t.apiKey}` },
    });
    expect(noVersion.status).toBe(200);
  });

  it("answers 404 for another organization's PRNs and for malformed ones", async () => {
    const mine = (await t.api('POST', '/artifacts', { name: 'org-check' })).body.artifact.prn as string;
    const foreign = mine.replace(t.org, randomUUID());
    expect((await t.api('GET', `/artifacts/${foreign}`)).status).toBe(404);
    expect((await t.api('PATCH', `/artifacts/${foreign}`, { name: 'stolen' })).status).toBe(404);
    expect((await t.api('DELETE', `/artifacts/${foreign}`)).status).toBe(404);
    expect((await t.api('POST', '/artifact_versions', { artifact_prn: foreign, version: '1' })).status).toBe(
      404,
    );
    for (const path of [
      '/artifacts/prn:1:x',
      '/binaries/..%2F..%2Fetc/parts',
      '/binaries/prn:1:x:binary:..%2F..',
    ]) {
      const res = await t.api('GET', path);
      expect(res.status).toBe(404);
      expect(res.body.errors.detail).toContain('Not Found');
    }
    // The SDK's trailing-slash base URL yields `//artifacts`; an encoded colon decodes.
    expect((await t.api('GET', '//artifacts')).status).toBe(200);
    expect((await t.api('GET', `/artifacts/${mine.replaceAll(':', '%3A')}`)).status).toBe(200);
    expect((await t.api('DELETE', '/artifacts')).status).toBe(405);
  });

  it('pages with limit, order and next_page, carrying search and order in the cursor', async () => {
    const av = (
      await t.api('POST', '/artifact_versions', {
        artifact_prn: (await t.api('POST', '/artifacts', { name: 'paging' })).body.artifact.prn,
        version: '1',
      })
    ).body.artifact_version.prn;
    const prns: string[] = [];
    for (let i = 0; i < 13; i++)
      prns.push((await createBinary(t, Buffer.from(`p${i}`), `page-${i}`, `v${i}`)).prn);
    void av;
    const search = encodeURIComponent("target~'page-'");
    const first = await t.api('GET', `/binaries?search=${search}`);
    expectSpec('/binaries', 'get', 200, first.body);
    expect(first.body.binaries).toHaveLength(10);
    expect(first.body.binaries.map((b: { prn: string }) => b.prn)).toEqual(prns.slice(0, 10));
    const second = await t.api('GET', `/binaries?page=${encodeURIComponent(first.body.next_page)}`);
    expect(second.body.binaries.map((b: { prn: string }) => b.prn)).toEqual(prns.slice(10));
    expect(second.body.next_page).toBeNull();

    const desc = await t.api('GET', `/binaries?search=${search}&order=desc&limit=5`);
    expect(desc.body.binaries.map((b: { prn: string }) => b.prn)).toEqual(prns.slice(-5).reverse());
    const desc2 = await t.api('GET', `/binaries?page=${encodeURIComponent(desc.body.next_page)}&limit=5`);
    expect(desc2.body.binaries.map((b: { prn: string }) => b.prn)).toEqual(prns.slice(3, 8).reverse());

    expect((await t.api('GET', '/binaries?limit=101')).body.errors.limit).toEqual([
      'must be an integer from 1 to 100',
    ]);
    expect((await t.api('GET', '/binaries?limit=0')).status).toBe(422);
    expect((await t.api('GET', '/binaries?order=sideways')).status).toBe(422);
    expect((await t.api('GET', '/binaries?page=garbage')).body.errors.page).toEqual([
      'is invalid: pass the next_page value of a previous response',
    ]);
    expect((await t.api('GET', '/binaries?limit=100')).body.binaries.length).toBeGreaterThanOrEqual(13);
  });

  it("finds a binary with the CLI's exact search, form-encoded, with \\' escapes", async () => {
    const binary = await createBinary(t, Buffer.from('search me'), "it's-a-target", '9.9.9');
    const search = `target:'it\\'s-a-target' and artifact_version_prn:'${binary.artifact_version_prn}'`;
    const form = new URLSearchParams({ search }).toString(); // spaces as '+', ':' and '\'' encoded, as reqwest does
    const res = await t.api('GET', `/binaries?${form}`);
    expect(res.body.binaries.map((b: { prn: string }) => b.prn)).toEqual([binary.prn]);
    const by = async (q: string) => (await t.api('GET', `/binaries?search=${encodeURIComponent(q)}`)).body;
    expect((await by(`prn:'${binary.prn}'`)).binaries).toHaveLength(1);
    expect((await by(`hash:'${binary.hash}' and state:'uploadable'`)).binaries).toHaveLength(1);
    expect((await by(`size:9 and target:'it\\'s-a-target'`)).binaries).toHaveLength(1);
    expect((await by(`size>9 and target:'it\\'s-a-target'`)).binaries).toHaveLength(0);
    expect(
      (await by(`inserted_at>'2000-01-01T00:00:00Z' and target:'it\\'s-a-target'`)).binaries,
    ).toHaveLength(1);
    expect(
      (await by(`artifact_version_prn:'prn:1:${randomUUID()}:artifact_version:${randomUUID()}'`)).binaries,
    ).toEqual([]);
    const artifacts = await t.api('GET', `/artifacts?search=${encodeURIComponent("name-'PAGING'")}`);
    expect(artifacts.body.artifacts.map((a: { name: string }) => a.name)).toEqual(['paging']);
  });

  it('answers 422 naming what it does not support in a search', async () => {
    for (const [q, text] of [
      ["colour:'red'", 'search on "colour" is not supported'],
      ["hash~'ab'", 'operator "~" is not supported for "hash"'],
      ['target:unquoted', 'must be single-quoted'],
      ["target:'open", 'unterminated'],
      ["a:'1' and b:'2' and c:'3' and d:'4' and e:'5' and f:'6'", 'at most 5 clauses'],
      ["target:'x' or state:'signed'", 'unexpected text after the quoted value'],
    ] as const) {
      const res = await t.api('GET', `/binaries?search=${encodeURIComponent(q)}`);
      expect(res.status, q).toBe(422);
      expect(res.body.errors.search[0], q).toContain(text);
    }
  });
});
