/**
 * Use cases of API triggers: accept a trigger call for an api_triggered campaign, read and cancel
 * executions. A call is checked here (the campaign is live, the body fits the campaign's category
 * and channel, the context its version's schema), then queued durably in PostgreSQL pinned to the
 * live version, and the campaign's dispatcher is woken only when it sleeps: no workflow update,
 * no history event per call (see activities/triggers.ts).
 */
import { randomUUID } from 'node:crypto';
import type { z } from 'zod';
import { v5 as uuidv5 } from 'uuid';
import type { CampaignCategory, CampaignContent } from '../domain/types';
import type { AudienceStore } from '../readmodel/audiences';
import type { CampaignStore } from '../readmodel/campaigns';
import { LRUCache } from 'lru-cache';
import {
  isLive,
  type ExecutionRow,
  type ExecutionStore,
  type NewExecution,
  type QueuedRecipient,
  type TriggerTarget,
} from '../readmodel/executions';
import { triggersQueuedSignal } from '../workflows/messages';
import { contextErrors } from './context-schema';
import { HttpProblem, type FieldProblem } from './problem';
import { MAX_CONTEXT_BYTES, type triggerSchema } from './schemas';
import type { TemporalGateway } from './temporal-gateway';

/** Namespace of execution ids derived from an idempotency scope (UUIDv5, RFC 9562). */
const EXECUTION_ID_NAMESPACE = '0b5e3c1e-8d7f-4f6a-9a51-2c4e6d8f0a13';

export type TriggerCall = z.infer<typeof triggerSchema>;
type TriggerRecipient = NonNullable<TriggerCall['recipients']>[number];

/** The address field a channel takes in a call, and the profile column it stands for. */
const ADDRESS_FIELD = { email: 'email', sms: 'phone', push: 'pushToken' } as const;

export interface TriggerDeps {
  executions: ExecutionStore;
  campaigns: CampaignStore;
  audiences: AudienceStore;
  gateway: TemporalGateway;
}

export function triggerUseCases({ executions, campaigns, audiences, gateway }: TriggerDeps) {
  // A live campaign as a call checks it, read at most once a second: the acceptance re-checks
  // what matters (queue open, live, version) under the lock, in the same statement. A campaign that
  // is not live is read every time, so a call right after its activation finds it live.
  const recent = new LRUCache<string, TriggerTarget>({ max: 10_000, ttl: 1000 });
  const targets = {
    async get(campaignId: string, fresh: boolean): Promise<TriggerTarget | undefined> {
      const cached = fresh ? undefined : recent.get(campaignId);
      if (cached && isLive(cached)) return cached;
      const target = await executions.target(campaignId);
      if (target) recent.set(campaignId, target);
      else recent.delete(campaignId);
      return target;
    },
  };
  const versions = new Map<string, { content: CampaignContent; audienceId: string | null }>();
  /** A version's content and audience: immutable, so read once per process. */
  async function versionOf(campaignId: string, number: number) {
    const key = `${campaignId}:${number}`;
    let version = versions.get(key);
    if (!version) {
      const row = await campaigns.version(campaignId, number);
      const audience = row?.audience as { audienceId?: string } | null;
      version = {
        content: (row?.content ?? {}) as CampaignContent,
        audienceId: audience?.audienceId ?? null,
      };
      if (versions.size > 1000) versions.clear();
      versions.set(key, version);
    }
    return version;
  }

  /** Checks a call against the campaign as it is now; returns the execution to queue. */
  async function prepare(
    campaignId: string,
    call: TriggerCall,
    target: TriggerTarget,
    actor: string,
    id: string,
  ) {
    refuseUnlessLive(target);
    const version = target.liveVersion!;
    const { content, audienceId: versionAudience } = await versionOf(campaignId, version);
    const category: CampaignCategory = target.category === 'transactional' ? 'transactional' : 'marketing';
    const errors =
      category === 'transactional' ? transactionalErrors(call, target.channel) : marketingErrors(call);
    const audienceId = category === 'marketing' ? (call.audience?.audienceId ?? versionAudience) : null;
    if (category === 'marketing' && !audienceId) {
      errors.push({ field: 'audience', message: 'is required: the live version has no audience of its own' });
    }
    if (errors.length)
      throw new HttpProblem(400, 'VALIDATION_FAILED', errors[0].field + ' ' + errors[0].message, errors);
    if (audienceId && !(await audiences.audienceExists(audienceId))) {
      throw new HttpProblem(404, 'AUDIENCE_NOT_FOUND', `no audience with id ${audienceId}`);
    }
    checkContext(`${campaignId}:${version}`, content.contextSchema, call);
    const recipients = (call.recipients ?? []).map((r) => toQueued(r, target.channel));
    return {
      version,
      execution: {
        id,
        campaignId,
        category,
        context: call.context,
        requestedBy: actor,
        callbackUrl: call.callbackUrl ?? null,
        executeAt: call.executeAt ? new Date(call.executeAt) : null,
        recipients,
        audienceId,
      },
    };
  }

  /** Accepts; a concurrent call with the same id (an idempotent repeat) answers its execution. */
  async function acceptOnce(execution: NewExecution, version: number) {
    try {
      return await executions.accept(execution, version);
    } catch (error) {
      if ((error as { code?: string }).code !== '23505') throw error;
      return { row: (await executions.find(execution.id))!, replayed: true, awake: true };
    }
  }

  return {
    /**
     * Accepts a trigger call: 202 once the execution is durable. With an idempotency scope the
     * execution id derives from it, so a repeat answers the same execution and sends nothing more.
     */
    async trigger(campaignId: string, call: TriggerCall, actor: string, idempotencyScope?: string) {
      const id = idempotencyScope ? uuidv5(idempotencyScope, EXECUTION_ID_NAMESPACE) : randomUUID();
      // Checked against the campaign as recently read; the acceptance checks again under the lock.
      for (let fresh = false; ; fresh = true) {
        const target = await targets.get(campaignId, fresh);
        if (!target) throw new HttpProblem(404, 'CAMPAIGN_NOT_FOUND', `no campaign with id ${campaignId}`);
        if (idempotencyScope) {
          const existing = await executions.find(id);
          if (existing) return { row: existing, replayed: true };
        }
        const { version, execution } = await prepare(campaignId, call, target, actor, id);
        if (target.queue === null) await executions.ensureQueue(campaignId);
        const result = await acceptOnce(execution, version);
        if ('row' in result) {
          if (!result.awake) await wake(campaignId);
          return result;
        }
        // Refused under the lock: the campaign changed since it was read. Read it again: a new
        // version is checked anew, anything else is refused with the reason.
        if (fresh) refuseUnlessLive((await targets.get(campaignId, true))!, true);
      }
    },

    async execution(id: string): Promise<ExecutionRow> {
      const row = await executions.find(id);
      if (!row) throw new HttpProblem(404, 'EXECUTION_NOT_FOUND', `no execution with id ${id}`);
      return row;
    },

    /** Cancels an execution scheduled for later; 409 once it has started. */
    async cancel(id: string): Promise<ExecutionRow> {
      const row = await executions.cancel(id);
      if (!row) throw new HttpProblem(404, 'EXECUTION_NOT_FOUND', `no execution with id ${id}`);
      if (row.status !== 'cancelled') {
        throw new HttpProblem(
          409,
          'EXECUTION_STARTED',
          `the execution is ${row.status}; only one that has not started can be cancelled`,
        );
      }
      return row;
    },
  };

  /** Wakes the campaign's dispatcher unless it is awake; a failed signal is retried by the next call. */
  async function wake(campaignId: string): Promise<void> {
    if (!(await executions.markWake(campaignId))) return;
    try {
      await gateway.notify(campaignId, triggersQueuedSignal);
    } catch {
      // The execution is durable; the next call (or the dispatcher's own due time) wakes it.
      await executions.clearWake(campaignId);
    }
  }
}

export type TriggerUseCases = ReturnType<typeof triggerUseCases>;

/** 409 unless the campaign takes triggers now (`always`: refused anyway), saying why not. */
function refuseUnlessLive(target: TriggerTarget, always = false): void {
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
function transactionalErrors(call: TriggerCall, channel: string): FieldProblem[] {
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
function marketingErrors(call: TriggerCall): FieldProblem[] {
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
function checkContext(key: string, schema: object | undefined, call: TriggerCall): void {
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
function toQueued(r: TriggerRecipient, channel: string): QueuedRecipient {
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
