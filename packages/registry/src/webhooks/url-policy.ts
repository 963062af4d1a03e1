import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { BlockList, isIP, type LookupFunction } from 'node:net';

/**
 * Where deliveries may go. `https://` only unless the registry runs with --allow-insecure-webhooks; never
 * to link-local addresses (cloud metadata services live at 169.254.169.254 and fd00:ec2::254) nor to the
 * unspecified address. The check runs on the address actually connected to (a custom DNS lookup), so a
 * name that resolves somewhere else at delivery time is refused too.
 */
const FORBIDDEN = new BlockList();
FORBIDDEN.addSubnet('169.254.0.0', 16, 'ipv4');
FORBIDDEN.addSubnet('0.0.0.0', 8, 'ipv4');
FORBIDDEN.addSubnet('fe80::', 10, 'ipv6');
FORBIDDEN.addAddress('fd00:ec2::254', 'ipv6');
FORBIDDEN.addAddress('::', 'ipv6');

const MAX_WEBHOOK_URL_CHARS = 1028;

function forbiddenAddress(address: string): boolean {
  const v4mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  const ip = v4mapped ? v4mapped[1]! : address;
  const family = isIP(ip);
  if (family === 0) return false;
  return FORBIDDEN.check(ip, family === 4 ? 'ipv4' : 'ipv6');
}

/** A message saying what is wrong with the URL, or undefined when it may be used. */
export function webhookUrlProblem(value: unknown, allowInsecure: boolean): string | undefined {
  if (typeof value !== 'string' || value === '') return "can't be blank";
  if (value.length > MAX_WEBHOOK_URL_CHARS) return `should be at most ${MAX_WEBHOOK_URL_CHARS} character(s)`;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return 'is invalid: must be an absolute https:// URL';
  }
  if (url.protocol !== 'https:' && !(allowInsecure && url.protocol === 'http:')) {
    return allowInsecure
      ? 'is invalid: must be an http:// or https:// URL'
      : 'is invalid: must be an https:// URL (start the registry with --allow-insecure-webhooks for http:// in local tests)';
  }
  if (url.username || url.password) return 'is invalid: must not carry credentials';
  const host = url.hostname.replace(/^\[|\]$/g, '');
  if (forbiddenAddress(host)) return 'is invalid: link-local and metadata addresses are not allowed';
  return undefined;
}

/** A DNS lookup for http.request that refuses forbidden addresses. */
export const guardedLookup: LookupFunction = (hostname, options, callback) => {
  dnsLookup(hostname, { ...options, all: true }, (err, addresses) => {
    if (err) return callback(err, '', 0);
    const list = addresses;
    const allowed = list.filter((a) => !forbiddenAddress(a.address));
    if (allowed.length === 0) {
      const refused = Object.assign(new Error(`refusing to deliver to ${hostname}: link-local address`), {
        code: 'EFORBIDDENADDR',
      });
      return callback(refused, '', 0);
    }
    if ((options as { all?: boolean }).all)
      return (callback as unknown as (e: null, a: LookupAddress[]) => void)(null, allowed);
    callback(null, allowed[0]!.address, allowed[0]!.family);
  });
};
