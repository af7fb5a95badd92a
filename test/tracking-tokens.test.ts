/**
 * Tracking tokens (signing, tampering, key rotation), the links a rendering gets, and how hits are
 * classified (people, machine opens, bot clicks). Pure.
 */
import { addTracking, unsubscribeHeaders } from '../reports/tracking-links';
import { classifyHit } from '../reports/user-agents';
import { signToken, verifyToken, type TrackingRef } from '../runtime/tracking-tokens';

const keys = { current: 'current-key-0123456789' };
const ref: TrackingRef = {
  kind: 'c',
  campaignId: '5f0c1a9e-3b1d-4c8e-9a57-2f4b6d8e0a11',
  version: 2,
  source: 'run',
  sourceId: '3',
  recipient: 'p-1',
  sentAt: 1_700_000_000_000,
  link: 0,
  url: 'https://shop.example/sale?x=1',
};
const CHROME =
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36';

describe('tracking tokens', () => {
  it('round-trips what it signs', () => {
    expect(verifyToken(keys, signToken(keys, ref))).toEqual(ref);
  });

  it('refuses a token whose payload or signature was changed, or that another key signed', () => {
    const token = signToken(keys, ref);
    const [payload, mac] = token.split('.');
    const forged = Buffer.from(
      JSON.stringify({
        ...JSON.parse(Buffer.from(payload, 'base64url').toString()),
        u: 'https://evil.example',
      }),
    ).toString('base64url');
    expect(verifyToken(keys, `${forged}.${mac}`)).toBeUndefined();
    expect(verifyToken(keys, `${payload}.${mac.slice(0, -2)}AA`)).toBeUndefined();
    expect(verifyToken(keys, signToken({ current: 'someone-else-key-000' }, ref))).toBeUndefined();
    for (const junk of ['', '.', 'abc', `${payload}.`, `.${mac}`, `${payload}.${mac}.x`]) {
      expect(verifyToken(keys, junk)).toBeUndefined();
    }
  });

  it('accepts the previous key after a rotation, and only the keys it is given', () => {
    const old = signToken({ current: 'old-key-0123456789ab' }, ref);
    expect(verifyToken({ current: keys.current, previous: 'old-key-0123456789ab' }, old)).toEqual(ref);
    expect(verifyToken(keys, old)).toBeUndefined();
  });
});

describe('tracked rendering', () => {
  const config = { baseUrl: 'https://t.example', keys };
  const message = {
    campaignId: ref.campaignId,
    version: 2,
    source: 'run' as const,
    sourceId: '3',
    recipient: 'p-1',
  };

  it('rewrites every link, adds the pixel, an unsubscribe link and the RFC 8058 headers to email', () => {
    const out = addTracking(config, 'email', message, {
      subject: 'Hi',
      body: 'Sale: https://shop.example/a?x=1&y=<2>. And https://shop.example/b, bye',
    });
    const links = [...out.body.matchAll(/https:\/\/t\.example\/t\/c\/([\w.-]+)/g)].map((m) =>
      verifyToken(keys, m[1]),
    );
    expect(links.map((l) => [l?.link, l?.url])).toEqual([
      [0, 'https://shop.example/a?x=1&y='],
      [1, 'https://shop.example/b'],
    ]);
    expect(out.body).not.toContain('https://shop.example');
    expect(out.html).toMatch(/<img src="https:\/\/t\.example\/t\/o\/[\w.-]+" width="1" height="1"/);
    expect(out.html).toContain('&lt;2&gt;');
    const unsubscribe = verifyToken(keys, out.listUnsubscribe.split('/t/u/')[1]);
    expect(unsubscribe).toMatchObject({ kind: 'u', recipient: 'p-1', version: 2, sourceId: '3' });
    expect(out.body).toContain(`Unsubscribe: ${out.listUnsubscribe}`);
    expect(unsubscribeHeaders(out)).toEqual({
      'List-Unsubscribe': `<${out.listUnsubscribe}>`,
      'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click',
    });
  });

  it('leaves a link too long for a token as it is', () => {
    const long = `https://shop.example/${'x'.repeat(2000)}`;
    const out = addTracking(config, 'sms', message, { body: `A https://shop.example/a B ${long}` });
    expect(out.body).toMatch(/^A https:\/\/t\.example\/t\/c\/[\w.-]+ B https:\/\/shop\.example\/x+$/);
  });

  it('rewrites links in SMS bodies only, and leaves webhooks alone', () => {
    const sms = addTracking(config, 'sms', message, { body: 'Go https://shop.example/x' });
    expect(Object.keys(sms)).toEqual(['body']);
    expect(sms.body).toMatch(/^Go https:\/\/t\.example\/t\/c\//);
    const webhook = { body: 'https://shop.example/x' };
    expect(addTracking(config, 'webhook', message, webhook)).toBe(webhook);
  });
});

describe('hit classification', () => {
  const at = { sentAt: 0, now: 60_000 };
  it('counts a browser as a person', () => {
    expect(classifyHit('open', { ...at, userAgent: CHROME, ip: '203.0.113.9' })).toEqual({
      uaClass: 'browser',
      flag: 'human',
      reason: null,
    });
    expect(classifyHit('click', { ...at, userAgent: CHROME }).flag).toBe('human');
  });

  it('flags Apple Mail Privacy Protection and image proxies as machine opens', () => {
    expect(classifyHit('open', { ...at, userAgent: 'Mozilla/5.0', ip: '17.58.1.2' })).toMatchObject({
      flag: 'machine_open',
      reason: 'apple_mpp',
    });
    expect(classifyHit('open', { ...at, userAgent: CHROME, ip: '::ffff:17.1.2.3' }).reason).toBe('apple_mpp');
    expect(
      classifyHit('open', { ...at, userAgent: 'Mozilla/5.0 (Windows NT 5.1) GoogleImageProxy' }),
    ).toMatchObject({ flag: 'machine_open', reason: 'mail_proxy', uaClass: 'mail_proxy' });
  });

  it('flags scanners and clicks within 2 s of the send as bot clicks', () => {
    expect(classifyHit('click', { ...at, userAgent: 'curl/8.0' })).toMatchObject({
      flag: 'bot_click',
      reason: 'known_scanner',
    });
    expect(classifyHit('click', { ...at, userAgent: 'Barracuda Sentinel (EE)' }).flag).toBe('bot_click');
    expect(classifyHit('click', { sentAt: 0, now: 1500, userAgent: CHROME })).toMatchObject({
      flag: 'bot_click',
      reason: 'click_within_2s',
    });
    expect(classifyHit('click', { sentAt: 0, now: 2500, userAgent: CHROME }).flag).toBe('human');
  });
});
