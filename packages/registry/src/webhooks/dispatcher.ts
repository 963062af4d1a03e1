import type { Logger } from '@peridio-actions/core/base';
import { eventJson } from '../releases/json.js';
import { prn } from '../releases/prn.js';
import type { ReleaseStore } from '../store/release-store.js';
import type { Repositories } from '../store/store.js';
import type {
  AccessStore,
  DeliveryRecord,
  NewDelivery,
  SequencedEvent,
  WebhookRecord,
} from '../store/access-store.js';
import { nowTimestamp } from '../time.js';
import { postOnce, type PostOutcome } from './post.js';
import { signatureHeader } from './signature.js';
import { webhookUrlProblem } from './url-policy.js';

export interface DispatchOptions {
  /** Per attempt. */
  timeoutMs: number;
  /** First retry delay; doubles per attempt up to maxDelayMs, each with ±50 % jitter. */
  baseDelayMs: number;
  maxDelayMs: number;
  /** A delivery older than this is dropped (and a webhook.request_failed event recorded). */
  giveUpAfterMs: number;
  /** Fallback poll for events appended without a wake-up (e.g. by another process). */
  pollMs: number;
  allowInsecure: boolean;
  /**
   * Several instances share the store: each sends a webhook's head of line only under the lease
   * `webhook:<id>` (held for the attempt's timeout plus `ms`), so one instance at a time delivers a given
   * webhook, in order; one that dies mid-attempt leaves it to another once the lease runs out.
   */
  lease?: { leases: Repositories['leases']; owner: string; ms: number };
}

export const DEFAULT_DISPATCH: DispatchOptions = {
  timeoutMs: 10_000,
  baseDelayMs: 5_000,
  maxDelayMs: 3_600_000,
  giveUpAfterMs: 3 * 24 * 3600 * 1000,
  pollMs: 1_000,
  allowInsecure: false,
};

const MIN_CYCLE_GAP_MS = 100;

/** The event name a webhook subscribes to. */
const eventName = (e: { type: string; subtype: string }) => `${e.type}.${e.subtype}`;

/** Whether a webhook gets this event: test fires go only to their own webhook; failures never go out. */
function wants(webhook: WebhookRecord, event: SequencedEvent, org: string): boolean {
  const name = eventName(event);
  if (name === 'webhook.request_failed') return false;
  if (name === 'webhook.test_fire') return event.resource_prn === prn(org, 'webhook', webhook.id);
  return (
    webhook.state === 'enabled' &&
    event.inserted_at >= webhook.inserted_at &&
    webhook.enabled_events.includes(name)
  );
}

export function retryDelay(attempts: number, o: DispatchOptions, random = Math.random): number {
  const base = Math.min(o.maxDelayMs, o.baseDelayMs * 2 ** Math.max(0, attempts - 1));
  return Math.round(base * (0.5 + random()));
}

/**
 * Delivers events to webhooks in the background: fans new events out into the durable queue, then sends
 * each webhook's oldest delivery, one at a time per webhook (so in order), retrying with jittered backoff.
 * Nothing here runs inside a request; the API only wakes it. A delivery is deleted only after a 2xx, so a
 * crash at any point re-sends it after restart (at least once; receivers deduplicate on the event prn).
 */
export class WebhookDispatcher {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private again = false;
  private closed = false;
  private readonly inFlight = new Map<string, Promise<void>>();
  private readonly stopping = new AbortController();

  constructor(
    private readonly access: AccessStore,
    private readonly events: Pick<ReleaseStore, 'appendEvent'>,
    private readonly org: string,
    private readonly logger: Logger,
    private readonly options: DispatchOptions,
  ) {}

  start(): void {
    this.wake();
  }

  /** Something happened: look for work soon (coalesced; never awaited by the API). */
  wake(): void {
    if (this.closed) return;
    if (this.running) {
      this.again = true;
      return;
    }
    clearTimeout(this.timer);
    this.running = this.cycle()
      .catch((err: unknown) => {
        // A failed cycle (the database unreachable) polls again later: other instances' events and due
        // retries are found by polling alone.
        this.logger.error(`webhooks: ${(err as Error).message}`);
        this.pollIn(this.options.pollMs);
      })
      .finally(() => {
        this.running = undefined;
        if (this.again) {
          this.again = false;
          this.wake();
        }
      });
  }

  private async cycle(): Promise<void> {
    // Wake-ups in a burst share one cycle: fan-out writes one batch instead of one commit per event.
    await new Promise((r) => setTimeout(r, MIN_CYCLE_GAP_MS));
    const webhooks = new Map((await this.access.listWebhooks()).map((w) => [w.id, w]));
    if (webhooks.size === 0) {
      // Nothing to tell (insertWebhook restarts the cursor); polled still, for a webhook made elsewhere.
      this.pollIn(this.options.pollMs);
      return;
    }
    while ((await this.access.fanOut(500, (events, current) => this.route(events, current))) > 0) {
      /* until caught up */
    }
    const now = Date.now();
    let nextDue = now + this.options.pollMs;
    for (const head of await this.access.heads()) {
      if (this.inFlight.has(head.webhook_id)) continue;
      const webhook = webhooks.get(head.webhook_id);
      if (!webhook) continue;
      if (head.next_attempt_at > now) {
        nextDue = Math.min(nextDue, head.next_attempt_at);
        continue;
      }
      const attempt = this.deliverHead(webhook, head).finally(() => {
        this.inFlight.delete(head.webhook_id);
        this.wake();
      });
      this.inFlight.set(head.webhook_id, attempt);
    }
    this.pollIn(nextDue - Date.now());
  }

  private pollIn(ms: number): void {
    if (this.closed) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.wake(), Math.max(10, ms));
    this.timer.unref();
  }

  private route(events: SequencedEvent[], webhooks: WebhookRecord[]) {
    const at = Date.now();
    const out: NewDelivery[] = [];
    for (const event of events) {
      for (const webhook of webhooks) {
        if (!wants(webhook, event, this.org)) continue;
        out.push({ webhook_id: webhook.id, event_id: event.id, next_attempt_at: at, first_queued_at: at });
      }
    }
    return out;
  }

  /** One attempt at a webhook's head, under its lease when instances share the store. */
  private async deliverHead(webhook: WebhookRecord, head: DeliveryRecord): Promise<void> {
    const lease = this.options.lease;
    if (!lease) return this.attempt(webhook, head);
    const key = `webhook:${webhook.id}`;
    if (!(await lease.leases.claim(key, lease.owner, this.options.timeoutMs + lease.ms))) return; // another's
    try {
      // The head as it is now: another instance may have delivered the one read before the claim.
      const [current] = await this.access.heads(webhook.id);
      if (current && current.next_attempt_at <= Date.now()) await this.attempt(webhook, current);
    } finally {
      await lease.leases.release(key, lease.owner);
    }
  }

  private async attempt(webhook: WebhookRecord, d: DeliveryRecord): Promise<void> {
    // The stored webhook as it is now: a roll or URL change since the last cycle applies to this attempt.
    const body = JSON.stringify(envelope(this.org, d.event));
    if (this.closed) return;
    const outcome = await this.send((await this.access.getWebhook(webhook.id)) ?? webhook, body);
    if (outcome.ok) return this.access.deliveryDone(d.seq);
    if (this.closed) return; // not counted: shutting down is not the receiver's failure
    const attempts = d.attempts + 1;
    const next = Date.now() + retryDelay(attempts, this.options);
    const what = outcome.reason === 'response_status' ? `HTTP ${outcome.status}` : outcome.message;
    if (next - d.first_queued_at > this.options.giveUpAfterMs) {
      this.logger.warning(
        `webhook ${webhook.id}: giving up on event ${d.event_id} after ${attempts} attempts (${what})`,
      );
      await this.access.deliveryDone(d.seq);
      await this.events.appendEvent({
        type: 'webhook',
        subtype: 'request_failed',
        resource_prn: prn(this.org, 'webhook', webhook.id),
        actor_prn: null,
        data: {
          type: outcome.reason,
          data: {
            webhook: { prn: prn(this.org, 'webhook', webhook.id) },
            event_prn: prn(this.org, 'event', d.event_id),
            ...(outcome.reason === 'response_status' ? { status: outcome.status } : {}),
          },
        },
      });
      return;
    }
    this.logger.info(
      `webhook ${webhook.id}: attempt ${attempts} failed (${what}); retrying in ${next - Date.now()} ms`,
    );
    await this.access.deliveryRetry(d.seq, attempts, next);
  }

  /** One attempt to this webhook's URL, signed at send time with its secrets as given. */
  async send(webhook: WebhookRecord, body: string): Promise<PostOutcome> {
    const problem = webhookUrlProblem(webhook.url, this.options.allowInsecure);
    if (problem) return { ok: false, reason: 'connection_failed', message: `url ${problem}` };
    const publishedAt = nowTimestamp();
    return postOnce(
      webhook.url,
      body,
      {
        'peridio-published-at': publishedAt,
        'peridio-signature': signatureHeader(webhook, publishedAt, body),
      },
      this.options.timeoutMs,
      this.stopping.signal,
    );
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.timer);
    this.stopping.abort();
    await this.running;
    await Promise.all(this.inFlight.values());
  }
}

/** What a receiver gets: Peridio's event envelope (version, prn, type, inserted_at, data{type, data}). */
function envelope(org: string, event: SequencedEvent) {
  const { seq: _seq, ...record } = event;
  return eventJson(org, record);
}
