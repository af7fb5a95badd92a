/**
 * What a report shows, computed from counter sums (metric → n): the figures, the rates derived from
 * them, and the reasons and links behind them. Pure; ./store.ts reads the sums.
 */

/** Counter metrics (see the migration 20261130001000_tracking) summed over one slice. */
export type Sums = Record<string, number>;

export interface Figures {
  /** Every recipient with a message row: sent, delivered, failed, excluded or cancelled. */
  targeted: number;
  excluded: number;
  cancelled: number;
  /** Messages that left (status sent or delivered). */
  sent: number;
  /** Messages that left, minus those reported hard-bounced (once each). */
  delivered: number;
  failed: number;
  bouncedHard: number;
  bouncedSoft: number;
  /** People's opens; `uniqueOpened` counts a message once; machine opens (Apple MPP, proxies, bots) apart. */
  opened: number;
  uniqueOpened: number;
  machineOpened: number;
  clicked: number;
  uniqueClicked: number;
  botClicked: number;
  unsubscribed: number;
  complained: number;
}

export interface Rates {
  /** delivered / sent */
  delivery: number | null;
  /** uniqueOpened / delivered */
  uniqueOpen: number | null;
  /** uniqueClicked / delivered */
  uniqueClick: number | null;
  /** uniqueClicked / uniqueOpened */
  clickToOpen: number | null;
}

export const STATUSES = ['sent', 'delivered', 'failed', 'excluded', 'cancelled'] as const;

/** How many runs or executions a report's breakdown lists; the rest are summed in one `others` row. */
export const MAX_SOURCES = 100;

export function figures(s: Sums): Figures {
  const n = (metric: string) => s[metric] ?? 0;
  const sent = n('sent') + n('delivered');
  return {
    targeted: STATUSES.reduce((total, status) => total + n(status), 0),
    excluded: n('excluded'),
    cancelled: n('cancelled'),
    sent,
    delivered: Math.max(0, sent - n('bounced_hard_unique')),
    failed: n('failed'),
    bouncedHard: n('bounced_hard'),
    bouncedSoft: n('bounced_soft'),
    opened: n('opened'),
    uniqueOpened: n('opened_unique'),
    machineOpened: n('opened_machine'),
    clicked: n('clicked'),
    uniqueClicked: n('clicked_unique'),
    botClicked: n('clicked_bot'),
    unsubscribed: n('unsubscribed'),
    complained: n('complained'),
  };
}

const ratio = (a: number, b: number) => (b > 0 ? Math.round((a / b) * 10_000) / 10_000 : null);

export function rates(f: Figures): Rates {
  return {
    delivery: ratio(f.delivered, f.sent),
    uniqueOpen: ratio(f.uniqueOpened, f.delivered),
    uniqueClick: ratio(f.uniqueClicked, f.delivered),
    clickToOpen: ratio(f.uniqueClicked, f.uniqueOpened),
  };
}

/** Figures and rates of one slice. */
export function slice(s: Sums): { figures: Figures; rates: Rates } {
  const f = figures(s);
  return { figures: f, rates: rates(f) };
}

export interface Reasons {
  excluded: Record<string, number>;
  failed: Record<string, number>;
  machineOpened: Record<string, number>;
  botClicked: Record<string, number>;
}

/** Reasons and per-link clicks, from (metric, detail) sums. */
export function details(rows: Array<{ metric: string; detail: string; n: number }>) {
  const reasons: Reasons = { excluded: {}, failed: {}, machineOpened: {}, botClicked: {} };
  const into: Record<string, Record<string, number>> = {
    excluded: reasons.excluded,
    failed: reasons.failed,
    opened_machine: reasons.machineOpened,
    clicked_bot: reasons.botClicked,
  };
  const links = new Map<number, { link: number; clicked: number; uniqueClicked: number }>();
  const link = (detail: string) => {
    const index = Number(detail);
    if (!links.has(index)) links.set(index, { link: index, clicked: 0, uniqueClicked: 0 });
    return links.get(index)!;
  };
  for (const r of rows) {
    if (into[r.metric]) into[r.metric][r.detail || 'unspecified'] = r.n;
    else if (r.metric === 'clicked') link(r.detail).clicked += r.n;
    else if (r.metric === 'link_clicked_unique') link(r.detail).uniqueClicked += r.n;
  }
  return { reasons, links: [...links.values()].sort((a, b) => a.link - b.link) };
}

/** Rate differences `b - a` (null when either is unknown): how version b did against version a. */
export function rateDelta(a: Rates, b: Rates): Rates {
  const d = (x: number | null, y: number | null) =>
    x === null || y === null ? null : Math.round((y - x) * 10_000) / 10_000;
  return {
    delivery: d(a.delivery, b.delivery),
    uniqueOpen: d(a.uniqueOpen, b.uniqueOpen),
    uniqueClick: d(a.uniqueClick, b.uniqueClick),
    clickToOpen: d(a.clickToOpen, b.clickToOpen),
  };
}
