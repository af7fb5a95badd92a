/**
 * Outcome callbacks of trigger calls made with a `callbackUrl`: one signed POST per recipient
 * outcome (delivered, sent, failed, excluded), like a provider's feedback webhook. Durable: each
 * message row carries its callback's state (`pending`, `sent`, `failed`), so a crash or a receiver
 * down only delays it. A receiver that answers 5xx/408/429 or not at all is retried with back-off
 * (2^attempt seconds, 8 attempts), then marked `failed`; a 3xx/4xx is `failed` at once.
 */
import type { Pool } from 'pg';
import type { DeliveryResult } from '../delivery/channels';
import { dueCallbacks, recordCallback } from './store/dispatch';

/** A signed POST with its idempotency key: the webhook sender of delivery/channels.ts. */
type Post = (url: string, payload: unknown, idempotencyKey: string) => Promise<DeliveryResult>;

/** Attempts before a callback is given up on. */
export const CALLBACK_ATTEMPTS = 8;

/**
 * Sends up to `limit` due callbacks of the campaign's finished messages, in parallel. `final` (after
 * a `cancel` stop, when no dispatcher runs again): every pending callback, due or not, tried once
 * more, and one that fails for now is `failed` rather than retried.
 */
export async function sendCallbacks(
  pool: Pool,
  post: Post,
  campaignId: string,
  limit = 100,
  final = false,
): Promise<number> {
  const rows = await dueCallbacks(pool, campaignId, limit, final);
  await Promise.all(
    rows.map(async (m) => {
      const payload = {
        executionId: m.execution_id,
        recipient: m.recipient,
        profileId: m.profile_id,
        status: m.status,
        reason: m.reason,
        at: (m.sent_at ?? new Date()).toISOString(),
      };
      let state: 'sent' | 'failed' | 'pending';
      try {
        const result = await post(m.callback_url, payload, `${m.execution_id}:${m.recipient}:outcome`);
        state = result.status === 'delivered' ? 'sent' : 'failed';
      } catch {
        state = final || m.callback_attempts + 1 >= CALLBACK_ATTEMPTS ? 'failed' : 'pending';
      }
      await recordCallback(pool, m.execution_id, m.recipient, state);
    }),
  );
  return rows.length;
}

/**
 * After a `cancel` stop (no dispatcher runs again): sends every pending callback of the campaign's
 * finished messages once more, round after round; a callback that fails for now is `failed`, so
 * none stays `pending` for ever. A callback the stopped dispatcher had in flight may go twice (same
 * idempotency key).
 */
export async function finishCallbacks(pool: Pool, post: Post, campaignId: string): Promise<void> {
  while ((await sendCallbacks(pool, post, campaignId, 100, true)) > 0);
}
