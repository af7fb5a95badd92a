/**
 * The pure campaign state machine for commands: no Temporal imports, no I/O, no clock of its own
 * (callers pass `now`), so the whole lifecycle is unit-tested in microseconds without a server.
 *
 * Glossary: `check` = would this command be accepted (throws the refusal, ./refusals; changes
 * nothing) · `apply` = accept it, returning its Transition · `decide` = the rules both share ·
 * `commit` (./transition) = record an accepted change · `nextTransition` / `tick` / `endRun`
 * (./automatic) = the automatic transitions: what is due next, take it when due, end a run.
 *
 * Each function decides from the state it is given; the workflow passes the state as it is after
 * its last await (the concurrency rule in workflows/campaign-manager.ts).
 */
import { inputErrors } from './input';
import { LifecycleError, guardWritable, requireDraft, requireLive, requireNoDraft } from './refusals';
import { reviewVersion } from './review';
import { commit, type Transition } from './transition';
import type {
  CampaignState,
  CampaignStatus,
  CampaignVersion,
  CampaignView,
  Command,
  CreateCampaign,
  DuplicateSource,
  StopReceipt,
  VersionSpec,
} from './types';

export { LifecycleError, type LifecycleErrorCode } from './refusals';
export type { FieldError } from './review';
export type { Transition } from './transition';

/** The first transition of a new campaign: its draft, from the create command. */
export function createCampaign(command: CreateCampaign, now: Date): Transition {
  const at = now.toISOString();
  const state: CampaignState = {
    id: command.campaignId,
    name: command.name,
    description: command.description ?? '',
    tags: command.tags ?? [],
    type: command.type,
    ...(command.type === 'api_triggered' ? { category: command.category ?? 'marketing' } : {}),
    channel: command.channel,
    status: 'draft',
    live: null,
    draft: {
      ...specOf({
        content: command.content ?? {},
        schedule: command.schedule ?? {},
        audience: command.audience,
        throttle: command.throttle,
      }),
      revision: 1,
      basedOn: null,
      updatedAt: at,
      updatedBy: command.actor,
    },
    versionCount: 0,
    origin: command.origin ?? null,
    finishedAs: null,
    stop: null,
    runs: { count: 0, active: null, lastRunAt: null },
    deleted: false,
    createdBy: command.actor,
    createdAt: at,
    updatedAt: at,
    revision: 1,
    recentRequestIds: [command.requestId],
  };
  return {
    state,
    event: { requestId: command.requestId, action: 'create', actor: command.actor, version: null, at },
  };
}

/** The state without its request-id window, as update results, queries and the projection show it. */
export function viewOf(state: CampaignState): CampaignView {
  const { recentRequestIds: _ids, ...view } = state;
  return view;
}

/** Whether this request id was already applied (the command must then change nothing). */
export function isReplay(state: CampaignState, requestId: string): boolean {
  return state.recentRequestIds.includes(requestId);
}

/** How commands are decided; each flag is a rule a running workflow adopts through `patched()`. */
export interface CommandRules {
  /**
   * Refuse a command whose fields break the input rules (./input) with INVALID_INPUT, naming
   * them. Default true; false only for a workflow replaying history recorded before the rule
   * (such a command, sent as a signal, was accepted then).
   */
  inputRule?: boolean;
  /**
   * Numbers inside `content.contextSchema` may be any JSON number (./input `schemaNumbers`). Default
   * true; false only for a workflow replaying history recorded before.
   */
  schemaNumbers?: boolean;
  /**
   * api_triggered campaigns' templates may use the call's `{{context.x}}` (./context). Default
   * true; false only for a workflow replaying history recorded before triggers existed.
   */
  callContext?: boolean;
}

/** Throws the LifecycleError that refuses `command`, if any. Changes nothing. */
export function check(state: CampaignState, command: Command, now: Date, rules: CommandRules = {}): void {
  if (!isReplay(state, command.requestId)) decide(state, command, now, rules);
}

/**
 * Applies a command. Returns the transition, or `undefined` when the request id was already applied
 * (idempotent replay: nothing changes). Throws a LifecycleError when the command is refused; the
 * state is then untouched.
 */
export function apply(
  state: CampaignState,
  command: Command,
  now: Date,
  rules: CommandRules = {},
): Transition | undefined {
  if (isReplay(state, command.requestId)) return undefined;
  return decide(state, command, now, rules);
}

/** Refuses a command whose fields break the input rules, naming each field. */
function refuseInvalidInput(command: Command, schemaNumbers?: boolean): void {
  const { type: _type, ...fields } = command;
  const errors = inputErrors(fields, { schemaNumbers });
  if (errors.length) {
    const named = errors.map((e) => `${e.field} ${e.message}`).join('; ');
    throw new LifecycleError('INVALID_INPUT', `invalid input: ${named}`, errors);
  }
}

/** The rules: the transition `command` makes, or the LifecycleError that refuses it. */
function decide(state: CampaignState, command: Command, now: Date, rules: CommandRules): Transition {
  if (rules.inputRule ?? true) refuseInvalidInput(command, rules.schemaNumbers);
  guardWritable(state, command);
  switch (command.type) {
    case 'describe': {
      const given = (['name', 'description', 'tags'] as const).filter((f) => command[f] !== undefined);
      if (!given.length) {
        throw new LifecycleError('INVALID_INPUT', 'give at least one of name, description, tags', [
          { field: '(body)', message: 'give at least one of name, description, tags' },
        ]);
      }
      if (command.name !== undefined && !/\S/.test(command.name)) {
        throw new LifecycleError('INVALID_INPUT', 'name must not be blank', [
          { field: 'name', message: 'must not be blank' },
        ]);
      }
      return commit(state, command, now, 'describe', {
        name: command.name?.trim() ?? state.name,
        description: command.description ?? state.description,
        tags: command.tags ?? state.tags,
      });
    }
    case 'edit': {
      const draft = requireDraft(state, command.expectedRevision);
      return commit(state, command, now, 'edit', {
        name: command.name ?? state.name,
        description: command.description ?? state.description,
        tags: command.tags ?? state.tags,
        draft: {
          ...specOf({
            content: command.content ?? draft.content,
            schedule: command.schedule ?? draft.schedule,
            audience: command.audience === null ? undefined : (command.audience ?? draft.audience),
            throttle: command.throttle === null ? undefined : (command.throttle ?? draft.throttle),
          }),
          revision: draft.revision + 1,
          basedOn: draft.basedOn,
          updatedAt: now.toISOString(),
          updatedBy: command.actor,
        },
      });
    }
    case 'modify': {
      requireNoDraft(state);
      const live = requireLive(state);
      return commit(state, command, now, 'modify', {
        draft: {
          ...specOf(live),
          revision: 1,
          basedOn: live.number,
          updatedAt: now.toISOString(),
          updatedBy: command.actor,
        },
      });
    }
    case 'rollback': {
      requireNoDraft(state);
      requireLive(state);
      if (!Number.isInteger(command.version) || command.version < 1 || command.version > state.versionCount) {
        throw new LifecycleError('NO_SUCH_VERSION', `campaign has no version ${command.version}`);
      }
      return commit(state, command, now, 'rollback', {
        draft: {
          ...specOf(command.spec),
          revision: 1,
          basedOn: command.version,
          updatedAt: now.toISOString(),
          updatedBy: command.actor,
        },
      });
    }
    case 'activate': {
      const draft = requireDraft(state, command.expectedRevision);
      const callContext = state.type === 'api_triggered' && (rules.callContext ?? true);
      const errors = reviewVersion(state.channel, draft, now, { callContext });
      if (errors.length) throw new LifecycleError('REVIEW_FAILED', 'review failed', errors);
      const version: CampaignVersion = {
        number: state.versionCount + 1,
        ...specOf(draft),
        activatedAt: now.toISOString(),
        activatedBy: command.actor,
        basedOn: draft.basedOn,
      };
      const startAt = draft.schedule.startAt;
      const status: CampaignStatus = startAt && Date.parse(startAt) > now.getTime() ? 'scheduled' : 'live';
      return {
        ...commit(state, command, now, 'activate', {
          status,
          live: version,
          draft: null,
          versionCount: version.number,
        }),
        version,
      };
    }
    case 'discard': {
      requireDraft(state);
      if (state.versionCount === 0) {
        throw new LifecycleError(
          'NEVER_ACTIVATED',
          'a campaign that was never activated has only its draft; delete the campaign instead',
        );
      }
      return commit(state, command, now, 'discard', { draft: null });
    }
    case 'stop': {
      const receipt: StopReceipt = {
        mode: command.mode,
        stoppedAt: now.toISOString(),
        stoppedBy: command.actor,
        liveVersion: state.live?.number ?? null,
        sent: 0,
        cancelled: 0,
      };
      return {
        ...commit(state, command, now, 'stop', { status: 'stopped', draft: null, stop: receipt }),
        receipt,
      };
    }
    case 'duplicate':
      // Accepted only when writable and not stopped: a draft or a live version exists.
      return { ...commit(state, command, now, 'duplicate', {}), duplicate: duplicateSourceOf(state)! };
    case 'delete': {
      if (state.versionCount > 0) {
        throw new LifecycleError(
          'ALREADY_ACTIVATED',
          'only a campaign that was never activated can be deleted; stop or archive it instead',
        );
      }
      return commit(state, command, now, 'delete', { deleted: true, draft: null });
    }
    case 'archive': {
      if (state.status !== 'completed' && state.status !== 'stopped') {
        throw new LifecycleError(
          'NOT_FINISHED',
          `only a completed or stopped campaign can be archived; this one is ${state.status}`,
        );
      }
      return commit(state, command, now, 'archive', { status: 'archived', finishedAs: state.status });
    }
  }
}

/**
 * What a copy of this campaign starts from: its draft if it has one, else its live version. The
 * answer to `duplicate`, accepted or replayed under the same request id (whose caller, e.g. an
 * HTTP request that failed after the workflow accepted it, still needs it). Undefined only for a
 * replay on a campaign left with neither (a draft-only campaign stopped since).
 */
export function duplicateSourceOf(state: CampaignState): DuplicateSource | undefined {
  const spec = state.draft ?? state.live;
  if (!spec) return undefined;
  return {
    name: `${state.name} (copy)`,
    description: state.description,
    tags: state.tags,
    type: state.type,
    ...(state.type === 'api_triggered' ? { category: state.category ?? 'marketing' } : {}),
    channel: state.channel,
    spec: specOf(spec),
    origin: { campaignId: state.id, version: state.draft ? null : (state.live?.number ?? null) },
  };
}

/** The versioned part of a draft or version, without absent optional fields. */
export function specOf(spec: {
  content: VersionSpec['content'];
  schedule: VersionSpec['schedule'];
  audience?: VersionSpec['audience'];
  throttle?: VersionSpec['throttle'];
}): VersionSpec {
  return {
    content: spec.content,
    schedule: spec.schedule,
    ...(spec.audience ? { audience: spec.audience } : {}),
    ...(spec.throttle ? { throttle: spec.throttle } : {}),
  };
}
