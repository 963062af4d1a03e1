import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  expectSpec,
  HELLO,
  startTestRegistry,
  uploadParts,
  waitForState,
  type TestRegistry,
} from './support.js';

describe('hello-binary.fw from artifact to signed (a fixed key, file and signature)', () => {
  let t: TestRegistry;
  beforeAll(async () => {
    t = await startTestRegistry();
  });
  afterAll(() => t.close());

  it('walks create → upload → hashable → hashing → signable → signed, every answer matching the spec', async () => {
    const artifact = await t.api('POST', '/artifacts', {
      name: 'my-first-artifact',
      description: null,
      custom_metadata: null,
    });
    expect(artifact.status).toBe(201);
    expectSpec('/artifacts', 'post', 201, artifact.body);
    expect(artifact.body.artifact.prn).toMatch(new RegExp(`^prn:1:${t.org}:artifact:[0-9a-f-]{36}$`));
    expect(artifact.body.artifact.inserted_at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);

    const version = await t.api('POST', '/artifact_versions', {
      artifact_prn: artifact.body.artifact.prn,
      version: '1.0.0',
      description: null,
      custom_metadata: null,
    });
    expect(version.status).toBe(201);
    expectSpec('/artifact_versions', 'post', 201, version.body);

    const created = await t.api('POST', '/binaries', {
      artifact_version_prn: version.body.artifact_version.prn,
      hash: HELLO.hash,
      size: HELLO.content.length,
      target: 'portable',
      description: null,
      custom_metadata: null,
    });
    expect(created.status).toBe(201);
    expectSpec('/binaries', 'post', 201, created.body);
    const binary = created.body.binary;
    expect(binary).toMatchObject({
      state: 'uploadable',
      revision: 0,
      signatures: [],
      hash: HELLO.hash,
      size: 14,
    });

    const [upload] = await uploadParts(t, binary.prn, HELLO.content);
    expect(upload!.status).toBe(200);
    expect(upload!.etag).toBe(`"${HELLO.hash}"`);
    expectSpec('/binaries/{binary_prn}/parts/{index}', 'put', 201, { binary_part: upload!.part });
    expect(upload!.part.presigned_upload_url).toMatch(/\/_presigned\/parts\//);

    const parts = await t.api('GET', `/binaries/${binary.prn}/parts`);
    expectSpec('/binaries/{binary_prn}/parts', 'get', 200, parts.body);
    expect(parts.body.binary_parts).toMatchObject([{ index: 1, state: 'valid', size: 14, hash: HELLO.hash }]);

    const hashable = await t.api('PATCH', `/binaries/${binary.prn}`, { prn: binary.prn, state: 'hashable' });
    expect(hashable.status).toBe(200);
    expectSpec('/binaries/{binary_prn}', 'patch', 200, hashable.body);
    expect((await t.api('PATCH', `/binaries/${binary.prn}`, { state: 'hashing' })).body.binary.state).toBe(
      'hashing',
    );
    await waitForState(t, binary.prn, ['signable']);

    const key = await t.api('POST', '/signing_keys', { name: 'demo key', value: HELLO.keyValue });
    expect(key.status).toBe(201);
    expectSpec('/signing_keys', 'post', 201, key.body);
    expect(key.body.signing_key.keyid).toBe(HELLO.keyid);

    const signature = await t.api('POST', '/binary_signatures', {
      binary_prn: binary.prn,
      signing_key_prn: key.body.signing_key.prn,
      signature: HELLO.signature,
    });
    expect(signature.status).toBe(201);
    expectSpec('/binary_signatures', 'post', 201, signature.body);
    expect(signature.body.binary_signature).toMatchObject({ keyid: HELLO.keyid, signature: HELLO.signature });

    const signed = await t.api('PATCH', `/binaries/${binary.prn}`, { prn: binary.prn, state: 'signed' });
    expect(signed.status).toBe(200);
    expect(signed.body.binary.state).toBe('signed');
    expect(signed.body.binary.signatures).toEqual([
      {
        signature: HELLO.signature,
        signing_key_prn: key.body.signing_key.prn,
        keyid: HELLO.keyid,
        public_value: HELLO.keyPem,
      },
    ]);
    expectSpec('/binaries/{binary_prn}', 'get', 200, (await t.api('GET', `/binaries/${binary.prn}`)).body);

    const url = await t.api('GET', `/binaries/${binary.prn}/download_url`);
    expectSpec('/binaries/{binary_prn}/download_url', 'get', 200, url.body);
    expectSpec('/artifacts', 'get', 200, (await t.api('GET', '/artifacts')).body);
    expectSpec('/artifact_versions', 'get', 200, (await t.api('GET', '/artifact_versions')).body);
    expectSpec('/binaries', 'get', 200, (await t.api('GET', '/binaries')).body);
    expectSpec('/binary_signatures', 'get', 200, (await t.api('GET', '/binary_signatures')).body);
    expectSpec('/signing_keys', 'get', 200, (await t.api('GET', '/signing_keys')).body);
    const download = await fetch(url.body.download_url);
    expect(download.status).toBe(200);
    expect(Buffer.from(await download.arrayBuffer()).equals(HELLO.content)).toBe(true);
  });
});
