/**
 * Use cases of API triggers: accept a trigger call for an api_triggered campaign, read and cancel
 * executions. A call is checked here (the campaign is live, the body fits the campaign's category
 * and channel, the context its version's schema), then queued durably in PostgreSQL pinned to the
 * live version, and the campaign's dispatcher is woken only when it sleeps: no workflow update,
 * no history event per call (see ../activities.ts).
 */
import { randomUUID } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import { v5 as uuidv5 } from 'uuid';
import type { CampaignCategory, CampaignContent } from '../../domain/types';
import type { AudienceStore } from '../../audiences/store';
import type { CampaignStore } from '../../readmodel/campaigns';
import {
  isLive,
  type ExecutionRow,
  type ExecutionStore,
  type NewExecution,
  type TriggerTarget,
} from '../store';
import { triggersQueuedSignal } from '../../workflows/messages';
import { HttpProblem } from '../../api/problem';
import type { TemporalGateway } from '../../api/temporal-gateway';
import {
  checkContext,
  marketingErrors,
  refuseUnlessLive,
  toQueued,
  transactionalErrors,
  type TriggerCall,
} from '../rules';

export type { TriggerCall } from '../rules';

/** Namespace of execution ids derived from an idempotency scope (UUIDv5, RFC 9562). */
export const EXECUTION_ID_NAMESPACE = '0b5e3c1e-8d7f-4f6a-9a51-2c4e6d8f0a13';

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
  const versions = new LRUCache<string, { content: CampaignContent; audienceId: string | null }>({
    max: 1000,
  });
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

    /**
     * Cancels an execution not finished: every message not yet sent is cancelled (the counts say
     * what went before); again for a cancelled one; 409 once it has finished.
     */
    async cancel(id: string): Promise<ExecutionRow> {
      const result = await executions.cancel(id);
      if (!result) throw new HttpProblem(404, 'EXECUTION_NOT_FOUND', `no execution with id ${id}`);
      const { row } = result;
      if (row.status !== 'cancelled') {
        throw new HttpProblem(
          409,
          'EXECUTION_FINISHED',
          `the execution has already finished (${row.status}): every message has an outcome, nothing is left to cancel`,
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
