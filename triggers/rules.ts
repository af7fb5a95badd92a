/**
 * The rules of a trigger call that need no I/O: whether the campaign takes calls now (409), what a
 * body must hold for the campaign's category and channel (400, naming the field), the context's size
 * (413) and schema (422), and a recipient as the queue stores it.
 */
import type { z } from 'zod';
import { isLive, type QueuedRecipient, type TriggerTarget } from './store';
import { contextErrors } from './context-schema';
import { HttpProblem, type FieldProblem } from '../api/problem';
import { MAX_CONTEXT_BYTES, type triggerSchema } from '../api/schemas';

export type TriggerCall = z.infer<typeof triggerSchema>;
type TriggerRecipient = NonNullable<TriggerCall['recipients']>[number];

/** The address field a channel takes in a call, and the profile column it stands for. */
const ADDRESS_FIELD = { email: 'email', sms: 'phone', push: 'pushToken' } as const;

/** 409 unless the campaign takes triggers now (`always`: refused anyway), saying why not. */
export function refuseUnlessLive(target: TriggerTarget, always = false): void {
  if (target.type !== 'api_triggered') {
    throw new HttpProblem(
      409,
      'NOT_API_TRIGGERED',
      `only api_triggered campaigns take trigger calls; this one is ${target.type}`,
    );
  }
  if (!always && isLive(target)) return;
  const now = new Date();
  const why =
    target.status === 'stopped' || (target.queue ?? 'open') !== 'open'
      ? 'it was stopped: it never takes triggers again'
      : target.status === 'draft'
        ? 'it was never activated'
        : target.startAt && target.startAt > now
          ? `it goes live at ${target.startAt.toISOString()}`
          : target.endAt && target.endAt <= now
            ? `it ended at ${target.endAt.toISOString()}`
            : target.status === 'live'
              ? 'it changed while the call was checked; retry'
              : `it is ${target.status}`;
  throw new HttpProblem(409, 'CAMPAIGN_NOT_LIVE', `the campaign takes no triggers: ${why}`);
}

/** Transactional calls name their recipients: unique, each a profile or the channel's address. */
export function transactionalErrors(call: TriggerCall, channel: string): FieldProblem[] {
  const errors: FieldProblem[] = [];
  if (!call.recipients)
    errors.push({ field: 'recipients', message: 'is required for transactional campaigns' });
  if (call.audience)
    errors.push({ field: 'audience', message: 'is for marketing campaigns; name recipients instead' });
  if (call.executeAt)
    errors.push({ field: 'executeAt', message: 'is for marketing campaigns; transactional calls send now' });
  const field = ADDRESS_FIELD[channel as keyof typeof ADDRESS_FIELD];
  const seen = new Set<string>();
  (call.recipients ?? []).forEach((r, i) => {
    const at = `recipients.${i}`;
    const others = (['email', 'phone', 'pushToken'] as const).filter(
      (f) => r[f] !== undefined && f !== field,
    );
    for (const f of others)
      errors.push({ field: `${at}.${f}`, message: `is not the address of a ${channel} campaign` });
    const address = field ? r[field] : undefined;
    if (r.profileId === undefined && address === undefined) {
      errors.push({ field: at, message: field ? `needs profileId or ${field}` : 'needs profileId' });
    }
    if (r.profileId !== undefined && (address !== undefined || r.profile)) {
      errors.push({ field: at, message: 'give profileId, or an address with an optional profile, not both' });
    }
    if (r.profile && address === undefined)
      errors.push({ field: `${at}.profile`, message: 'needs an address to create it with' });
    for (const key of [r.profileId ?? r.profile?.id, address].filter((k) => k !== undefined)) {
      if (seen.has(key)) errors.push({ field: at, message: `repeats ${key}: recipients must be unique` });
      seen.add(key);
    }
  });
  return errors;
}

/** Marketing calls send to an audience: no recipients, and a time to send that is ahead. */
export function marketingErrors(call: TriggerCall): FieldProblem[] {
  const errors: FieldProblem[] = [];
  if (call.recipients)
    errors.push({
      field: 'recipients',
      message: 'is for transactional campaigns; marketing calls send to an audience',
    });
  if (call.executeAt && Date.parse(call.executeAt) <= Date.now()) {
    errors.push({ field: 'executeAt', message: 'must be in the future (omit it to send now)' });
  }
  return errors;
}

/** 413 beyond the context budget; 422 when a context breaks the version's schema. */
export function checkContext(key: string, schema: object | undefined, call: TriggerCall): void {
  const own = (call.recipients ?? []).filter((r) => r.context);
  const bytes = [call.context, ...own.map((r) => r.context)].reduce(
    (n, c) => n + Buffer.byteLength(JSON.stringify(c)),
    0,
  );
  if (bytes > MAX_CONTEXT_BYTES) {
    throw new HttpProblem(
      413,
      'CONTEXT_TOO_LARGE',
      `context is ${bytes} bytes; at most ${MAX_CONTEXT_BYTES} in all (shared and per recipient)`,
    );
  }
  if (!schema) return;
  const errors =
    own.length === 0
      ? contextErrors(key, schema, call.context, 'context')
      : (call.recipients ?? []).flatMap((r, i) =>
          contextErrors(key, schema, { ...call.context, ...r.context }, `recipients.${i}.context`),
        );
  if (errors.length) {
    throw new HttpProblem(
      422,
      'CONTEXT_INVALID',
      `the context breaks the live version's contextSchema: ${errors[0].field} ${errors[0].message}`,
      errors.slice(0, 50),
    );
  }
}

/** A recipient as the queue stores it. */
export function toQueued(r: TriggerRecipient, channel: string): QueuedRecipient {
  const field = ADDRESS_FIELD[channel as keyof typeof ADDRESS_FIELD];
  const address = field ? (r[field] ?? null) : null;
  return {
    profileId: r.profileId ?? r.profile?.id ?? null,
    address,
    context: r.context ?? null,
    ...(r.profile
      ? {
          create: {
            email: channel === 'email' ? address : null,
            phone: channel === 'sms' ? address : null,
            pushToken: channel === 'push' ? address : null,
            attributes: r.profile.attributes,
          },
        }
      : {}),
  };
}
