/** API triggers: trigger a live api_triggered campaign, and follow or cancel what a call started. */
import { executionCursor, executionMessageCursor, page } from '../../api/cursor';
import { actorOf, idempotencyScope } from '../../api/http';
import type { Routes } from '../../api/routing';
import {
  executionAcceptedSchema,
  executionDetailSchema,
  executionListSchema,
  executionMessageListSchema,
  executionMessagesQuerySchema,
  executionSchema,
  idParams,
  pageQuerySchema,
  triggerSchema,
} from '../../api/schemas';
import type { Services } from '../../api/services';
import { invalidField } from '../../api/problem';
import { toExecution, toExecutionMessage, toOutcome } from '../../api/views';

export function executionRoutes(
  routes: Routes,
  { triggers, executions, queries, triggerRateLimit }: Services,
): void {
  routes.add({
    method: 'post',
    path: '/v1/campaigns/:id/trigger',
    tag: 'triggers',
    summary: 'Trigger a live api_triggered campaign: send it now (or later) with a per-call context',
    description:
      'Transactional campaigns send to the `recipients` named (1 to 1,000, unique; consent does not apply: ' +
      'the person asked for the message); marketing campaigns to an `audience` (consent honoured), now or at ' +
      '`executeAt`. 202 once the execution is durable, pinned to the live version. A repeat with the same ' +
      '`Idempotency-Key` answers the same execution and sends nothing more.',
    permission: 'trigger',
    rateLimit: triggerRateLimit,
    params: idParams,
    body: triggerSchema,
    responses: {
      202: { description: 'accepted: the execution, with its counts', schema: executionAcceptedSchema },
      400: {
        description: 'a field breaks a rule of the campaign’s category or channel (field errors listed)',
      },
      404: { description: 'no such campaign, or audience' },
      409: {
        description:
          'the campaign is not live (draft, scheduled, stopped, completed, outside its start/end), or not api_triggered; ' +
          'or its live version’s contextSchema cannot be compiled (CONTEXT_SCHEMA_UNUSABLE, e.g. a pattern RE2 cannot run)',
      },
      413: { description: 'more than 200 KB of context in all' },
      422: { description: 'the context breaks the live version’s contextSchema (errors by path)' },
    },
    async handler({ params, body, req, res }) {
      const { row, replayed } = await triggers.trigger(params.id, body, actorOf(req), idempotencyScope(req));
      res
        .status(202)
        .location(`/v1/executions/${row.id}`)
        .json({ ...toExecution(row), executionId: row.id, replayed });
    },
  });

  routes.add({
    method: 'get',
    path: '/v1/executions/:id',
    tag: 'triggers',
    summary: 'An execution: status, counts by message status, and per-recipient outcomes (paged)',
    permission: 'read',
    params: idParams,
    query: pageQuerySchema,
    responses: {
      200: { description: 'the execution and a page of outcomes', schema: executionDetailSchema },
      404: { description: 'no such execution' },
    },
    async handler({ params, query: { limit, cursor }, res }) {
      const row = await triggers.execution(params.id);
      const after = cursor === undefined ? -1 : Number(cursor);
      if (!Number.isInteger(after) || after < -1)
        throw invalidField('cursor', 'is not one this API returned');
      const outcomes = await executions.outcomes(params.id, limit, after);
      const shown = outcomes.slice(0, limit);
      const nextCursor = outcomes.length > limit ? String(shown[shown.length - 1].recipient) : null;
      res.json({ ...toExecution(row), outcomes: shown.map(toOutcome), nextCursor });
    },
  });

  routes.add({
    method: 'get',
    path: '/v1/executions/:id/messages',
    tag: 'triggers',
    summary:
      'Messages of an execution: per recipient, what was sent (rendered), its status, reason, times, version',
    description:
      'In call order (or audience snapshot order), paged with `limit` and `cursor`. An api_triggered ' +
      'campaign’s messages are here, per execution; `GET /v1/campaigns/:id/messages` lists runs’ messages only.',
    permission: 'read',
    params: idParams,
    query: executionMessagesQuerySchema,
    responses: {
      200: { description: 'a page of messages', schema: executionMessageListSchema },
      400: { description: '`cursor` is not one this API returned for this execution' },
      404: { description: 'no such execution' },
    },
    async handler({ params, query: { limit, cursor, status }, res }) {
      await triggers.execution(params.id);
      const after = cursor ? executionMessageCursor.decode(cursor) : undefined;
      if (after && after.executionId !== params.id) {
        throw invalidField('cursor', 'is not one this API returned for this execution');
      }
      const rows = await executions.messages(params.id, limit, after?.recipient, status);
      const { rows: shown, nextCursor } = page(rows, limit, executionMessageCursor, (m) => ({
        recipient: m.recipient,
        executionId: params.id,
      }));
      res.json({ items: shown.map(toExecutionMessage), nextCursor });
    },
  });

  routes.add({
    method: 'delete',
    path: '/v1/executions/:id',
    tag: 'triggers',
    summary: 'Cancel an execution: every message not yet sent is cancelled',
    description:
      'An execution accepted, scheduled for later or in progress is `cancelled`: no message of it is sent ' +
      'after the answer; its counts say how many went before (a batch in flight is waited for: its ' +
      'messages are counted sent). Cancelling a cancelled execution answers it again.',
    permission: 'trigger',
    params: idParams,
    responses: {
      200: { description: 'cancelled, with the counts of what went before', schema: executionSchema },
      404: { description: 'no such execution' },
      409: { description: 'EXECUTION_FINISHED: it has already finished, every message has an outcome' },
    },
    async handler({ params, res }) {
      res.json(toExecution(await triggers.cancel(params.id)));
    },
  });

  routes.add({
    method: 'get',
    path: '/v1/campaigns/:id/executions',
    tag: 'triggers',
    summary: 'Executions of a campaign, newest first',
    permission: 'read',
    params: idParams,
    query: pageQuerySchema,
    responses: {
      200: { description: 'a page of executions', schema: executionListSchema },
      404: { description: 'no such campaign' },
    },
    async handler({ params, query: { limit, cursor }, res }) {
      await queries.campaign(params.id);
      const after = cursor ? executionCursor.decode(cursor) : undefined;
      const rows = await executions.list(params.id, limit, after);
      const { rows: shown, nextCursor } = page(rows, limit, executionCursor, (e) => ({
        createdAt: e.created_at,
        id: e.id,
      }));
      res.json({ items: shown.map(toExecution), nextCursor });
    },
  });
}
