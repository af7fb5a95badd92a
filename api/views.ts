/** Rows of the read model as the API shows them (the shapes in ./schemas). */
import type { Role } from './schemas';
import type { AudienceRow, ConsentChangeRow, ProfileRow } from '../audiences/store';
import { specOfRow, type CampaignRow, type HistoryRow, type VersionRow } from '../readmodel/campaigns';
import type { MessageRow, RunRow } from '../delivery/store/messages';
import type { PrismaClient } from '../prisma/client';
import type { ExecutionMessageRow, ExecutionRow, OutcomeRow } from '../triggers/store';
import type { EXECUTION_MESSAGE_STATUSES, EXECUTION_STATUSES } from './schemas';

type KeyRow = Awaited<ReturnType<PrismaClient['apiKey']['findUniqueOrThrow']>>;

export function toCampaign(row: CampaignRow) {
  return {
    id: row.id,
    workflowId: row.workflowId,
    name: row.name,
    description: row.description,
    tags: row.tags,
    type: row.type,
    category: row.category,
    channel: row.channel,
    status: row.status,
    liveVersion: row.liveVersion,
    hasDraft: row.hasDraft,
    draftRevision: row.draftRevision,
    startAt: row.startAt?.toISOString() ?? null,
    endAt: row.endAt?.toISOString() ?? null,
    origin: row.originCampaignId ? { campaignId: row.originCampaignId, version: row.originVersion } : null,
    finishedAs: row.finishedAs,
    stopReceipt: row.stopReceipt,
    projectionError: row.projectionError as { revision: number; at: string; reason: string } | null,
    revision: row.revision,
    createdBy: row.createdBy,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
  };
}

export function toVersion(row: VersionRow) {
  return {
    number: row.number,
    ...specOfRow(row),
    activatedAt: row.activatedAt.toISOString(),
    activatedBy: row.activatedBy,
    basedOn: row.basedOn,
  };
}

export function toHistoryItem(e: HistoryRow) {
  return {
    action: e.action,
    actor: e.actor,
    version: e.version,
    at: e.at.toISOString(),
    requestId: e.requestId,
  };
}

export function toProfile(row: ProfileRow) {
  return { ...row, updatedAt: row.updatedAt.toISOString() };
}

export function toConsentChange(row: ConsentChangeRow) {
  return {
    id: String(row.id),
    status: row.status,
    source: row.source,
    actor: row.actor,
    note: row.note,
    at: row.at.toISOString(),
  };
}

export function toAudience(row: AudienceRow, members: number) {
  return {
    id: row.id,
    name: row.name,
    filter: row.filter as object | null,
    members,
    createdAt: row.createdAt.toISOString(),
  };
}

export function toRun(r: RunRow & { counts: Record<string, number> }) {
  return {
    number: r.number,
    version: r.version,
    status: r.status,
    startedAt: r.startedAt.toISOString(),
    finishedAt: r.finishedAt?.toISOString() ?? null,
    recipients: r.recipients,
    counts: r.counts,
  };
}

export function toMessage(m: MessageRow) {
  return {
    run: m.runNumber,
    profileId: m.profileId,
    version: m.version,
    status: m.status,
    reason: m.reason,
    rendered: m.rendered as Record<string, string> | null,
    createdAt: m.createdAt.toISOString(),
    sentAt: m.sentAt?.toISOString() ?? null,
  };
}

export function toKey(row: KeyRow) {
  return {
    id: row.id,
    name: row.name,
    role: row.role as Role,
    prefix: row.prefix,
    createdAt: row.createdAt.toISOString(),
    revokedAt: row.revokedAt?.toISOString() ?? null,
  };
}

export function toExecution(row: ExecutionRow) {
  const done = row.sent + row.delivered + row.failed + row.excluded + row.cancelled;
  return {
    id: row.id,
    campaignId: row.campaign_id,
    version: row.version,
    category: row.category as 'transactional' | 'marketing',
    status: row.status as (typeof EXECUTION_STATUSES)[number],
    accepted: row.accepted,
    refused: row.refused,
    counts: {
      queued: Math.max(0, row.accepted - done),
      sent: row.sent,
      delivered: row.delivered,
      failed: row.failed,
      excluded: row.excluded,
      cancelled: row.cancelled,
    },
    executeAt: row.execute_at?.toISOString() ?? null,
    callbackUrl: row.callback_url,
    requestedBy: row.requested_by,
    createdAt: row.created_at.toISOString(),
    startedAt: row.started_at?.toISOString() ?? null,
    finishedAt: row.finished_at?.toISOString() ?? null,
  };
}

export function toOutcome(row: OutcomeRow) {
  return {
    recipient: row.recipient,
    profileId: row.profile_id,
    address: row.address,
    status: row.status as 'queued',
    reason: row.reason,
    sentAt: row.sent_at?.toISOString() ?? null,
  };
}

export function toExecutionMessage(m: ExecutionMessageRow) {
  return {
    recipient: m.recipient,
    profileId: m.profile_id,
    address: m.address,
    version: m.version,
    status: m.status as (typeof EXECUTION_MESSAGE_STATUSES)[number],
    reason: m.reason,
    rendered: m.rendered,
    createdAt: m.created_at.toISOString(),
    sentAt: m.sent_at?.toISOString() ?? null,
  };
}
