/**
 * Webhook deliveries survive the registry being killed: events queued while the receiver is down are
 * delivered after a SIGKILL and a restart on the same data dir, in order, each at least once.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startRegistry, type RegistryProcess } from '../helpers/registry-process.js';
import {
  signatureValid,
  startReceiver,
  type Receiver,
} from '../../packages/registry/test/access/receiver.js';

const ARGS = ['--allow-insecure-webhooks'];
const ENV = { PERIDIO_REGISTRY_WEBHOOK_BACKOFF_MS: '200,800' };

let registry: RegistryProcess;
let rx: Receiver;

async function api(method: string, path: string, body?: unknown) {
  const res = await fetch(registry.baseUrl + path, {
    method,
    headers: { authorization: `Token ${registry.apiKey}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}

beforeAll(async () => {
  rx = await startReceiver();
  registry = await startRegistry({ args: ARGS, env: ENV });
});
afterAll(async () => {
  await registry?.stop();
  await rx?.close();
});

it('delivers what was queued before a SIGKILL after the restart, in order', async () => {
  const created = await api('POST', '/webhooks', { url: rx.url, enabled_events: ['artifact.created'] });
  expect(created.status).toBe(201);
  const { prn, secret } = created.body.webhook;
  expect((await api('PATCH', `/webhooks/${prn}`, { state: 'enabled' })).status).toBe(200);

  await rx.down();
  const artifacts: string[] = [];
  for (let i = 0; i < 12; i++)
    artifacts.push((await api('POST', '/artifacts', { name: `kill-${i}` })).body.artifact.prn);
  await new Promise((r) => setTimeout(r, 700)); // queued, a few attempts failed
  await registry.kill('SIGKILL');

  await rx.up();
  const dataDir = registry.dataDir;
  registry = await startRegistry({ dataDir, args: ARGS, env: ENV });
  const mine = (r: { body: any }) =>
    r.body?.type === 'artifact' && artifacts.includes(r.body.data.data.after.prn);
  await rx.waitFor(12, 30_000, mine);
  const order: string[] = [];
  const seen = new Set<string>();
  for (const r of rx.received.filter(mine)) {
    expect(signatureValid(secret, r)).toBe(true);
    if (!seen.has(r.body.prn)) {
      seen.add(r.body.prn);
      order.push(r.body.data.data.after.prn);
    }
  }
  expect(order).toEqual(artifacts);
}, 60_000);
