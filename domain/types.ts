/**
 * Domain types shared by the API, the workflow and the activities. Bundle-safe.
 */
import type { Recurrence } from './schedule';

export type { Recurrence } from './schedule';

/** Every lifecycle status, in lifecycle order. */
export const CAMPAIGN_STATUSES = [
  'draft',
  'scheduled',
  'live',
  'completed',
  'stopped',
  'failed',
  'archived',
] as const;
/** Where a campaign is in its lifecycle. */
export type CampaignStatus = (typeof CAMPAIGN_STATUSES)[number];

/** `scheduled`: sends a run at each occurrence of its schedule; `api_triggered`: has no scheduled runs. */
export const CAMPAIGN_TYPES = ['scheduled', 'api_triggered'] as const;
/** How a campaign is triggered. */
export type CampaignType = (typeof CAMPAIGN_TYPES)[number];

/**
 * What an `api_triggered` campaign sends. `transactional`: messages a person asked for (a receipt, a
 * password reset), to the recipients named in each call; marketing consent does not apply.
 * `marketing`: to an audience, consent honoured.
 */
export const CAMPAIGN_CATEGORIES = ['transactional', 'marketing'] as const;
/** What an api_triggered campaign sends, and to whom. */
export type CampaignCategory = (typeof CAMPAIGN_CATEGORIES)[number];

/** Every delivery channel. */
export const CHANNELS = ['email', 'sms', 'push', 'webhook'] as const;
/** How a campaign's messages leave. */
export type Channel = (typeof CHANNELS)[number];

/** `cancel`: the run in flight stops sending at once; `drain`: it finishes. */
export const STOP_MODES = ['cancel', 'drain'] as const;
/** How a stop treats the run in flight. */
export type StopMode = (typeof STOP_MODES)[number];

/**
 * When a campaign runs. ISO-8601 instants; both optional (start at activation, no end). A campaign
 * with an audience sends one run per occurrence of its recurrence (default: once).
 */
export interface Schedule {
  startAt?: string;
  endAt?: string;
  recurrence?: Recurrence;
}

/**
 * What is sent. Text fields are Handlebars templates rendered per recipient. Which fields a channel
 * needs is checked at review: email (sender, subject, body), sms (body), push (title, body),
 * webhook (url; body optional).
 */
export interface CampaignContent {
  sender?: string;
  subject?: string;
  title?: string;
  body?: string;
  url?: string;
  /**
   * api_triggered: a JSON Schema for the `context` each trigger call passes (`{{context.x}}` in
   * templates). Calls whose context breaks it are refused; review renders the templates against a
   * sample built from it, so a misspelt `{{context.ordr}}` fails review.
   */
  contextSchema?: Record<string, unknown>;
}

/** Who a campaign sends to: a named audience (static list or attribute filter). */
export interface AudienceRef {
  audienceId: string;
}

/** The part of a campaign that is versioned: a draft holds one, every version freezes one. */
export interface VersionSpec {
  content: CampaignContent;
  schedule: Schedule;
  /** Without an audience a campaign sends nothing (no runs). */
  audience?: AudienceRef;
  /** At most this many messages per second (default: as fast as the channel goes). */
  throttle?: number;
}

/** An immutable, numbered activation. */
export interface CampaignVersion extends VersionSpec {
  number: number;
  activatedAt: string;
  activatedBy: string;
  /** The version the draft was copied from (null for the first draft). */
  basedOn: number | null;
}

/** The one working draft, if any. `revision` grows with every edit (optimistic concurrency). */
export interface Draft extends VersionSpec {
  revision: number;
  basedOn: number | null;
  updatedAt: string;
  updatedBy: string;
}

/**
 * What a stop did. With a run in flight, `sent` counts its messages sent so far; a `cancel` stop
 * also counts the pending ones it `cancelled`, while a `drain` stop lets the run finish. Both are 0
 * when no run was in flight.
 */
export interface StopReceipt {
  mode: StopMode;
  stoppedAt: string;
  stoppedBy: string;
  liveVersion: number | null;
  sent: number;
  cancelled: number;
  /**
   * api_triggered: the executions not finished when the stop came, their messages sent by then,
   * and those a `cancel` stop cancelled (absent for other campaigns).
   */
  triggered?: { executions: number; sent: number; cancelled: number };
}

/** The run in flight, if any. */
export interface ActiveRun {
  number: number;
  version: number;
  startedAt: string;
  /** Earlier occurrences that were due too and that this run stands for (absent when none). */
  skipped?: number;
}

/** Runs so far: how many, the one in flight, when the last one was due. */
export interface RunsState {
  count: number;
  active: ActiveRun | null;
  lastRunAt: string | null;
  /**
   * The version of the last run that ended. Absent in states recorded before it existed (carried
   * over by continue-as-new): a one-shot live version then counts as run once any run has started.
   */
  lastVersion?: number;
  /** Overdue occurrences skipped so far because a later one was due too (absent when none). */
  skipped?: number;
}

/** The whole lifecycle state of one campaign, carried across continue-as-new. */
export interface CampaignState {
  id: string;
  name: string;
  description: string;
  tags: string[];
  type: CampaignType;
  /** api_triggered only (absent in states recorded before it existed: marketing). */
  category?: CampaignCategory;
  channel: Channel;
  status: CampaignStatus;
  live: CampaignVersion | null;
  draft: Draft | null;
  /** Number of the newest version (0 before the first activation). */
  versionCount: number;
  /** Set when this campaign was created by duplicating another one. */
  origin: { campaignId: string; version: number | null } | null;
  /** For `archived`: whether it had `completed` or been `stopped`. */
  finishedAs: 'completed' | 'stopped' | null;
  stop: StopReceipt | null;
  runs: RunsState;
  deleted: boolean;
  createdBy: string;
  createdAt: string;
  updatedAt: string;
  /** Bumped by every accepted change; the projection only ever moves forward. */
  revision: number;
  /** Request ids already applied, newest last (bounded window), for idempotency. */
  recentRequestIds: string[];
  /**
   * The projection to PostgreSQL the workflow last gave up on (after bounded retries), until a
   * later one succeeds. Absent in states recorded before it existed.
   */
  projectionFailure?: ProjectionFailure | null;
  /** api_triggered: what the trigger dispatcher reported so far (absent before the first trigger). */
  triggers?: TriggerTotals;
  /** The live version's headline figures as last read from the reports (absent until then). */
  figures?: HeadlineFigures;
}

/** What operators see of how the live version does, read from the report counters. */
export interface HeadlineFigures {
  version: number;
  sent: number;
  delivered: number;
  uniqueOpened: number;
  uniqueClicked: number;
  at: string;
}

/**
 * What the dispatcher of an api_triggered campaign has done, as the workflow shows operators, and
 * whether it must run again: asked to (`wake`), or at the next scheduled execution (`nextDueAt`).
 */
export interface TriggerTotals {
  /** Executions finished so far, and their messages sent (sent or delivered). */
  executions: number;
  sent: number;
  lastExecution: { id: string; at: string; version: number } | null;
  wake: boolean;
  nextDueAt: string | null;
}

/** A change the read model could not take: which revision, when the workflow gave up, and why. */
export interface ProjectionFailure {
  revision: number;
  at: string;
  reason: string;
}

/**
 * The state as the workflow shows it (update results, the `state` query, the projection): without
 * the request-id window, which stays inside the workflow (up to 1,000 ids, tens of KB that every
 * update-completed event would otherwise carry).
 */
export type CampaignView = Omit<CampaignState, 'recentRequestIds'>;

// The commands a campaign takes, and what they answer: ./commands (one import for the domain's types).
export type * from './commands';
