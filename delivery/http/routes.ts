/** What a campaign sent: its runs with counts, and its messages with the version each used. */
import { messageCursor, page, runCursor } from '../../api/cursor';
import type { Routes } from '../../api/routing';
import {
  idParams,
  messageListSchema,
  messagesQuerySchema,
  runListSchema,
  shortPageQuerySchema,
} from '../../api/schemas';
import type { Services } from '../../api/services';
import { toMessage, toRun } from '../../api/views';

export function deliveryRoutes(routes: Routes, { deliveries, queries }: Services): void {
  routes.add({
    method: 'get',
    path: '/v1/campaigns/:id/runs',
    tag: 'delivery',
    summary: 'Runs of a campaign, with message counts by status',
    description: 'Oldest first, cursor-paginated (`limit` 50 by default, at most 500).',
    permission: 'read',
    params: idParams,
    query: shortPageQuerySchema,
    responses: {
      200: { description: 'a page of runs, oldest first', schema: runListSchema },
      404: { description: 'no such campaign' },
    },
    async handler({ params, query: { limit, cursor }, res }) {
      const after = cursor ? runCursor.decode(cursor) : undefined;
      await queries.campaign(params.id);
      const rows = await deliveries.runs(params.id, limit, after);
      const { rows: shown, nextCursor } = page(rows, limit, runCursor, (r) => r.number);
      res.json({ items: shown.map(toRun), nextCursor });
    },
  });

  routes.add({
    method: 'get',
    path: '/v1/campaigns/:id/messages',
    tag: 'delivery',
    summary: 'Messages of a campaign (the outbox): one per recipient and run, with its version',
    description:
      'Messages of runs only. An api_triggered campaign sends through executions: their messages are at ' +
      '`GET /v1/executions/:id/messages` (the executions at `GET /v1/campaigns/:id/executions`).',
    permission: 'read',
    params: idParams,
    query: messagesQuerySchema,
    responses: {
      200: { description: 'a page of messages', schema: messageListSchema },
      404: { description: 'no such campaign' },
    },
    async handler({ params, query: { limit, cursor, ...filter }, res }) {
      await queries.campaign(params.id);
      const after = cursor ? messageCursor.decode(cursor) : undefined;
      const rows = await deliveries.messages(params.id, filter, limit, after);
      const { rows: shown, nextCursor } = page(rows, limit, messageCursor, (m) => m);
      res.json({ items: shown.map(toMessage), nextCursor });
    },
  });
}
