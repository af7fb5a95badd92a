/**
 * The API's own tables, `api_keys` and `idempotency_records`: every statement on them (the rules are
 * in ./auth.ts and ./idempotency.ts).
 */
import { Prisma, type PrismaClient } from '../prisma/client';

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

export function idempotencyStore(prisma: PrismaClient) {
  return {
    /** Inserts the record for (apiKeyId, key); false when it already exists. */
    async insert(apiKeyId: string, key: string, requestHash: string): Promise<boolean> {
      try {
        await prisma.idempotencyRecord.create({ data: { apiKeyId, key, requestHash } });
        return true;
      } catch (error) {
        if (!(error instanceof Prisma.PrismaClientKnownRequestError) || error.code !== 'P2002') throw error;
        return false;
      }
    },
    /** Takes over the same request's record still in progress since before `stale`; true when taken. */
    async takeOver(apiKeyId: string, key: string, requestHash: string, stale: Date): Promise<boolean> {
      const { count } = await prisma.idempotencyRecord.updateMany({
        where: { apiKeyId, key, requestHash, status: null, createdAt: { lt: stale } },
        data: { createdAt: new Date() },
      });
      return count === 1;
    },
    find: (apiKeyId: string, key: string) =>
      prisma.idempotencyRecord.findUnique({ where: { apiKeyId_key: { apiKeyId, key } } }),
    delete: (apiKeyId: string, key: string) =>
      prisma.idempotencyRecord.delete({ where: { apiKeyId_key: { apiKeyId, key } } }),
    /** Stores the response of the record's request. */
    complete: (apiKeyId: string, key: string, status: number, body: unknown, location: string | null) =>
      prisma.idempotencyRecord.update({
        where: { apiKeyId_key: { apiKeyId, key } },
        data: {
          status,
          body: body === undefined ? Prisma.DbNull : (body as Prisma.InputJsonValue),
          location,
        },
      }),
    /** Deletes records created before `before`; returns how many. */
    async purge(before: Date): Promise<number> {
      return (await prisma.idempotencyRecord.deleteMany({ where: { createdAt: { lt: before } } })).count;
    },
  };
}
