import type { ReleaseDeps } from '../releases/deps.js';
import { eventJson } from '../releases/json.js';
import type { Route } from '../router.js';

/** The event log: what devices did on update checks (docs/release-management.md, "Events"). */
export function eventRoutes(d: ReleaseDeps): Route[] {
  return [
    {
      method: 'GET',
      pattern: '/events',
      auth: true,
      async handler({ query }) {
        const page = await d.store.listEvents(query);
        return {
          status: 200,
          body: { events: page.items.map((r) => eventJson(d.org, r)), next_page: page.next_page },
        };
      },
    },
  ];
}
