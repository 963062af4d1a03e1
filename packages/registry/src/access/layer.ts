import type { IncomingMessage } from 'node:http';
import type { RegistryContext } from '../context.js';
import type { Route, RouteRequest, RouteResult } from '../router.js';
import type { ReleaseStore } from '../store/release-store.js';
import { DEFAULT_DISPATCH, WebhookDispatcher, type DispatchOptions } from '../webhooks/dispatcher.js';
import { webhookRoutes } from '../webhooks/routes.js';
import { apiKeyRoutes } from './api-key-routes.js';
import { Authenticator, keyDigest, type Actor } from './api-keys.js';
import { Guard } from './guard.js';
import type { EventWriter } from '../audit/event-writer.js';

export interface AccessOptions {
  /** The key the registry was started with: keeps working as the `admin` key. */
  bootstrapKey: string;
  allowInsecureWebhooks?: boolean;
  webhookDispatch?: Partial<DispatchOptions>;
  /** Several instances share the store: webhook deliveries are leased per webhook for this long (ms). */
  sharedLeaseMs?: number;
}

/**
 * API keys with roles, the audit trail and webhooks, as one piece server.ts plugs in: `routes` adds the
 * /api_keys and /webhooks routes, `seal` takes the complete route list (refusing a route without an access
 * rule), `authenticate` finds the actor, `run` authorizes and records the request.
 */
export class AccessLayer {
  readonly dispatcher: WebhookDispatcher;
  readonly routes: Route[];
  private readonly authenticator: Authenticator;
  private guard: Guard | undefined;

  constructor(
    private readonly ctx: RegistryContext,
    private readonly events: ReleaseStore,
    private readonly writer: EventWriter,
    options: AccessOptions,
  ) {
    const access = ctx.store.accessStore(ctx.org);
    this.authenticator = new Authenticator(ctx.store, access, ctx.org, keyDigest(options.bootstrapKey));
    const allowInsecure = options.allowInsecureWebhooks ?? false;
    this.dispatcher = new WebhookDispatcher(access, events, ctx.org, ctx.logger, {
      ...DEFAULT_DISPATCH,
      allowInsecure,
      ...options.webhookDispatch,
      ...(options.sharedLeaseMs === undefined
        ? {}
        : { lease: { leases: ctx.store.leases, owner: ctx.instanceId, ms: options.sharedLeaseMs } }),
    });
    this.routes = [
      ...apiKeyRoutes(access, ctx.org),
      ...webhookRoutes({ access, events, dispatcher: this.dispatcher, org: ctx.org, allowInsecure }),
    ];
  }

  seal(routes: Route[]): Route[] {
    this.guard = new Guard(routes, { events: this.writer, logger: this.ctx.logger });
    this.dispatcher.start();
    return routes;
  }

  authenticate(req: IncomingMessage): Promise<Actor> {
    return this.authenticator.authenticate(req);
  }

  async run(route: Route, request: RouteRequest, actor: Actor | undefined): Promise<RouteResult> {
    if (actor) await this.guard!.authorize(route, request, actor);
    return this.guard!.run(route, request, actor);
  }

  close(): Promise<void> {
    return this.dispatcher.close();
  }
}
