import { randomUUID } from 'node:crypto';
import { detailError, fieldError, notFound } from '../http.js';
import { KNOWN_EVENTS } from '../audit/event-names.js';
import { listRows } from '../list.js';
import { eventJson } from '../releases/json.js';
import { pathId, prn } from '../releases/prn.js';
import type { Route } from '../router.js';
import { dateField, stringField, type SearchFields } from '../search.js';
import type { ReleaseStore } from '../store/release-store.js';
import type { AccessStore, WebhookRecord } from '../store/access-store.js';
import { nowTimestamp } from '../time.js';
import type { WebhookDispatcher } from './dispatcher.js';
import { newWebhookSecret } from './signature.js';
import { webhookUrlProblem } from './url-policy.js';

export interface WebhookDeps {
  access: AccessStore;
  events: Pick<ReleaseStore, 'appendEvent'>;
  dispatcher: WebhookDispatcher;
  org: string;
  allowInsecure: boolean;
}

/** A webhook as the spec shows it; the secret only where a route adds it (create, roll_secret). */
const webhookJson = (org: string, w: WebhookRecord) => ({
  description: w.description ?? '',
  enabled_events: w.enabled_events,
  inserted_at: w.inserted_at,
  prn: prn(org, 'webhook', w.id),
  state: w.state,
  updated_at: w.updated_at,
  url: w.url,
});

const SEARCH: SearchFields = {
  description: stringField([':', '~']),
  inserted_at: dateField(),
  state: stringField(),
  updated_at: dateField(),
  url: stringField([':', '~']),
};

const MAX_TTL_SECONDS = 7 * 24 * 3600;

function eventsInput(value: unknown): string[] {
  if (!Array.isArray(value) || value.some((e) => typeof e !== 'string'))
    throw fieldError('enabled_events', 'is invalid: must be a list of event names');
  const unknown = value.filter((e) => !KNOWN_EVENTS.includes(e as string));
  if (unknown.length > 0)
    throw fieldError(
      'enabled_events',
      `is invalid: unknown event ${unknown.map((e) => `'${String(e)}'`).join(', ')}; known: ${KNOWN_EVENTS.join(', ')}`,
    );
  return [...new Set(value as string[])];
}

function descriptionInput(value: unknown): string | null {
  if (value === undefined || value === null) return null;
  if (typeof value !== 'string') throw fieldError('description', 'is invalid: must be a string');
  return value;
}

export function webhookRoutes(d: WebhookDeps): Route[] {
  const { access, org } = d;
  const find = async (value: string) => {
    const w = await access.getWebhook(pathId(org, value, 'webhook'));
    if (!w) throw notFound();
    return w;
  };
  const checkUrl = (url: unknown) => {
    const problem = webhookUrlProblem(url, d.allowInsecure);
    if (problem) throw fieldError('url', problem);
    return url as string;
  };
  /** The URL check: a test_fire body sent directly (not recorded), which must get a timely 2xx. */
  const verify = async (w: WebhookRecord) => {
    const at = nowTimestamp();
    const body = JSON.stringify({
      data: { type: 'test_fire', data: { webhook_prn: prn(org, 'webhook', w.id) } },
      inserted_at: at,
      prn: prn(org, 'event', randomUUID()),
      type: 'webhook',
      version: 1,
    });
    const outcome = await d.dispatcher.send(w, body);
    if (!outcome.ok) {
      const why = outcome.reason === 'response_status' ? `answered HTTP ${outcome.status}` : outcome.message;
      throw fieldError(
        'url',
        `did not accept the verification request (a webhook.test_fire): ${why}; expected 2xx`,
      );
    }
  };

  return [
    {
      method: 'POST',
      pattern: '/webhooks',
      auth: true,
      async handler({ body }) {
        const input = await body();
        const url = checkUrl(input.url);
        const at = nowTimestamp();
        const webhook = await access.insertWebhook({
          id: randomUUID(),
          url,
          description: descriptionInput(input.description),
          enabled_events: input.enabled_events === undefined ? [] : eventsInput(input.enabled_events),
          // Enabling is a separate step (PATCH state), which checks the URL first.
          state: 'disabled',
          secret: newWebhookSecret(),
          previous_secret: null,
          previous_secret_expires_at: null,
          inserted_at: at,
          updated_at: at,
        });
        return { status: 201, body: { webhook: { ...webhookJson(org, webhook), secret: webhook.secret } } };
      },
    },
    {
      method: 'GET',
      pattern: '/webhooks',
      auth: true,
      async handler({ query }) {
        const page = await listRows({ org }, query, { list: (q) => access.pageWebhooks(q) }, SEARCH);
        return {
          status: 200,
          body: { webhooks: page.rows.map((w) => webhookJson(org, w)), next_page: page.next_page },
        };
      },
    },
    {
      method: 'GET',
      pattern: '/webhooks/:prn',
      auth: true,
      async handler({ params }) {
        return { status: 200, body: { webhook: webhookJson(org, await find(params.prn!)) } };
      },
    },
    {
      method: 'PATCH',
      pattern: '/webhooks/:prn',
      auth: true,
      async handler({ params, body }) {
        const current = await find(params.prn!);
        const input = await body();
        const patch: Partial<WebhookRecord> = {};
        if (input.url !== undefined) patch.url = checkUrl(input.url);
        if (input.description !== undefined) patch.description = descriptionInput(input.description);
        if (input.enabled_events !== undefined) patch.enabled_events = eventsInput(input.enabled_events);
        if (input.state !== undefined) {
          if (input.state !== 'enabled' && input.state !== 'disabled')
            throw fieldError('state', 'is invalid: must be enabled or disabled');
          patch.state = input.state;
        }
        const next = { ...current, ...patch };
        const enabling = next.state === 'enabled' && current.state !== 'enabled';
        if (enabling || (next.state === 'enabled' && next.url !== current.url)) await verify(next);
        const updated = await access.updateWebhook(current.id, { ...patch, updated_at: nowTimestamp() });
        d.dispatcher.wake();
        return { status: 200, body: { webhook: webhookJson(org, updated) } };
      },
    },
    {
      method: 'DELETE',
      pattern: '/webhooks/:prn',
      auth: true,
      async handler({ params }) {
        const w = await find(params.prn!);
        await access.deleteWebhook(w.id);
        return { status: 204 };
      },
    },
    {
      method: 'POST',
      pattern: '/webhooks/:prn/roll_secret',
      auth: true,
      async handler({ params, body }) {
        const current = await find(params.prn!);
        const ttl = (await body()).webhook_ttl ?? 0;
        if (typeof ttl !== 'number' || !Number.isInteger(ttl) || ttl < 0 || ttl > MAX_TTL_SECONDS)
          throw fieldError(
            'webhook_ttl',
            `is invalid: must be an integer from 0 to ${MAX_TTL_SECONDS} seconds`,
          );
        const updated = await access.updateWebhook(current.id, {
          secret: newWebhookSecret(),
          previous_secret: ttl > 0 ? current.secret : null,
          previous_secret_expires_at: ttl > 0 ? new Date(Date.now() + ttl * 1000).toISOString() : null,
          updated_at: nowTimestamp(),
        });
        return { status: 200, body: { webhook: { ...webhookJson(org, updated), secret: updated.secret } } };
      },
    },
    {
      method: 'POST',
      pattern: '/webhooks/:prn/test_fire',
      auth: true,
      async handler({ params }) {
        const w = await find(params.prn!);
        if (w.state !== 'enabled') throw detailError(422, 'The webhook must be enabled to test fire it');
        const webhookPrn = prn(org, 'webhook', w.id);
        const event = await d.events.appendEvent({
          type: 'webhook',
          subtype: 'test_fire',
          resource_prn: webhookPrn,
          actor_prn: null,
          data: { webhook_prn: webhookPrn },
        });
        d.dispatcher.wake();
        const { actor_prn: _a, resource_prn: _r, event_subtype: _s, ...shown } = eventJson(org, event);
        return { status: 200, body: { event: shown } };
      },
    },
  ];
}
