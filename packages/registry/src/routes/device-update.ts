import type { ReleaseDeps } from '../releases/deps.js';
import { updateCheck } from '../releases/update-check.js';
import type { Route } from '../router.js';

/** The Admin API's update check for one device (releases/update-check.ts does the work). */
export function deviceUpdateRoutes(d: ReleaseDeps): Route[] {
  return [
    {
      method: 'POST',
      pattern: '/devices/:prn/update',
      auth: true,
      async handler({ params, body, baseUrl }) {
        return { status: 200, body: await updateCheck(d, params.prn!, await body(), baseUrl) };
      },
    },
  ];
}
