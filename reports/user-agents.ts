/**
 * Who fetched a tracking URL: a person, or a machine acting for the mailbox (an image proxy, Apple
 * Mail Privacy Protection prefetching every image) or for a security product (a link scanner).
 * Reports count people by default and show the machine figures beside them.
 */
import ipaddr from 'ipaddr.js';
import { isBot } from 'isbot';

export type UaClass = 'browser' | 'mobile' | 'mail_proxy' | 'bot' | 'unknown';
export type Flag = 'human' | 'machine_open' | 'bot_click';

export interface Classified {
  uaClass: UaClass;
  flag: Flag;
  /** Why a hit is not counted as a person's: apple_mpp, mail_proxy, bot_user_agent, no_user_agent, click_within_2s. */
  reason: string | null;
}

/** Apple's network: Mail Privacy Protection fetches images through Apple's proxies. */
const APPLE = ipaddr.parseCIDR('17.0.0.0/8');
/** Image proxies of webmail providers, which fetch for the mailbox rather than for the reader. */
const MAIL_PROXY = /GoogleImageProxy|ggpht\.com|YahooMailProxy|Yahoo! Slurp|OutlookImageProxy/i;
/** Mail security scanners that follow every link, on top of what isbot knows. */
const SCANNER = /Barracuda|Mimecast|Proofpoint|MessageLabs|Symantec|Trend ?Micro|SafeLinks|Forcepoint/i;
const MOBILE = /Mobile|Android|iPhone|iPad/;
/** A click sooner than this after the send is a machine's (a scanner following links on arrival). */
export const CLICK_TOO_SOON_MS = 2000;

function fromApple(ip: string | undefined): boolean {
  if (!ip || !ipaddr.isValid(ip)) return false;
  const address = ipaddr.process(ip);
  return address.kind() === 'ipv4' && address.match(APPLE);
}

export function uaClass(ua: string | undefined): UaClass {
  if (!ua) return 'unknown';
  if (MAIL_PROXY.test(ua)) return 'mail_proxy';
  if (SCANNER.test(ua) || isBot(ua)) return 'bot';
  return MOBILE.test(ua) ? 'mobile' : 'browser';
}

/** Classifies an open or a click (`sentAt`, `now` in ms since the epoch). */
export function classifyHit(
  kind: 'open' | 'click',
  hit: { userAgent?: string; ip?: string; sentAt: number; now: number },
): Classified {
  const cls = uaClass(hit.userAgent);
  // Apple MPP fetches with a bare "Mozilla/5.0" from Apple's network.
  const mpp = fromApple(hit.ip) || hit.userAgent === 'Mozilla/5.0';
  const machine = (reason: string): Classified => ({
    uaClass: mpp ? 'mail_proxy' : cls,
    flag: kind === 'open' ? 'machine_open' : 'bot_click',
    reason,
  });
  if (mpp) return machine('apple_mpp');
  if (cls === 'mail_proxy') return machine('mail_proxy');
  if (cls === 'bot') return machine(kind === 'open' ? 'bot_user_agent' : 'known_scanner');
  if (cls === 'unknown') return machine('no_user_agent');
  if (kind === 'click' && hit.now - hit.sentAt < CLICK_TOO_SOON_MS) return machine('click_within_2s');
  return { uaClass: cls, flag: 'human', reason: null };
}
