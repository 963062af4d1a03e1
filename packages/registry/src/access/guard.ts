import type { Logger } from '@peridio-actions/core/base';
import { HttpError } from '../http.js';
import { StoreUnavailable } from '../store/store.js';
import type { EventType } from '../releases/types.js';
import type { Route, RouteRequest, RouteResult } from '../router.js';
import type { EventWriter } from '../audit/event-writer.js';
import { ROUTE_EVENTS } from '../audit/event-names.js';
import { scrub } from '../audit/scrub.js';
import type { Actor } from './api-keys.js';
import { allows, permissionFor, rolesAllowing, ROUTE_ACCESS, routeKey } from './roles.js';

export interface GuardDeps {
  events: Pick<EventWriter, 'append'>;
  logger: Logger;
}

type State = Record<string, unknown> | null;

/** Writes of one event while the database is unreachable: ~3 s in all, then the request fails. */
const RECORD_ATTEMPTS = 4;
const RECORD_RETRY_MS = 500;

/**
 * Runs a route for an actor: refuses what its role may not do (403 naming the role needed), then records
 * every state-changing request that succeeded as an event with who, what (before and after), when and from
 * where. The event is committed right after the change and before the response: a client that got a 2xx
 * has its event. When the event cannot be written (after retries while the database is unreachable), the
 * change stays but the answer is a 500 that says so, never a 2xx (docs/access-audit-webhooks.md).
 */
export class Guard {
  private readonly reads = new Map<string, Route>();

  constructor(
    routes: Route[],
    private readonly deps: GuardDeps,
  ) {
    const missing = routes.filter(
      (r) =>
        !(routeKey(r.method, r.pattern) in ROUTE_ACCESS) ||
        (r.method !== 'GET' && !(routeKey(r.method, r.pattern) in ROUTE_EVENTS)),
    );
    if (missing.length > 0) {
      // A bug: a route shipped without a decision on who may call it or what it records.
      throw new Error(
        `routes without an access rule or audit event (access/roles.ts, audit/event-names.ts): ${missing
          .map((r) => routeKey(r.method, r.pattern))
          .join(', ')}`,
      );
    }
    for (const r of routes) if (r.method === 'GET') this.reads.set(r.pattern, r);
  }

  async authorize(route: Route, request: RouteRequest, actor: Actor): Promise<void> {
    const access = ROUTE_ACCESS[routeKey(route.method, route.pattern)]!;
    const body = typeof access === 'object' ? await request.body().catch(() => undefined) : undefined;
    const permission = permissionFor(access, body);
    if (allows(actor.role, permission)) return;
    const roles = rolesAllowing(permission);
    const needed = roles.filter((r) => r !== 'admin');
    throw new HttpError(403, {
      errors: {
        detail: `Forbidden: ${route.method} ${route.pattern} needs an API key with role ${
          needed.length ? `${needed.join(' or ')} (or admin)` : 'admin'
        }; the key '${actor.name}' has role ${actor.role}`,
      },
    });
  }

  async run(route: Route, request: RouteRequest, actor: Actor | undefined): Promise<RouteResult> {
    const event = route.method === 'GET' ? null : ROUTE_EVENTS[routeKey(route.method, route.pattern)];
    if (!event) return route.handler(request);
    const before = await this.read(route.pattern, request);
    // A first signature moves its binary to `signed`: that state change is recorded as well.
    const signedBinary =
      event === 'binary_signature.created' ? await this.signedBinaryPrn(request) : undefined;
    const binaryBefore = signedBinary && (await this.read('/binaries/:prn', request, { prn: signedBinary }));
    const result = await route.handler(request);
    const status = result?.status ?? request.res.statusCode;
    if (status < 400) {
      await this.durably(event, () => this.record(event, route, request, actor, before, result));
      if (signedBinary && binaryBefore) {
        const binaryAfter = await this.read('/binaries/:prn', request, { prn: signedBinary });
        if (binaryAfter && binaryAfter.state !== binaryBefore.state) {
          await this.durably('binary.state_changed', () =>
            this.record('binary.updated', route, request, actor, binaryBefore, {
              status,
              body: { binary: binaryAfter },
            }),
          );
        }
      }
    }
    return result;
  }

  /**
   * Writes an event, retrying while the database is unreachable (a restart, a failover); if it still cannot,
   * the request fails with a 500 that says the change was made, so no 2xx goes out without its event.
   */
  private async durably(event: string, write: () => Promise<void>): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await write();
      } catch (err) {
        if (err instanceof StoreUnavailable && attempt < RECORD_ATTEMPTS) {
          await new Promise((r) => setTimeout(r, RECORD_RETRY_MS * attempt));
          continue;
        }
        const message = (err as Error).message;
        this.deps.logger.error(`audit event ${event} not recorded: ${message}`);
        throw new HttpError(500, {
          errors: {
            detail: `The change was made, but its audit event ${event} could not be recorded: ${message}`,
          },
        });
      }
    }
  }

  private async signedBinaryPrn(request: RouteRequest): Promise<string | undefined> {
    const body = await request.body().catch(() => undefined);
    return typeof body?.binary_prn === 'string' ? body.binary_prn : undefined;
  }

  /** The resource's state through its own GET route (same path), or null when there is none. */
  private async read(pattern: string, request: RouteRequest, params = request.params): Promise<State> {
    const get = this.reads.get(pattern);
    // Only a path naming one resource has a state before; `/artifacts` is a list, `/_presigned` a capability.
    if (!get || !pattern.includes('/:prn') || pattern.includes('_presigned')) return null;
    try {
      const result = await get.handler({ ...request, params, query: new URLSearchParams() });
      return resourceOf(result?.body);
    } catch {
      return null;
    }
  }

  private async record(
    event: string,
    route: Route,
    request: RouteRequest,
    actor: Actor | undefined,
    before: State,
    result: RouteResult,
  ): Promise<void> {
    const after = resourceOf(result?.body);
    const [type, action] = event.split('.') as [string, string];
    let subtype = action;
    const data: Record<string, unknown> = {
      action: `${type}.${action}`,
      actor: actor ? { api_key_prn: actor.prn, name: actor.name, role: actor.role } : null,
      remote_address: request.req.socket.remoteAddress ?? null,
      request: { method: route.method, path: route.pattern },
      before: scrub(before),
      after: scrub(after),
    };
    // Peridio's own api_key.created payload names the key; kept beside ours.
    if (event === 'api_key.created' && after) data.api_key_prn = after.prn;
    if (type === 'binary' && before && after && before.state !== after.state) {
      subtype = 'state_changed';
      data.from_state = before.state;
      data.to_state = after.state;
    }
    if (type === 'binary_signature' && after) {
      // What was signed and where the binary came from, as the action recorded it on the binary.
      const binary = await this.read('/binaries/:prn', request, { prn: String(after.binary_prn) });
      const metadata = (binary?.custom_metadata ?? {}) as Record<string, unknown>;
      const pick = (k: string) => (typeof metadata[k] === 'string' ? metadata[k] : null);
      data.signature = {
        signing_key_prn: after.signing_key_prn ?? null,
        keyid: after.keyid ?? null,
        hash: binary?.hash ?? null,
        provenance: {
          repository: pick('repository'),
          commit: pick('commit'),
          ref: pick('ref'),
          workflow_run_url: pick('workflow_run_url'),
        },
      };
    }
    const resourcePrn =
      (after?.prn as string | undefined) ?? (before?.prn as string | undefined) ?? request.params.prn ?? null;
    await this.deps.events.append({
      type: type as EventType,
      subtype,
      resource_prn: resourcePrn,
      actor_prn: actor?.prn ?? null,
      data: data,
    });
  }
}

/** `{binary: {...}}` → the binary; anything else → null. */
function resourceOf(body: unknown): State {
  if (!body || typeof body !== 'object') return null;
  const values = Object.values(body as Record<string, unknown>).filter(
    (v) => v && typeof v === 'object' && !Array.isArray(v),
  );
  return values.length === 1 ? (values[0] as Record<string, unknown>) : null;
}
