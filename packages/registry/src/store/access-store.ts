import type { Role } from '../access/roles.js';
import type { EventRecord } from '../releases/types.js';
import type { NewEvent } from './release-store.js';
import type { ListQuery, Page } from './store.js';

/**
 * Records of access control and outgoing notifications: API keys, webhooks, and the durable delivery
 * queue. Each method is one transaction. Like ReleaseStore it is scoped to one organization; another
 * database (PostgreSQL) implements the same methods with the same atomicity.
 */
export interface ApiKeyRecord {
  id: string;
  name: string;
  role: Role;
  /** Hex SHA-256 of the whole key; the key itself is never stored. */
  hash: string;
  expires_at: string | null;
  revoked_at: string | null;
  inserted_at: string;
  updated_at: string;
}

/** A record with its insertion order, what `order` and the `page` cursor of a list use (list.ts). */
type Sequenced<T> = T & { seq: number };

export interface WebhookRecord {
  id: string;
  url: string;
  description: string | null;
  enabled_events: string[];
  state: 'enabled' | 'disabled';
  /** Upper-hex; the HMAC key is its hex-decoded bytes (docs/access-audit-webhooks.md). */
  secret: string;
  /** The secret before the last roll, still signing until `previous_secret_expires_at`. */
  previous_secret: string | null;
  previous_secret_expires_at: string | null;
  inserted_at: string;
  updated_at: string;
}

export interface DeliveryRecord {
  seq: number;
  webhook_id: string;
  event_id: string;
  /**
   * The event, read with the delivery (the queue holds only its id); the body is built from it at send
   * time, the same bytes on every retry.
   */
  event: SequencedEvent;
  attempts: number;
  /** Epoch ms. */
  next_attempt_at: number;
  first_queued_at: number;
}

export type NewDelivery = Omit<DeliveryRecord, 'seq' | 'attempts' | 'event'>;

/** An event with its insertion order, for the fan-out cursor. */
export type SequencedEvent = Sequenced<EventRecord>;

export interface AccessStore {
  /**
   * Appends audit events in one transaction (group commit: the requests of one moment share one durable
   * write). Same table and meaning as ReleaseStore.appendEvent.
   */
  appendEvents(events: NewEvent[]): Promise<void>;

  insertApiKey(row: ApiKeyRecord): Promise<ApiKeyRecord>;
  getApiKey(id: string): Promise<ApiKeyRecord | undefined>;
  /** One page, as every list of the API pages (`GET /api_keys`). */
  pageApiKeys(query: ListQuery): Promise<Page<Sequenced<ApiKeyRecord>>>;
  /** Sets revoked_at once (a second revoke keeps the first time); undefined when there is no such key. */
  revokeApiKey(id: string, at: string): Promise<ApiKeyRecord | undefined>;

  insertWebhook(row: WebhookRecord): Promise<WebhookRecord>;
  getWebhook(id: string): Promise<WebhookRecord | undefined>;
  /** Every webhook, oldest first (the dispatcher's view). */
  listWebhooks(): Promise<WebhookRecord[]>;
  /** One page, as every list of the API pages (`GET /webhooks`). */
  pageWebhooks(query: ListQuery): Promise<Page<Sequenced<WebhookRecord>>>;
  updateWebhook(
    id: string,
    patch: Partial<Omit<WebhookRecord, 'id' | 'inserted_at'>> & { updated_at: string },
  ): Promise<WebhookRecord>;
  /** Deletes the webhook and its queued deliveries. */
  deleteWebhook(id: string): Promise<boolean>;

  /**
   * Fan-out: events after the stored cursor (the first call starts at the newest event, so history is
   * not sent), up to `limit`, handed to `route` with the webhooks as they are in the same transaction,
   * whose deliveries are queued and the cursor advanced in that transaction: an event is queued exactly
   * once even across a crash, and even when several registry instances fan out at once.
   */
  fanOut(
    limit: number,
    route: (events: SequencedEvent[], webhooks: WebhookRecord[]) => NewDelivery[],
  ): Promise<number>;
  /** The oldest queued delivery of each webhook (its head of line), due or not; of one webhook if given. */
  heads(webhookId?: string): Promise<DeliveryRecord[]>;
  deliveryDone(seq: number): Promise<void>;
  deliveryRetry(seq: number, attempts: number, nextAttemptAt: number): Promise<void>;
  pendingCount(webhookId?: string): Promise<number>;
}
