import { createHash, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { HttpError } from '../http.js';
import { prn } from '../releases/prn.js';
import type { AccessStore, ApiKeyRecord } from '../store/access-store.js';
import type { Store } from '../store/store.js';
import { nowTimestamp } from '../time.js';
import type { Role } from './roles.js';

/** Who made a request: the API key, by id and name (never the key itself). */
export interface Actor {
  id: string;
  name: string;
  role: Role;
  prn: string;
}

/**
 * A scoped key is `prs_<id as 32 hex>_<43 base64url secret>`: the id finds the record, the digest of the
 * whole key is compared in constant time. The key registries generated before roles (`prk_…`, or
 * PERIDIO_REGISTRY_API_KEY) stays the `admin` key named `registry-key`.
 */
const SCOPED = /^prs_([0-9a-f]{32})_([A-Za-z0-9_-]{43})$/;
const BOOTSTRAP_KEY_NAME = 'registry-key';

export const keyDigest = (key: string) => createHash('sha256').update(key).digest();

function newApiKey(): { id: string; key: string } {
  const id = randomUUID();
  return { id, key: `prs_${id.replaceAll('-', '')}_${randomBytes(32).toString('base64url')}` };
}

const UNITS: Record<string, number> = { m: 60, h: 3600, d: 86400, w: 7 * 86400 };

/** `90d`, `12h`, `30m`, `2w`, or an ISO date-time in the future → ISO timestamp; else a message. */
export function parseExpiry(value: string, nowMs = Date.now()): { at: string } | { error: string } {
  const m = /^(\d{1,6})([mhdw])$/.exec(value.trim());
  let ms: number;
  if (m) ms = nowMs + Number(m[1]) * UNITS[m[2]!]! * 1000;
  else if (/^\d{4}-\d{2}-\d{2}(T[\d:.]+(Z|[+-]\d{2}:\d{2}))?$/.test(value.trim())) ms = Date.parse(value);
  else return { error: "must be a duration like '90d', '12h', '30m', '2w' or an ISO date-time" };
  if (!Number.isFinite(ms) || Number(m?.[1] ?? 1) === 0)
    return { error: 'must be a positive duration or a valid date' };
  if (ms <= nowMs) return { error: 'must be in the future' };
  return { at: new Date(ms).toISOString() };
}

export async function createApiKey(
  access: AccessStore,
  input: { name: string; role: Role; expiresAt: string | null },
): Promise<{ record: ApiKeyRecord; key: string }> {
  const { id, key } = newApiKey();
  const at = nowTimestamp();
  const record = await access.insertApiKey({
    id,
    name: input.name,
    role: input.role,
    hash: keyDigest(key).toString('hex'),
    expires_at: input.expiresAt,
    revoked_at: null,
    inserted_at: at,
    updated_at: at,
  });
  return { record, key };
}

const unauthorized = (detail: string) =>
  new HttpError(401, { errors: { detail: `Unauthorized: ${detail}` } });

/** Finds the actor of a request; a missing, unknown, revoked or expired key is 401. Nothing is cached. */
export class Authenticator {
  private bootstrapId: string | undefined;

  constructor(
    private readonly store: Store,
    private readonly access: AccessStore,
    private readonly org: string,
    private readonly bootstrapDigest: Buffer,
  ) {}

  async authenticate(req: IncomingMessage): Promise<Actor> {
    const match = /^(?:Token|Bearer)\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '');
    if (!match) {
      throw unauthorized("send the registry's API key as 'Authorization: Token <key>' (or Bearer)");
    }
    const presented = match[1]!;
    const digest = keyDigest(presented);
    const scoped = SCOPED.exec(presented);
    if (scoped) {
      const h = scoped[1]!;
      const id = `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
      const record = await this.access.getApiKey(id);
      // Compare even when the id is unknown, so timing does not tell ids that exist.
      const stored = record ? Buffer.from(record.hash, 'hex') : Buffer.alloc(32);
      if (timingSafeEqual(digest, stored) && record) {
        if (record.revoked_at) throw unauthorized(`the API key '${record.name}' was revoked`);
        if (record.expires_at && Date.parse(record.expires_at) <= Date.now())
          throw unauthorized(`the API key '${record.name}' expired at ${record.expires_at}`);
        return { id, name: record.name, role: record.role, prn: prn(this.org, 'api_key', id) };
      }
    } else if (timingSafeEqual(digest, this.bootstrapDigest)) {
      const id = (this.bootstrapId ??= await this.loadBootstrapId());
      return { id, name: BOOTSTRAP_KEY_NAME, role: 'admin', prn: prn(this.org, 'api_key', id) };
    }
    throw unauthorized("send the registry's API key as 'Authorization: Token <key>' (or Bearer)");
  }

  private async loadBootstrapId(): Promise<string> {
    return (
      (await this.store.meta.get('bootstrap_api_key_id')) ??
      this.store.meta.setIfAbsent('bootstrap_api_key_id', randomUUID())
    );
  }
}
