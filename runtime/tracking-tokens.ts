/**
 * Tracking tokens: what an open pixel, a rewritten link or an unsubscribe link carries, signed so
 * that nothing in it can be changed or made up. A token is `<payload>.<mac>`: the payload is
 * base64url JSON, the MAC the first 16 bytes of HMAC-SHA256(key, payload), base64url. Tokens are
 * verified against the current key and then the previous one (`TRACKING_KEY`,
 * `TRACKING_KEY_PREVIOUS`), so a key can be rotated without breaking links already sent.
 *
 * The click destination lives only in the token: the redirect goes where the signed token says,
 * never to a URL taken from the request (no open redirect).
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

/** Which message a token belongs to, and what it does. */
export interface TrackingRef {
  /** o: open pixel, c: click, u: unsubscribe. */
  kind: 'o' | 'c' | 'u';
  campaignId: string;
  version: number;
  /** A run (id: its number) or an API-triggered execution (id: its uuid). */
  source: 'run' | 'execution';
  sourceId: string;
  /** The run's profile id, or the execution's recipient index. */
  recipient: string;
  /** When the message was rendered to be sent (ms since the epoch). */
  sentAt: number;
  /** Clicks: the link's index in the message and its destination. */
  link?: number;
  url?: string;
}

/** Signing keys: the current one signs and verifies, the previous one only verifies. */
export interface TrackingKeys {
  current: string;
  previous?: string;
}

/** Wire form: short field names keep tokens (and URLs) short. */
interface Wire {
  k: TrackingRef['kind'];
  c: string;
  v: number;
  s: 'r' | 'x';
  i: string;
  r: string;
  t: number;
  l?: number;
  u?: string;
}

const mac = (key: string, payload: string) =>
  createHmac('sha256', key).update(payload).digest().subarray(0, 16);

export function signToken(keys: TrackingKeys, ref: TrackingRef): string {
  const wire: Wire = {
    k: ref.kind,
    c: ref.campaignId,
    v: ref.version,
    s: ref.source === 'run' ? 'r' : 'x',
    i: ref.sourceId,
    r: ref.recipient,
    t: ref.sentAt,
    ...(ref.link !== undefined ? { l: ref.link } : {}),
    ...(ref.url !== undefined ? { u: ref.url } : {}),
  };
  const payload = Buffer.from(JSON.stringify(wire)).toString('base64url');
  return `${payload}.${mac(keys.current, payload).toString('base64url')}`;
}

/**
 * The longest token we sign or accept: with the rest of a request line and headers it stays within
 * Node's 16 KB header limit even percent-encoded (a link whose token would be longer is left as it
 * is, untracked).
 */
export const MAX_TOKEN_LENGTH = 1200;

/** What a token looks like: base64url, a dot, base64url. */
export const TOKEN_PATTERN = '^[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+$';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The token's reference when it is well-formed and signed by one of `keys`, else undefined. */
export function verifyToken(keys: TrackingKeys, token: string): TrackingRef | undefined {
  const dot = token.indexOf('.');
  if (dot < 1 || token.length > MAX_TOKEN_LENGTH) return undefined;
  const payload = token.slice(0, dot);
  const given = Buffer.from(token.slice(dot + 1), 'base64url');
  if (given.length !== 16) return undefined;
  const signedBy = [keys.current, keys.previous].some(
    (key) => key !== undefined && key !== '' && timingSafeEqual(mac(key, payload), given),
  );
  if (!signedBy) return undefined;
  let wire: Wire;
  try {
    wire = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as Wire;
  } catch {
    return undefined;
  }
  // Signed by us, so well-formed; checked anyway so a bug elsewhere cannot turn into a bad row.
  if (!['o', 'c', 'u'].includes(wire.k) || !UUID.test(wire.c) || !Number.isInteger(wire.v)) return undefined;
  if (typeof wire.r !== 'string' || typeof wire.i !== 'string' || !Number.isFinite(wire.t)) return undefined;
  if (wire.k === 'c' && (typeof wire.u !== 'string' || !Number.isInteger(wire.l))) return undefined;
  return {
    kind: wire.k,
    campaignId: wire.c,
    version: wire.v,
    source: wire.s === 'x' ? 'execution' : 'run',
    sourceId: wire.i,
    recipient: wire.r,
    sentAt: wire.t,
    ...(wire.l !== undefined ? { link: wire.l } : {}),
    ...(wire.u !== undefined ? { url: wire.u } : {}),
  };
}

/** Where tracking URLs point and how tokens are signed. */
export interface TrackingConfig {
  /** Public base URL of the API (`PUBLIC_BASE_URL`), without a trailing slash. */
  baseUrl: string;
  keys: TrackingKeys;
}

/** The public URL of a tracking endpoint (`o`, `c`, `u`) for `ref`. */
export function trackingUrl(config: TrackingConfig, ref: TrackingRef): string {
  return `${config.baseUrl}/t/${ref.kind}/${signToken(config.keys, ref)}`;
}
