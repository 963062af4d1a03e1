/**
 * Security of the registry's HTTP surface, against a real registry process: the API key guards every Admin
 * API route; presigned URLs grant exactly what they were signed for, and only until they expire; PRNs of
 * another organization are not found; and no path or index reaches a file outside the data dir.
 */
import { randomUUID } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRegistry } from '../helpers/registry-process.js';
import {
  call,
  createArtifactVersion,
  makeKey,
  measurement,
  ok,
  PART_SIZE,
  publishRaw,
  registerKey,
  sha256,
  type Registry,
} from './registry-api.js';

const SENTINEL_TEXT = 'SENTINEL-SECRET-do-not-serve';
const SIGNED_CONTENT = 'content-of-the-signed-binary';
const OTHER_CONTENT = 'content-of-another-signed-binary';

let root: string;
let registry: Registry;
let org: string;
/** Real records, so that a route that forgot its auth check would succeed and the test would see it. */
let fx: {
  artifactPrn: string;
  versionPrn: string;
  signedPrn: string;
  otherSignedPrn: string;
  keyPrn: string;
  signaturePrn: string;
  uploadablePrn: string;
  /** Presigned URLs of parts 1 and 2 of the uploadable binary, and the bytes each expects. */
  partUrls: string[];
  partBytes: Buffer[];
};

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'peridio-security-'));
  await mkdir(join(root, 'sentinel', 'nested'), { recursive: true });
  await writeFile(join(root, 'sentinel', 'secret.txt'), SENTINEL_TEXT);
  await writeFile(join(root, 'sentinel', 'nested', '1'), SENTINEL_TEXT);
  registry = await startRegistry({ dataDir: join(root, 'data') });

  const key = makeKey();
  const keyPrn = await registerKey(registry, key);
  org = keyPrn.split(':')[2]!;
  const { artifactPrn, versionPrn } = await createArtifactVersion(registry, 'security');
  const signed = await publishRaw(registry, {
    versionPrn,
    target: 'signed',
    content: Buffer.from(SIGNED_CONTENT),
    key,
    keyPrn,
  });
  const { binary_signatures } = await ok(registry, 'GET', '/binary_signatures?limit=100');
  // A second downloadable binary: a download URL rewritten to its id must not serve it.
  const other = await publishRaw(registry, {
    versionPrn,
    target: 'signed-2',
    content: Buffer.from(OTHER_CONTENT),
    key,
    keyPrn,
  });

  // Two parts, so that a URL for part 1 rewritten to index 2 names a part that exists.
  const content = Buffer.alloc(PART_SIZE + 10, 7);
  const partBytes = [content.subarray(0, PART_SIZE), content.subarray(PART_SIZE)];
  const { binary } = await ok(registry, 'POST', '/binaries', {
    artifact_version_prn: versionPrn,
    target: 'uploadable',
    hash: sha256(content),
    size: content.length,
  });
  const partUrls: string[] = [];
  for (const [i, bytes] of partBytes.entries()) {
    const { binary_part } = await ok(registry, 'PUT', `/binaries/${binary.prn}/parts/${i + 1}`, {
      expected_binary_size: content.length,
      hash: sha256(bytes),
      size: bytes.length,
    });
    partUrls.push(binary_part.presigned_upload_url);
  }
  fx = {
    artifactPrn,
    versionPrn,
    signedPrn: signed.prn,
    otherSignedPrn: other.prn,
    keyPrn,
    signaturePrn: binary_signatures[0].prn,
    uploadablePrn: binary.prn,
    partUrls,
    partBytes,
  };
});

afterAll(async () => {
  await registry?.stop();
  if (root) await rm(root, { recursive: true, force: true });
});

/** Every Admin API route and method, with a body that would succeed if the key were right. */
function adminRoutes(): { method: string; path: string; body?: unknown }[] {
  const other = makeKey();
  return [
    { method: 'POST', path: '/artifacts', body: { name: 'created-without-key' } },
    { method: 'GET', path: '/artifacts' },
    { method: 'GET', path: `/artifacts/${fx.artifactPrn}` },
    { method: 'PATCH', path: `/artifacts/${fx.artifactPrn}`, body: { description: 'changed without key' } },
    { method: 'DELETE', path: `/artifacts/${fx.artifactPrn}` },
    { method: 'POST', path: '/artifact_versions', body: { artifact_prn: fx.artifactPrn, version: '9.9.9' } },
    { method: 'GET', path: '/artifact_versions' },
    { method: 'GET', path: `/artifact_versions/${fx.versionPrn}` },
    { method: 'PATCH', path: `/artifact_versions/${fx.versionPrn}`, body: { description: 'changed' } },
    { method: 'DELETE', path: `/artifact_versions/${fx.versionPrn}` },
    {
      method: 'POST',
      path: '/binaries',
      body: { artifact_version_prn: fx.versionPrn, target: 'no-key', hash: sha256('x'), size: 1 },
    },
    { method: 'GET', path: '/binaries' },
    { method: 'GET', path: `/binaries/${fx.signedPrn}` },
    { method: 'PATCH', path: `/binaries/${fx.signedPrn}`, body: { state: 'destroyed' } },
    { method: 'DELETE', path: `/binaries/${fx.uploadablePrn}` },
    { method: 'GET', path: `/binaries/${fx.signedPrn}/download_url` },
    { method: 'GET', path: `/binaries/${fx.uploadablePrn}/parts` },
    {
      method: 'PUT',
      path: `/binaries/${fx.uploadablePrn}/parts/1`,
      body: { expected_binary_size: PART_SIZE + 10, hash: sha256(fx.partBytes[0]!), size: PART_SIZE },
    },
    {
      method: 'POST',
      path: '/binary_signatures',
      body: { binary_prn: fx.signedPrn, signature: 'A'.repeat(128), signing_key_prn: fx.keyPrn },
    },
    { method: 'GET', path: '/binary_signatures' },
    { method: 'GET', path: `/binary_signatures/${fx.signaturePrn}` },
    { method: 'DELETE', path: `/binary_signatures/${fx.signaturePrn}` },
    { method: 'POST', path: '/signing_keys', body: { name: 'no-key', value: other.publicValue } },
    { method: 'GET', path: '/signing_keys' },
    { method: 'GET', path: `/signing_keys/${fx.keyPrn}` },
    { method: 'PATCH', path: `/signing_keys/${fx.keyPrn}`, body: { name: 'renamed without key' } },
    { method: 'DELETE', path: `/signing_keys/${fx.keyPrn}` },
  ];
}

describe('the Admin API key', () => {
  it('is required by every route and method: missing, wrong, truncated or wrong-scheme keys are 401/403', async () => {
    const before = await snapshotRecords();
    const badAuth: (string | null)[] = [
      null,
      'Token wrong-key',
      'Bearer wrong-key',
      `Token ${registry.apiKey.slice(0, -1)}`,
      `Token ${registry.apiKey}x`,
      `Basic ${Buffer.from(`user:${registry.apiKey}`).toString('base64')}`,
      'Token ',
    ];
    // HEAD is answered wherever GET is, so it must be guarded the same way.
    const routes = adminRoutes().flatMap((r) => (r.method === 'GET' ? [r, { ...r, method: 'HEAD' }] : [r]));
    const refused: string[] = [];
    for (const route of routes) {
      for (const auth of badAuth) {
        const reply = await call(registry, route.method, route.path, { auth, body: route.body });
        expect(
          [401, 403],
          `${route.method} ${route.path} with ${auth === null ? 'no key' : 'a bad key'}`,
        ).toContain(reply.status);
        expect(reply.text).not.toContain(registry.apiKey);
        refused.push(`${route.method} ${route.path}`);
      }
    }
    // Nothing changed: same records, nothing created, deleted or renamed.
    expect(await snapshotRecords()).toEqual(before);
    // The right key, in either scheme, still works: the refusals above were about the key.
    expect((await call(registry, 'GET', `/artifacts/${fx.artifactPrn}`)).status).toBe(200);
    expect((await call(registry, 'GET', '/artifacts', { auth: `Bearer ${registry.apiKey}` })).status).toBe(
      200,
    );
    measurement('Security', 'missing or wrong API key', {
      routes: routes.length,
      requests: refused.length,
      refused: refused.length,
    });
  });
});

async function snapshotRecords() {
  const get = async (path: string) => (await ok(registry, 'GET', path)) as Record<string, unknown>;
  return {
    artifacts: await get('/artifacts?limit=100'),
    versions: await get('/artifact_versions?limit=100'),
    binaries: await get('/binaries?limit=100'),
    parts: await get(`/binaries/${fx.uploadablePrn}/parts`),
    signatures: await get('/binary_signatures?limit=100'),
    keys: await get('/signing_keys?limit=100'),
  };
}

describe('presigned URLs', () => {
  const tamper = (url: string, edit: (u: URL) => void) => {
    const u = new URL(url);
    edit(u);
    return u.toString();
  };
  const flipHex = (s: string) => (s[0] === '0' ? '1' : '0') + s.slice(1);
  const putPart = (url: string, bytes: Buffer) =>
    call(registry, 'PUT', url, {
      auth: null,
      body: bytes,
      headers: { 'content-type': 'application/octet-stream' },
    });

  it('refuse a changed index, expiry, signature or binary, and accept the URL as issued', async () => {
    const [url1, url2] = fx.partUrls as [string, string];
    const [bytes1, bytes2] = fx.partBytes as [Buffer, Buffer];
    const otherBinaryId = fx.signedPrn.split(':')[4]!;
    const attempts: [string, string, Buffer][] = [
      ['index 1 → 2', url1.replace(/\/1\?/, '/2?'), bytes2],
      [
        'expires + 3600',
        tamper(url1, (u) =>
          u.searchParams.set('expires', String(Number(u.searchParams.get('expires')) + 3600)),
        ),
        bytes1,
      ],
      ['expires far future', tamper(url1, (u) => u.searchParams.set('expires', '99999999999')), bytes1],
      [
        'signature changed',
        tamper(url1, (u) => u.searchParams.set('sig', flipHex(u.searchParams.get('sig')!))),
        bytes1,
      ],
      [
        'signature of part 2',
        tamper(url1, (u) => u.searchParams.set('sig', new URL(url2).searchParams.get('sig')!)),
        bytes1,
      ],
      ['signature removed', tamper(url1, (u) => u.searchParams.delete('sig')), bytes1],
      ['expiry removed', tamper(url1, (u) => u.searchParams.delete('expires')), bytes1],
      ['other binary', url1.replace(/\/parts\/[^/]+\//, `/parts/${otherBinaryId}/`), bytes1],
    ];
    for (const [what, url, bytes] of attempts) {
      const reply = await putPart(url, bytes);
      expect(reply.status, what).toBe(403);
      expect(reply.text, what).toMatch(/presigned url/i);
    }
    const { binary_parts } = await ok(registry, 'GET', `/binaries/${fx.uploadablePrn}/parts`);
    expect(binary_parts.map((p: { state: string }) => p.state)).toEqual(['uploadable', 'uploadable']);

    expect((await putPart(url1, bytes1)).status).toBe(200);
    expect((await putPart(url2, bytes2)).status).toBe(200);

    const { download_url } = await ok(registry, 'GET', `/binaries/${fx.signedPrn}/download_url`);
    const downloads: [string, string][] = [
      [
        'expires + 3600',
        tamper(download_url, (u) =>
          u.searchParams.set('expires', String(Number(u.searchParams.get('expires')) + 3600)),
        ),
      ],
      [
        'signature changed',
        tamper(download_url, (u) => u.searchParams.set('sig', flipHex(u.searchParams.get('sig')!))),
      ],
      ['signature removed', tamper(download_url, (u) => u.searchParams.delete('sig'))],
      ['other binary', download_url.replace(fx.signedPrn.split(':')[4]!, fx.otherSignedPrn.split(':')[4]!)],
    ];
    for (const [what, url] of downloads) {
      const reply = await call(registry, 'GET', url, { auth: null });
      expect(reply.status, `download, ${what}`).toBe(403);
      expect(reply.text).not.toContain(SIGNED_CONTENT);
      expect(reply.text).not.toContain(OTHER_CONTENT);
    }
    const good = await call(registry, 'GET', download_url, { auth: null });
    expect(good.status).toBe(200);
    expect(good.text).toBe(SIGNED_CONTENT);
    measurement('Security', 'tampered presigned URL', {
      tampered: attempts.length + downloads.length,
      refused403: attempts.length + downloads.length,
      genuineAccepted: 3,
    });
  });

  it('refuse an expired URL (registry --presign-ttl 1)', async () => {
    const short = await startRegistry({ args: ['--presign-ttl', '1'] });
    try {
      const { versionPrn } = await createArtifactVersion(short, 'expiry');
      const bytes = Buffer.from('expires soon');
      const { binary } = await ok(short, 'POST', '/binaries', {
        artifact_version_prn: versionPrn,
        target: 'expiry',
        hash: sha256(bytes),
        size: bytes.length,
      });
      const { binary_part } = await ok(short, 'PUT', `/binaries/${binary.prn}/parts/1`, {
        hash: sha256(bytes),
        size: bytes.length,
        expected_binary_size: bytes.length,
      });
      await sleep(2_100);
      const reply = await call(short, 'PUT', binary_part.presigned_upload_url, { auth: null, body: bytes });
      expect(reply.status).toBe(403);
      expect(reply.text).toMatch(/expired/i);
      const { binary_parts } = await ok(short, 'GET', `/binaries/${binary.prn}/parts`);
      expect(binary_parts[0].state).toBe('uploadable');
      measurement('Security', 'expired presigned URL', {
        ttlSeconds: 1,
        waitedMs: 2100,
        status: reply.status,
      });
    } finally {
      await short.stop();
    }
  });
});

describe('another organization', () => {
  it('is not found: its PRNs (valid format, other org UUID) are 404 in paths and bodies', async () => {
    const otherOrg = randomUUID();
    const foreign = (prn: string) => prn.replace(org, otherOrg);
    const requests: { method: string; path: string; body?: unknown }[] = [
      { method: 'GET', path: `/artifacts/${foreign(fx.artifactPrn)}` },
      { method: 'PATCH', path: `/artifacts/${foreign(fx.artifactPrn)}`, body: { description: 'x' } },
      { method: 'DELETE', path: `/artifacts/${foreign(fx.artifactPrn)}` },
      { method: 'GET', path: `/artifact_versions/${foreign(fx.versionPrn)}` },
      { method: 'PATCH', path: `/artifact_versions/${foreign(fx.versionPrn)}`, body: { description: 'x' } },
      { method: 'DELETE', path: `/artifact_versions/${foreign(fx.versionPrn)}` },
      { method: 'GET', path: `/binaries/${foreign(fx.signedPrn)}` },
      { method: 'PATCH', path: `/binaries/${foreign(fx.signedPrn)}`, body: { state: 'destroyed' } },
      { method: 'DELETE', path: `/binaries/${foreign(fx.uploadablePrn)}` },
      { method: 'GET', path: `/binaries/${foreign(fx.signedPrn)}/download_url` },
      { method: 'GET', path: `/binaries/${foreign(fx.uploadablePrn)}/parts` },
      {
        method: 'PUT',
        path: `/binaries/${foreign(fx.uploadablePrn)}/parts/1`,
        body: { hash: sha256(fx.partBytes[0]!), size: PART_SIZE, expected_binary_size: PART_SIZE + 10 },
      },
      { method: 'GET', path: `/binary_signatures/${foreign(fx.signaturePrn)}` },
      { method: 'DELETE', path: `/binary_signatures/${foreign(fx.signaturePrn)}` },
      { method: 'GET', path: `/signing_keys/${foreign(fx.keyPrn)}` },
      { method: 'PATCH', path: `/signing_keys/${foreign(fx.keyPrn)}`, body: { name: 'x' } },
      { method: 'DELETE', path: `/signing_keys/${foreign(fx.keyPrn)}` },
      {
        method: 'POST',
        path: '/artifact_versions',
        body: { artifact_prn: foreign(fx.artifactPrn), version: '7.0.0' },
      },
      {
        method: 'POST',
        path: '/binaries',
        body: { artifact_version_prn: foreign(fx.versionPrn), target: 'foreign', hash: sha256('f'), size: 1 },
      },
      {
        method: 'POST',
        path: '/binary_signatures',
        body: { binary_prn: foreign(fx.signedPrn), signature: 'A'.repeat(128), signing_key_prn: fx.keyPrn },
      },
    ];
    const before = await snapshotRecords();
    for (const request of requests) {
      const reply = await call(registry, request.method, request.path, { body: request.body });
      expect(reply.status, `${request.method} ${request.path}`).toBe(404);
    }
    expect(await snapshotRecords()).toEqual(before);
    measurement('Security', 'other organization PRN', {
      requests: requests.length,
      status404: requests.length,
    });
  });
});

describe('path traversal', () => {
  it('in PRNs and indexes is 4xx and touches no file outside the data dir', async () => {
    const outside = await snapshotTree(root, [join(root, 'data')]);
    const dataFiles = await snapshotTree(join(root, 'data'), [], /\.(db|sqlite)(-wal|-shm)?$|^api-key$/);
    const binaryId = fx.uploadablePrn.split(':')[4]!;
    const [url1] = fx.partUrls as [string];
    const query = url1.slice(url1.indexOf('?'));
    const traversals = [
      '..',
      '%2e%2e',
      '..%2f..%2fsentinel',
      '%2e%2e%2f%2e%2e%2fsentinel%2fsecret.txt',
      '..%5c..%5csentinel',
      '%2F..%2F..%2Fsentinel',
    ];
    const prn = (type: string, id: string) => `prn:1:${org}:${type}:${id}`;
    const paths: [string, string][] = [];
    for (const t of traversals) {
      paths.push(['GET', `/artifacts/${t}`], ['GET', `/binaries/${prn('binary', t)}`]);
      paths.push(
        ['GET', `/binaries/${prn('binary', t)}/download_url`],
        ['GET', `/binaries/${prn('binary', t)}/parts`],
      );
      paths.push(
        ['PUT', `/binaries/${prn('binary', t)}/parts/1`],
        ['DELETE', `/signing_keys/${prn('signing_key', t)}`],
      );
      paths.push(['PUT', `/binaries/${fx.uploadablePrn}/parts/${t}`]);
      paths.push(
        ['PUT', `/_presigned/parts/${t}/1${query}`],
        ['PUT', `/_presigned/parts/${binaryId}/${t}${query}`],
      );
      paths.push(['GET', `/_presigned/download/${t}${query}`]);
    }
    paths.push(['GET', '/_presigned/download/../../sentinel/secret.txt'], ['GET', '/../sentinel/secret.txt']);
    paths.push(['GET', `/binaries/${fx.signedPrn}/../../../sentinel/secret.txt`]);
    paths.push(['PUT', `/_presigned/parts/${binaryId}/1%2f..%2f..%2f..%2fsentinel${query}`]);
    for (const index of [
      '0',
      '-1',
      '10001',
      '1e3',
      '1.5',
      '0x1',
      '+1',
      '%201',
      '99999999999999999999',
      'NaN',
    ]) {
      paths.push(
        ['PUT', `/binaries/${fx.uploadablePrn}/parts/${index}`],
        ['PUT', `/_presigned/parts/${binaryId}/${index}${query}`],
      );
    }
    const statuses: Record<string, number> = {};
    for (const [method, path] of paths) {
      const reply = await call(registry, method, path, {
        body:
          method === 'PUT'
            ? { hash: sha256('PWNED'), size: 5, expected_binary_size: PART_SIZE + 10 }
            : undefined,
        auth: path.startsWith('/_presigned') ? null : undefined,
      });
      expect(
        reply.status >= 400 && reply.status < 500,
        `${method} ${path}: HTTP ${reply.status} ${reply.text}`,
      ).toBe(true);
      expect(reply.text).not.toContain(SENTINEL_TEXT);
      statuses[reply.status] = (statuses[reply.status] ?? 0) + 1;
    }
    for (const [type, field, body] of [
      ['artifact_version', 'artifact_version_prn', { target: 'traversal', hash: sha256('x'), size: 1 }],
      ['artifact', 'artifact_prn', { version: '6.6.6' }],
    ] as const) {
      const path = type === 'artifact' ? '/artifact_versions' : '/binaries';
      const reply = await call(registry, 'POST', path, {
        body: { ...body, [field]: prn(type, '../../sentinel') },
      });
      expect(reply.status, `${path} ${field}`).toBeGreaterThanOrEqual(400);
      expect(reply.status).toBeLessThan(500);
    }
    const outsideAfter = await snapshotTree(root, [join(root, 'data')]);
    const changedOutside = [...new Set([...Object.keys(outside), ...Object.keys(outsideAfter)])].filter(
      (path) => outside[path] !== outsideAfter[path],
    );
    expect(changedOutside).toEqual([]);
    expect(await snapshotTree(join(root, 'data'), [], /\.(db|sqlite)(-wal|-shm)?$|^api-key$/)).toEqual(
      dataFiles,
    );
    expect(await readFile(join(root, 'sentinel', 'secret.txt'), 'utf8')).toBe(SENTINEL_TEXT);
    measurement('Security', 'path traversal', {
      requests: paths.length + 2,
      statuses,
      filesChangedOutsideDataDir: changedOutside.length,
    });
  });
});

/** path → size, mtime and SHA-256 of every file under dir (skipping `exclude` dirs and names matching `skip`). */
async function snapshotTree(dir: string, exclude: string[], skip?: RegExp): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  const walk = async (current: string) => {
    for (const entry of await readdir(current, { withFileTypes: true })) {
      const path = join(current, entry.name);
      if (exclude.includes(path) || skip?.test(entry.name)) continue;
      if (entry.isDirectory()) {
        out[`${relative(dir, path)}/`] = 'dir';
        await walk(path);
      } else {
        const info = await stat(path);
        out[relative(dir, path)] = `${info.size} ${info.mtimeMs} ${sha256(await readFile(path))}`;
      }
    }
  };
  await walk(dir);
  return out;
}
