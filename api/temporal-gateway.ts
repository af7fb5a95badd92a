/**
 * The API's one door to Temporal: starts campaign workflows and sends them typed command updates,
 * each within a deadline, and turns the workflow's refusals into problem responses.
 */
import {
  WithStartWorkflowOperation,
  WorkflowUpdateFailedError,
  WorkflowUpdateRPCTimeoutOrCancelledError,
  isGrpcServiceError,
  type Client,
} from '@temporalio/client';
import {
  ApplicationFailure,
  WorkflowExecutionAlreadyStartedError,
  WorkflowNotFoundError,
  type SignalDefinition,
  type UpdateDefinition,
} from '@temporalio/common';
import type { FieldError, LifecycleErrorCode } from '../domain/lifecycle';
import type { CommandResult, CreateCampaign } from '../domain/types';
import type { campaignWorkflow } from '../workflows/campaign';
import { campaignWorkflowId, projectedUpdate } from '../workflows/messages';
import { searchAttributes } from '../workflows/search-attributes';
import { HttpProblem } from './problem';

export interface GatewayOptions {
  client: Client;
  taskQueue: string;
  /** How long a call waits for the workflow before answering 503. */
  commandTimeoutMs: number;
}

/** HTTP status of each refusal of the lifecycle state machine. */
const STATUS_OF_CODE: Record<LifecycleErrorCode, number> = {
  CAMPAIGN_STOPPED: 409,
  CAMPAIGN_READ_ONLY: 409,
  CAMPAIGN_DELETED: 404,
  DRAFT_EXISTS: 409,
  NO_DRAFT: 409,
  NO_LIVE_VERSION: 409,
  NEVER_ACTIVATED: 409,
  ALREADY_ACTIVATED: 409,
  NOT_FINISHED: 409,
  NO_SUCH_VERSION: 404,
  REVISION_MISMATCH: 412,
  REVIEW_FAILED: 422,
  // Only from commands that bypass the API's schemas (they refuse the same input with 400 first).
  INVALID_INPUT: 400,
};

const isLifecycleCode = (type: string | undefined | null): type is LifecycleErrorCode =>
  !!type && Object.hasOwn(STATUS_OF_CODE, type);

export interface SendOptions {
  /** Status for NO_DRAFT: 404 on the draft's own routes, 409 (the default) elsewhere. */
  noDraftStatus?: 404 | 409;
}

export class TemporalGateway {
  constructor(private readonly options: GatewayOptions) {}

  /**
   * Starts the campaign's workflow and returns once its first state is projected (read-your-writes).
   * Starting an id that runs already (a retried create) attaches to it instead of failing. An id
   * whose workflow has ended (the campaign was deleted) is never started again: nothing happens, and
   * the caller finds no campaign row.
   */
  async create(command: CreateCampaign): Promise<void> {
    const { client, taskQueue } = this.options;
    const start = new WithStartWorkflowOperation<typeof campaignWorkflow>('campaignWorkflow', {
      workflowId: campaignWorkflowId(command.campaignId),
      taskQueue,
      args: [{ create: command }],
      workflowIdConflictPolicy: 'USE_EXISTING',
      // A campaign's workflow ends only when it is deleted; a retried create must not bring it back.
      workflowIdReusePolicy: 'REJECT_DUPLICATE',
      staticSummary: `Campaign: ${command.name}`,
      // Set at start so the campaign is findable at once; the workflow keeps them current.
      typedSearchAttributes: [
        { key: searchAttributes.status, value: 'draft' },
        { key: searchAttributes.hasDraft, value: true },
        { key: searchAttributes.type, value: command.type },
        { key: searchAttributes.channel, value: command.channel },
      ],
    });
    try {
      await this.withinDeadline(() =>
        client.workflow.executeUpdateWithStart(projectedUpdate, { startWorkflowOperation: start }),
      );
    } catch (error) {
      if (!(error instanceof WorkflowExecutionAlreadyStartedError)) throw error;
    }
  }

  /** Sends one command update to a campaign and returns its result once the change is projected. */
  async send<P>(
    campaignId: string,
    update: UpdateDefinition<CommandResult, [P]>,
    payload: P,
    { noDraftStatus = 409 }: SendOptions = {},
  ): Promise<CommandResult> {
    const handle = this.options.client.workflow.getHandle(campaignWorkflowId(campaignId));
    try {
      return await this.withinDeadline(() => handle.executeUpdate(update, { args: [payload] }));
    } catch (error) {
      const cause = error instanceof WorkflowUpdateFailedError ? error.cause : undefined;
      if (cause instanceof ApplicationFailure && isLifecycleCode(cause.type)) {
        const fieldErrors = (cause.details?.[0] as FieldError[] | undefined) ?? [];
        const status = cause.type === 'NO_DRAFT' ? noDraftStatus : STATUS_OF_CODE[cause.type];
        throw new HttpProblem(status, cause.type, cause.message, fieldErrors);
      }
      if (error instanceof WorkflowNotFoundError) {
        throw new HttpProblem(404, 'CAMPAIGN_NOT_FOUND', `no campaign with id ${campaignId}`);
      }
      throw error;
    }
  }

  /** Signals a campaign's workflow (fire-and-forget; within the deadline). */
  async notify(campaignId: string, signal: SignalDefinition<[]>): Promise<void> {
    const handle = this.options.client.workflow.getHandle(campaignWorkflowId(campaignId));
    await this.withinDeadline(() => handle.signal(signal));
  }

  /** Runs a workflow call with a deadline; no answer in time becomes 503 with Retry-After. */
  private async withinDeadline<T>(call: () => Promise<T>): Promise<T> {
    try {
      return await this.options.client.withDeadline(Date.now() + this.options.commandTimeoutMs, call);
    } catch (error) {
      const timedOut =
        error instanceof WorkflowUpdateRPCTimeoutOrCancelledError ||
        (isGrpcServiceError(error) && error.code === 4); // DEADLINE_EXCEEDED
      if (!timedOut) throw error;
      throw new HttpProblem(
        503,
        'WORKFLOW_UNAVAILABLE',
        'the campaign workflow did not answer in time; retry later (is a worker running?)',
        [],
        { 'Retry-After': '5' },
      );
    }
  }
}
