/**
 * The commands a campaign's workflow takes (its creation included), and what they answer. Pure
 * types, bundle-safe; re-exported by ./types.
 */
import type {
  CampaignType,
  CampaignCategory,
  Channel,
  CampaignContent,
  Schedule,
  AudienceRef,
  VersionSpec,
  StopMode,
  CampaignView,
  StopReceipt,
} from './types';

/** Who asked for a change, and the id that makes the request idempotent. */
export interface CommandMeta {
  requestId: string;
  actor: string;
}

/** Creates a campaign with its first draft (the workflow's start input, not an update). */
export interface CreateCampaign extends CommandMeta {
  campaignId: string;
  name: string;
  description?: string;
  tags?: string[];
  type: CampaignType;
  /** api_triggered only; default marketing. */
  category?: CampaignCategory;
  channel: Channel;
  content?: CampaignContent;
  schedule?: Schedule;
  audience?: AudienceRef;
  throttle?: number;
  origin?: { campaignId: string; version: number | null };
}

/**
 * Changes the draft. `name`, `description` and `tags` are campaign-level (not versioned: a discard
 * does not undo them, and they change the live campaign at once): change them with `describe`.
 * `edit` still applies them when an old client or a signal sends them, so running histories replay.
 */
export interface EditDraft extends CommandMeta {
  type: 'edit';
  /** When set, the edit applies only if the draft is still at this revision. */
  expectedRevision?: number;
  /** @deprecated campaign-level: use `describe`. */
  name?: string;
  /** @deprecated campaign-level: use `describe`. */
  description?: string;
  /** @deprecated campaign-level: use `describe`. */
  tags?: string[];
  content?: CampaignContent;
  schedule?: Schedule;
  /** null removes it. */
  audience?: AudienceRef | null;
  /** null removes it. */
  throttle?: number | null;
}
/**
 * Changes what the campaign is called and how it is found: its name, description and tags (at least
 * one). Campaign-level, not versioned: no draft needed, the live version untouched.
 */
export interface DescribeCampaign extends CommandMeta {
  type: 'describe';
  name?: string;
  description?: string;
  tags?: string[];
}
/** New draft copied from the live version. */
export interface ModifyCampaign extends CommandMeta {
  type: 'modify';
}
/** Reviews the draft and makes it the next live (or scheduled) version. */
export interface ActivateCampaign extends CommandMeta {
  type: 'activate';
  /** When set, activates only if the draft is still at this revision. */
  expectedRevision?: number;
}
/** New draft from an earlier version (the API reads its immutable spec from PostgreSQL). */
export interface RollbackCampaign extends CommandMeta {
  type: 'rollback';
  version: number;
  spec: VersionSpec;
}
/** Drops the draft; the live version stays. */
export interface DiscardDraft extends CommandMeta {
  type: 'discard';
}
/** Stops the campaign for good. */
export interface StopCampaign extends CommandMeta {
  type: 'stop';
  mode: StopMode;
}
/** Hands over what a new campaign copied from this one needs. */
export interface DuplicateCampaign extends CommandMeta {
  type: 'duplicate';
}
/** Deletes a campaign that was never activated. */
export interface DeleteCampaign extends CommandMeta {
  type: 'delete';
}
/** Archives a completed or stopped campaign. */
export interface ArchiveCampaign extends CommandMeta {
  type: 'archive';
}

/** Any command a campaign's workflow accepts after its creation. */
export type Command =
  | DescribeCampaign
  | EditDraft
  | ModifyCampaign
  | RollbackCampaign
  | ActivateCampaign
  | DiscardDraft
  | StopCampaign
  | DuplicateCampaign
  | DeleteCampaign
  | ArchiveCampaign;
/** The name of a command (and of the update that carries it). */
export type CommandType = Command['type'];
/** The command whose `type` is `T`. */
export type CommandOf<T extends CommandType> = Extract<Command, { type: T }>;

/** A command as sent in its update: the update's name says which command it is. */
export type CommandPayload<C extends Command = Command> = C extends unknown ? Omit<C, 'type'> : never;

/** What duplicating hands to the new campaign. */
export interface DuplicateSource {
  name: string;
  description: string;
  tags: string[];
  type: CampaignType;
  category?: CampaignCategory;
  channel: Channel;
  spec: VersionSpec;
  origin: { campaignId: string; version: number | null };
}

/** The answer to a command: the state after it, plus what the command produced. */
export interface CommandResult {
  state: CampaignView;
  /** True when the request id had already been applied: nothing changed this time. */
  replayed: boolean;
  receipt?: StopReceipt;
  duplicate?: DuplicateSource;
}

/** One accepted change, as recorded in the audit history. */
export interface CampaignEvent {
  requestId: string;
  action: string;
  actor: string;
  version: number | null;
  at: string;
}
