/** The `api_keys` table: every statement on it (the rules of keys are in ../auth.ts). */
import type { PrismaClient } from '../../prisma/client';

export interface NewKey {
  id: string;
  name: string;
  role: string;
  prefix: string;
  hash: string;
}

export function keyStore(prisma: PrismaClient) {
  return {
    create: (data: NewKey) => prisma.apiKey.create({ data }),
    /** Makes sure key `data` exists as an admin key, not revoked (a race of several processes is one row). */
    ensureAdmin: (data: NewKey) =>
      prisma.apiKey.upsert({
        where: { hash: data.hash },
        create: data,
        update: { revokedAt: null, role: 'admin' },
      }),
    count: () => prisma.apiKey.count(),
    byHash: (hash: string) => prisma.apiKey.findUnique({ where: { hash } }),
    byId: (id: string) => prisma.apiKey.findUnique({ where: { id } }),
    list: () => prisma.apiKey.findMany({ orderBy: { createdAt: 'asc' } }),
    /** Revokes key `id` (keeping an earlier revocation's time). */
    revoke: (id: string, revokedAt: Date) => prisma.apiKey.update({ where: { id }, data: { revokedAt } }),
  };
}

export type KeyStore = ReturnType<typeof keyStore>;
