/**
 * Changing campaigns: one function per user action, each telling its story — check what the
 * workflow cannot know, send the typed command update, read back what was projected. The workflow
 * decides; nothing here writes lifecycle state.
 */
import { randomUUID } from 'node:crypto';
import { v5 as uuidv5 } from 'uuid';
import type {
  CommandMeta,
  CommandPayload,
  CreateCampaign,
  DescribeCampaign,
  Draft,
  EditDraft,
  StopMode,
  StopReceipt,
} from '../domain/types';
import type { AudienceStore } from '../audiences/store';
import { specOfRow, type CampaignRow, type VersionRow } from '../readmodel/campaigns';
import {
  activateUpdate,
  archiveUpdate,
  deleteUpdate,
  describeUpdate,
  discardUpdate,
  duplicateUpdate,
  editUpdate,
  modifyUpdate,
  rollbackUpdate,
  stopUpdate,
} from '../workflows/messages';
import { refuseWebhookTarget } from '../runtime/network-guard';
import type { FieldError } from '../domain/lifecycle';
import { requireDraft, type CampaignQueries } from './campaign-queries';
import { HttpProblem } from './problem';
import { schemaErrors } from '../triggers/context-schema';
import type { TemporalGateway } from './temporal-gateway';

/** Namespace of campaign ids derived from an idempotency scope (UUIDv5, RFC 9562). */
const CAMPAIGN_ID_NAMESPACE = '6f1c1a9e-3f57-4c55-9a36-1d2f7a0b8c41';

export type NewCampaign = Omit<CreateCampaign, 'campaignId' | keyof CommandMeta>;

export interface CommandDeps {
  gateway: TemporalGateway;
  queries: CampaignQueries;
  audiences: AudienceStore;
  /** Allow webhook targets on loopback and private networks (development and tests only). */
  webhookAllowPrivate: boolean;
}

export function campaignCommands({ gateway, queries, audiences, webhookAllowPrivate }: CommandDeps) {
  /**
   * The review the workflow cannot do (it has no I/O): the audience exists, and a webhook target is
   * a public address.
   */
  async function reviewOutside(channel: string, draft: Draft | null): Promise<FieldError[]> {
    const errors: FieldError[] = [];
    const audienceId = draft?.audience?.audienceId;
    if (audienceId && !(await audiences.audienceExists(audienceId))) {
      errors.push({ field: 'audience.audienceId', message: `no audience with id ${audienceId}` });
    }
    errors.push(...schemaErrors(draft?.content.contextSchema));
    const url = draft?.content.url;
    if (channel === 'webhook' && url) {
      const refused = await refuseWebhookTarget(url, webhookAllowPrivate);
      if (refused) errors.push({ field: 'content.url', message: refused });
    }
    return errors;
  }

  /**
   * Starts a campaign. With an idempotency scope (API key, Idempotency-Key, URL) its id is derived
   * from it, so a retry can never create a second campaign, nor bring back one deleted since: a
   * retry that outlived its idempotency record (24 h) and finds its campaign deleted is 409
   * CAMPAIGN_DELETED.
   */
  async function create(campaign: NewCampaign, meta: CommandMeta, idempotencyScope?: string) {
    const campaignId = idempotencyScope ? uuidv5(idempotencyScope, CAMPAIGN_ID_NAMESPACE) : randomUUID();
    await gateway.create({ ...campaign, ...meta, campaignId });
    return queries.campaign(campaignId).catch(async (error: unknown) => {
      // No row: the campaign was deleted (its workflow ended, or is ending and the retry attached).
      if (!(error instanceof HttpProblem) || error.status !== 404 || !(await queries.wasDeleted(campaignId)))
        throw error;
      throw new HttpProblem(
        409,
        'CAMPAIGN_DELETED',
        `the campaign this Idempotency-Key created (${campaignId}) was deleted; send the create again with a new key`,
      );
    });
  }

  return {
    create,

    /** Name, description, tags: campaign-level, changed at once (no draft, no activation). */
    async describe(id: string, fields: CommandPayload<DescribeCampaign>): Promise<CampaignRow> {
      await queries.campaign(id);
      await gateway.send(id, describeUpdate, fields);
      return queries.campaign(id);
    },

    async editDraft(id: string, edit: CommandPayload<EditDraft>): Promise<Draft> {
      await queries.campaign(id);
      const result = await gateway.send(id, editUpdate, edit, { noDraftStatus: 404 });
      return requireDraft(result.state.draft);
    },

    /** "Modify campaign": a new draft from the live version, which keeps running. */
    async modify(id: string, meta: CommandMeta): Promise<Draft> {
      await queries.campaign(id);
      return requireDraft((await gateway.send(id, modifyUpdate, meta)).state.draft);
    },

    async discardDraft(id: string, meta: CommandMeta): Promise<void> {
      await queries.campaign(id);
      await gateway.send(id, discardUpdate, meta, { noDraftStatus: 404 });
    },

    /** A new draft from an earlier version's spec, which the workflow cannot read itself. */
    async rollback(id: string, version: number, meta: CommandMeta): Promise<Draft> {
      const spec = specOfRow(await queries.version(id, version));
      return requireDraft((await gateway.send(id, rollbackUpdate, { ...meta, version, spec })).state.draft);
    },

    /**
     * "Review and activate": what needs I/O is reviewed here, the rest by the workflow. The draft
     * becomes the new live version.
     */
    async activate(
      id: string,
      meta: CommandMeta & { expectedRevision?: number },
    ): Promise<{ campaign: CampaignRow; version: VersionRow }> {
      const row = await queries.campaign(id);
      const errors = await reviewOutside(row.channel, row.draft as Draft | null);
      if (errors.length) throw new HttpProblem(422, 'REVIEW_FAILED', 'review failed', errors);
      const result = await gateway.send(id, activateUpdate, meta);
      const [campaign, version] = await Promise.all([
        queries.campaign(id),
        // An activated campaign cannot be deleted: its row, read beside, is there.
        queries.version(id, result.state.versionCount, true),
      ]);
      return { campaign, version };
    },

    /** "Stop campaign": read-only for ever; the receipt says what was sent and cancelled. */
    async stop(id: string, mode: StopMode, meta: CommandMeta) {
      await queries.campaign(id);
      const result = await gateway.send(id, stopUpdate, { ...meta, mode });
      const campaign = await queries.campaign(id);
      const receipt = result.receipt ?? (campaign.stopReceipt as StopReceipt | null);
      return { campaign, receipt };
    },

    /** A new draft campaign with the same content; the source workflow refuses if stopped. */
    async duplicate(id: string, meta: CommandMeta, idempotencyScope?: string): Promise<CampaignRow> {
      await queries.campaign(id);
      // Also answered when replayed (the same request id accepted before, e.g. by a request whose
      // response was lost): the copy's id derives from the idempotency scope, so it is made once.
      const source = (await gateway.send(id, duplicateUpdate, meta)).duplicate;
      if (!source) {
        throw new HttpProblem(409, 'CAMPAIGN_STOPPED', 'the campaign was stopped since; it cannot be copied');
      }
      return create(
        {
          name: source.name,
          description: source.description,
          tags: source.tags,
          type: source.type,
          ...(source.category ? { category: source.category } : {}),
          channel: source.channel,
          content: source.spec.content,
          schedule: source.spec.schedule,
          audience: source.spec.audience,
          throttle: source.spec.throttle,
          origin: source.origin,
        },
        { ...meta, requestId: `${meta.requestId}:copy` },
        idempotencyScope,
      );
    },

    async archive(id: string, meta: CommandMeta): Promise<CampaignRow> {
      await queries.campaign(id);
      await gateway.send(id, archiveUpdate, meta);
      return queries.campaign(id);
    },

    async remove(id: string, meta: CommandMeta): Promise<void> {
      await queries.campaign(id);
      await gateway.send(id, deleteUpdate, meta);
    },
  };
}

export type CampaignCommands = ReturnType<typeof campaignCommands>;
