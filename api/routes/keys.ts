/** API keys: the caller's own (any role), and their management (admin only). */
import { createApiKey, permissionsOf } from '../auth';
import { HttpProblem } from '../problem';
import type { Routes } from '../routing';
import {
  apiKeyCreatedSchema,
  apiKeyListSchema,
  apiKeySchema,
  createKeySchema,
  idParams,
  meSchema,
} from '../schemas';
import type { Services } from '../services';
import { keyStore } from '../store';
import { toKey } from '../views';

export function keyRoutes(routes: Routes, { prisma, keys }: Services): void {
  const store = keyStore(prisma);
  routes.add({
    method: 'get',
    path: '/v1/me',
    tag: 'api keys',
    summary: 'The calling key: its name, role and permissions (what a client may offer)',
    permission: 'read',
    responses: { 200: { description: 'the calling key', schema: meSchema } },
    handler({ req, res }) {
      const { name, role } = req.principal!;
      res.json({ name, role, permissions: permissionsOf(role) });
    },
  });

  routes.add({
    method: 'post',
    path: '/v1/api-keys',
    tag: 'api keys',
    summary: 'Create an API key (the secret is returned once)',
    permission: 'admin',
    body: createKeySchema,
    responses: { 201: { description: 'created', schema: apiKeyCreatedSchema } },
    async handler({ body, res }) {
      const { row, key } = await createApiKey(prisma, body.name, body.role);
      res
        .status(201)
        .location(`/v1/api-keys/${row.id}`)
        .json({ ...toKey(row), key });
    },
  });

  routes.add({
    method: 'get',
    path: '/v1/api-keys',
    tag: 'api keys',
    summary: 'List API keys (never their secrets)',
    permission: 'admin',
    responses: { 200: { description: 'all keys', schema: apiKeyListSchema } },
    async handler({ res }) {
      const rows = await store.list();
      res.json({ items: rows.map(toKey) });
    },
  });

  routes.add({
    method: 'delete',
    path: '/v1/api-keys/:id',
    tag: 'api keys',
    summary: 'Revoke an API key',
    permission: 'admin',
    params: idParams,
    responses: {
      200: { description: 'revoked', schema: apiKeySchema },
      404: { description: 'no such key' },
    },
    async handler({ params, req, res }) {
      if (params.id === req.principal!.keyId) {
        throw new HttpProblem(409, 'OWN_KEY', 'a key cannot revoke itself; use another admin key');
      }
      const row = await store.byId(params.id);
      if (!row) throw new HttpProblem(404, 'API_KEY_NOT_FOUND', `no API key with id ${params.id}`);
      const revoked = await store.revoke(row.id, row.revokedAt ?? new Date());
      keys.forget(row.id);
      res.json(toKey(revoked));
    },
  });
}
