/**
 * What the fault proxy can do and how a test says when: the fault actions, the rules that select the
 * requests they apply to (method, path, the nth match, a burst of `times`), and the per-request record.
 */
import type http from 'node:http';

export type FaultAction =
  /** Forward this many request-body bytes, then reset both connections (client sees ECONNRESET). */
  | { kind: 'reset-mid-body'; afterBytes: number }
  /**
   * Forward this many request-body bytes, then stop reading: await `onHold` (e.g. kill the upstream
   * there) and `ms`, then go on. The way to act while an upstream holds a partial body.
   */
  | { kind: 'hold-mid-body'; afterBytes: number; ms?: number; onHold?: () => void | Promise<void> }
  /** Forward the whole request and let the upstream answer, then drop the client without a response. */
  | { kind: 'close-before-response' }
  /** Forward the request, relay this many bytes of the response body, then cut the connection. */
  | { kind: 'cut-response'; afterBytes: number }
  /** Forward the request, then hold the upstream response for `ms` (forever when omitted). */
  | { kind: 'stall-response'; ms?: number }
  /**
   * Answer without forwarding (the body is read and discarded first, as a real front end would). `body`
   * is sent as JSON, or as is when a string (set `content-type` in `headers` then, e.g. S3's XML).
   */
  | { kind: 'status'; status: number; headers?: Record<string, string>; body?: unknown }
  /** Wait `ms` before forwarding. */
  | { kind: 'delay'; ms: number }
  /** Forward normally: the rule exists for its `onFire` hook or to count matches. */
  | { kind: 'pass' };

export interface FaultRule {
  /** Any method when omitted. */
  method?: string;
  /** Matched against the request target (path + query). */
  path: RegExp;
  /** 1-based: the rule fires from the nth request it matches (default 1). */
  nth?: number;
  /** How many consecutive matching requests it fires for (default 1; Infinity for all). */
  times?: number;
  action: FaultAction;
  /** Awaited when the rule fires, before its action: lets a test change the world at an exact moment. */
  onFire?: (request: RecordedRequest) => void | Promise<void>;
}

export interface RuleHandle {
  /** Requests that matched method + path. */
  readonly matched: number;
  /** Requests the rule acted on. */
  readonly fired: number;
  remove(): void;
}

export interface RecordedRequest {
  method: string;
  path: string;
  /** Status sent to the client; absent when the client got no response. */
  status?: number;
  /** Request-body bytes received from the client. */
  bytesIn: number;
  /** Request-body bytes passed on to the upstream. */
  bytesForwarded: number;
  /** The fault applied, if any. */
  fault?: FaultAction['kind'];
  /** Why the exchange ended without a normal response (upstream error, client gone). */
  error?: string;
  startedAt: number;
  durationMs?: number;
}

export interface FaultProxy {
  url: string;
  setTarget(url: string): void;
  addRule(rule: FaultRule): RuleHandle;
  clearRules(): void;
  stats: { requests: RecordedRequest[] };
  close(): Promise<void>;
}

// Hop-by-hop headers belong to one connection, not to the message.
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'upgrade', 'te', 'trailer']);

export function endToEndHeaders(headers: http.IncomingHttpHeaders): http.OutgoingHttpHeaders {
  const out: http.OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined && !HOP_BY_HOP.has(name)) out[name] = value;
  }
  return out;
}

interface ActiveRule {
  rule: FaultRule;
  matched: number;
  fired: number;
}

/** The proxy's rules, in the order added; the first rule whose window covers a request acts on it. */
export class RuleSet {
  private rules: ActiveRule[] = [];

  add(rule: FaultRule): RuleHandle {
    const active: ActiveRule = { rule, matched: 0, fired: 0 };
    this.rules.push(active);
    return {
      get matched() {
        return active.matched;
      },
      get fired() {
        return active.fired;
      },
      remove: () => {
        this.rules = this.rules.filter((r) => r !== active);
      },
    };
  }

  clear(): void {
    this.rules = [];
  }

  /** Counts the request against every rule it matches; returns the rule that fires, if any. */
  pick(method: string, path: string): FaultRule | undefined {
    let chosen: ActiveRule | undefined;
    for (const active of this.rules) {
      const { rule } = active;
      if (rule.method && rule.method.toUpperCase() !== method) continue;
      if (!rule.path.test(path)) continue;
      active.matched += 1;
      const first = rule.nth ?? 1;
      const last = first + (rule.times ?? 1) - 1;
      if (!chosen && active.matched >= first && active.matched <= last) chosen = active;
    }
    if (chosen) chosen.fired += 1;
    return chosen?.rule;
  }
}
