import type { IncomingMessage, ServerResponse } from 'node:http';
import { detailError, HttpError, readJsonBody } from './http.js';

export interface RouteRequest {
  req: IncomingMessage;
  res: ServerResponse;
  params: Record<string, string>;
  query: URLSearchParams;
  /** Where presigned URLs point: `--public-url`, else `http://<Host header>`. */
  baseUrl: string;
  body: () => Promise<Record<string, unknown>>;
}

/** A JSON answer, or `undefined` when the handler wrote the response itself (streams). */
type RouteResult = { status: number; body?: unknown; headers?: Record<string, string> } | undefined;

export interface Route {
  method: string;
  /** e.g. `/binaries/:prn/parts/:index`; a `:name` segment matches one whole path segment. */
  pattern: string;
  /** false only for the presigned capability URLs and the health check. */
  auth: boolean;
  handler(request: RouteRequest): Promise<RouteResult> | RouteResult;
}

interface CompiledRoute extends Route {
  segments: string[];
}

export class Router {
  private readonly routes: CompiledRoute[];

  constructor(routes: Route[]) {
    this.routes = routes.map((route) => ({ ...route, segments: route.pattern.split('/').filter(Boolean) }));
  }

  /**
   * Finds the route for a path. Empty segments are dropped (the SDK turns a base URL with a trailing slash
   * into `//binaries`); segments are percent-decoded, and PRNs keep their colons.
   */
  match(method: string, pathname: string): { route: CompiledRoute; params: Record<string, string> } {
    let segments: string[];
    try {
      segments = pathname.split('/').filter(Boolean).map(decodeURIComponent);
    } catch {
      throw detailError(400, 'Malformed path');
    }
    const allowed = new Set<string>();
    for (const route of this.routes) {
      const params = matchSegments(route.segments, segments);
      if (!params) continue;
      if (route.method === method || (method === 'HEAD' && route.method === 'GET')) return { route, params };
      allowed.add(route.method);
    }
    if (allowed.size > 0) {
      throw new HttpError(
        405,
        { errors: { detail: 'Method Not Allowed' } },
        { allow: [...allowed].join(', ') },
      );
    }
    throw detailError(404, 'Not Found');
  }
}

function matchSegments(pattern: string[], segments: string[]): Record<string, string> | undefined {
  if (pattern.length !== segments.length) return undefined;
  const params: Record<string, string> = {};
  for (let i = 0; i < pattern.length; i++) {
    const p = pattern[i]!;
    if (p.startsWith(':')) params[p.slice(1)] = segments[i]!;
    else if (p !== segments[i]) return undefined;
  }
  return params;
}

export function makeRequest(
  req: IncomingMessage,
  res: ServerResponse,
  params: Record<string, string>,
  query: URLSearchParams,
  baseUrl: string,
): RouteRequest {
  let cached: Promise<Record<string, unknown>> | undefined;
  return { req, res, params, query, baseUrl, body: () => (cached ??= readJsonBody(req)) };
}
