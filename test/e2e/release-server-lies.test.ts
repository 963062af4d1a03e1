/**
 * verify-update does not take the server's word: a registry (here: a proxy in front of the real one)
 * that answers the update check with a manifest missing one of the bundle's binaries, or with signatures
 * by a key of its own (advertised as the signing key), fails the step naming the binary.
 */
import { createPrivateKey, sign } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { newKeyPair } from './scene.js';
import {
  apiInputs,
  expectOneAnnotation,
  expectSuccess,
  publishMatrix,
  startScene,
  step,
  TARGETS,
  type Scene,
} from './release-helpers.js';

let scene: Scene;
let proxy: http.Server;
let proxyUrl: string;
let rewrite: ((answer: { manifest: Record<string, unknown>[] }) => void) | undefined;

beforeAll(async () => {
  scene = await startScene();
  await publishMatrix(scene);
  // Forwards everything; rewrites the update check's answer with `rewrite` when set.
  proxy = http.createServer((req, res) => void relay(req, res));
  async function relay(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const upstream = await fetch(`${scene.registry.baseUrl}${req.url}`, {
      method: req.method,
      headers: Object.fromEntries(
        Object.entries(req.headers).filter(([k]) => !['host', 'connection', 'content-length'].includes(k)),
      ) as Record<string, string>,
      body: chunks.length ? Buffer.concat(chunks) : undefined,
    });
    let body = Buffer.from(await upstream.arrayBuffer());
    if (rewrite && /^\/devices\/[^/]+\/update$/.test(req.url ?? '')) {
      const answer = JSON.parse(body.toString('utf8'));
      rewrite(answer);
      body = Buffer.from(JSON.stringify(answer));
    }
    res.writeHead(upstream.status, {
      'content-type': upstream.headers.get('content-type') ?? 'application/json',
      'content-length': body.length,
    });
    res.end(body);
  }
  await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
  proxyUrl = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
}, 120_000);
afterAll(async () => {
  await new Promise((r) => proxy?.close(r));
  await scene?.stop();
});

async function released(cohort: string) {
  const bundle = await step('create-bundle', { ...apiInputs(scene), artifact: 'firmware' });
  expectSuccess(bundle);
  const release = await step('create-release', {
    ...apiInputs(scene),
    'bundle-prn': bundle.outputs['bundle-prn']!,
    cohort,
    product: 'p',
  });
  expectSuccess(release);
  return release.outputs['cohort-prn']!;
}

const verify = (cohort: string, device: string) =>
  step('verify-update', {
    'api-key': scene.registry.apiKey,
    'base-url': proxyUrl,
    device,
    'create-device': 'true',
    cohort,
    'release-version': '0.9.0',
    'trusted-signing-keys': scene.key.publicPem,
  });

it('through the honest proxy, the check verifies (the control)', async () => {
  rewrite = undefined;
  const run = await verify(await released('honest'), 'd-honest');
  expectSuccess(run);
  expect(run.outputs.verified).toBe(String(TARGETS.length));
});

it('a manifest that omits one of the bundle binaries fails naming that binary', async () => {
  let dropped = '';
  rewrite = (a) => {
    dropped = String(a.manifest[1]!.binary_prn);
    a.manifest.splice(1, 1);
  };
  const run = await verify(await released('omits'), 'd-omits');
  expectOneAnnotation(run, 'omits its binaries', dropped, 'part of the bundle');
});

it("a server's own key and signature, advertised in the manifest, are not trusted", async () => {
  const other = newKeyPair();
  const otherKey = createPrivateKey(other.privatePem);
  rewrite = (a) => {
    for (const item of a.manifest) {
      const forged = sign(null, Buffer.from(String(item.hash)), otherKey)
        .toString('hex')
        .toUpperCase();
      item.signatures = [
        {
          signature: forged,
          signing_key_prn: 'prn:1:x',
          keyid: 'f'.repeat(64),
          public_value: other.publicPem,
        },
      ];
    }
  };
  const run = await verify(await released('forged'), 'd-forged');
  expectOneAnnotation(run, '0 signature(s) verify with a trusted key, 1 needed', 'trusted-signing-keys');
  // The same manifest passes only for a repository that does trust that key.
  const trusting = await step('verify-update', {
    'api-key': scene.registry.apiKey,
    'base-url': proxyUrl,
    device: 'd-forged',
    'release-version': '0.9.0',
    'trusted-signing-keys': other.publicPem,
  });
  expectSuccess(trusting);
});
