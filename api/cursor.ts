/**
 * Opaque keyset cursors, one codec for every list: `<key>|<tie-breaker>` in base64url. A cursor
 * this API did not hand out is a 400 naming the `cursor` field.
 */
import type { CampaignCursor, HistoryCursor } from '../readmodel/campaigns';
import type { MessageCursor } from '../delivery/store/messages';
import { invalidField } from './problem';

interface Codec<T> {
  encode(position: T): string;
  /** @throws HttpProblem 400 when the cursor is not one `encode` made. */
  decode(cursor: string): T;
}

function codec<T>(
  toParts: (position: T) => [string, string],
  fromParts: (key: string, tieBreaker: string) => T | undefined,
): Codec<T> {
  return {
    encode: (position) => Buffer.from(toParts(position).join('|')).toString('base64url'),
    decode(cursor) {
      const text = Buffer.from(cursor, 'base64url').toString();
      const bar = text.indexOf('|');
      const position = bar > 0 ? fromParts(text.slice(0, bar), text.slice(bar + 1)) : undefined;
      if (!position) throw invalidField('cursor', 'is not one this API returned');
      return position;
    },
  };
}

/** Campaigns, newest first: (createdAt, id). */
export const campaignCursor = codec<CampaignCursor>(
  (c) => [c.createdAt.toISOString(), c.id],
  (at, id) => {
    const createdAt = new Date(at);
    return id && !Number.isNaN(createdAt.getTime()) ? { createdAt, id } : undefined;
  },
);

/** Executions, newest first: (createdAt, id). */
export const executionCursor = codec<CampaignCursor>(
  (c) => [c.createdAt.toISOString(), c.id],
  (at, id) => {
    const createdAt = new Date(at);
    return id && !Number.isNaN(createdAt.getTime()) ? { createdAt, id } : undefined;
  },
);

/** Messages, by run then recipient: (runNumber, profileId). */
export const messageCursor = codec<MessageCursor>(
  (m) => [String(m.runNumber), m.profileId],
  (run, profileId) => (/^\d+$/.test(run) && profileId ? { runNumber: Number(run), profileId } : undefined),
);

/** A campaign's history, oldest first: (at, id). */
export const historyCursor = codec<HistoryCursor>(
  (h) => [h.at.toISOString(), String(h.id)],
  (at, id) => {
    const when = new Date(at);
    return /^\d{1,18}$/.test(id) && !Number.isNaN(when.getTime()) ? { at: when, id: BigInt(id) } : undefined;
  },
);

/** Runs, oldest first: the run number (the tie-breaker repeats it, so a cursor is checked twice). */
export const runCursor = codec<number>(
  (n) => [String(n), String(n)],
  (run, again) => (/^\d{1,9}$/.test(run) && run === again ? Number(run) : undefined),
);

/** An execution's messages, in call order: (recipient, execution id). */
export const executionMessageCursor = codec<{ recipient: number; executionId: string }>(
  (m) => [String(m.recipient), m.executionId],
  (recipient, executionId) =>
    /^\d+$/.test(recipient) && executionId ? { recipient: Number(recipient), executionId } : undefined,
);

/**
 * One page from rows fetched with `take: limit + 1`: the first `limit` rows, and the cursor after
 * the last of them when more rows exist.
 */
export function page<R, T>(
  rows: R[],
  limit: number,
  cursor: Codec<T>,
  positionOf: (row: R) => T,
): { rows: R[]; nextCursor: string | null } {
  const shown = rows.slice(0, limit);
  const last = shown[shown.length - 1];
  return {
    rows: shown,
    nextCursor: rows.length > limit && last !== undefined ? cursor.encode(positionOf(last)) : null,
  };
}
