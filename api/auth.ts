/**
 * API keys: `Authorization: Bearer <key>`. Keys are random 32-byte secrets; only their SHA-256 is
 * stored (a fast hash is right for high-entropy secrets). Roles grant permissions; the key's name is
 * the actor recorded in campaign history.
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';
import { LRUCache } from 'lru-cache';
import type { PrismaClient } from '../prisma/client';
import { HttpProblem } from './problem';
import type { Permission, Role } from './schemas';
import { keyStore } from './store';

export type { Permission };

const GRANTS: Record<Role, readonly Permission[]> = {
  viewer: ['read'],
  editor: ['read', 'edit'],
  publisher: ['read', 'publish', 'trigger'],
  trigger: ['read', 'trigger'],
  admin: ['read', 'edit', 'publish', 'trigger', 'admin'],
};

export interface Principal {
  keyId: string;
  name: string;
  role: Role;
}

declare module 'express-serve-static-core' {
  interface Request {
    principal?: Principal;
  }
}

/** What a role may do. */
export function permissionsOf(role: Role): Permission[] {
  return [...GRANTS[role]];
}

export function hashKey(key: string): string {
  return createHash('sha256').update(key).digest('hex');
}

/** Creates a key; returns its row and the secret (shown once, never stored). */
export async function createApiKey(prisma: PrismaClient, name: string, role: Role, secret?: string) {
  const key = secret ?? `co_${randomBytes(32).toString('base64url')}`;
  const row = await keyStore(prisma).create({
    id: randomUUID(),
    name,
    role,
    prefix: key.slice(0, 8),
    hash: hashKey(key),
  });
  return { row, key };
}

/**
 * At start-up: with ADMIN_API_KEY, make sure that key exists as an admin key; without it, create an
 * admin key when there is none at all and return it (to be printed once).
 */
export async function ensureAdminKey(
  prisma: PrismaClient,
  adminKey: string | undefined,
): Promise<string | undefined> {
  if (adminKey) {
    if (adminKey.length < 16) throw new Error('ADMIN_API_KEY must be at least 16 characters long.');
    // An upsert: several API processes starting together race for this row (unique on hash).
    await keyStore(prisma).ensureAdmin({
      id: randomUUID(),
      name: 'admin (ADMIN_API_KEY)',
      role: 'admin',
      prefix: adminKey.slice(0, 8),
      hash: hashKey(adminKey),
    });
    return undefined;
  }
  if ((await keyStore(prisma).count()) > 0) return undefined;
  return (await createApiKey(prisma, 'admin (first start)', 'admin')).key;
}

/** How long a key's lookup is remembered: a key revoked through another API process stops within this. */
export const KEY_CACHE_TTL_MS = 5_000;

/**
 * Resolves bearer keys to principals; 401 when missing, unknown or revoked. Lookups are remembered
 * for KEY_CACHE_TTL_MS (a hot trigger path makes hundreds of calls a second with one key); a key
 * revoked through this process is forgotten at once (`forget`).
 */
export function keyAuthentication(prisma: PrismaClient) {
  const store = keyStore(prisma);
  const known = new LRUCache<string, Principal | 'unknown'>({ max: 10_000, ttl: KEY_CACHE_TTL_MS });
  async function principalOf(hash: string): Promise<Principal | 'unknown'> {
    const cached = known.get(hash);
    if (cached) return cached;
    const row = await store.byHash(hash);
    const principal: Principal | 'unknown' =
      !row || row.revokedAt ? 'unknown' : { keyId: row.id, name: row.name, role: row.role as Role };
    known.set(hash, principal);
    return principal;
  }
  return {
    authenticate: async (req: Request, _res: Response, next: NextFunction) => {
      const header = req.get('authorization') ?? '';
      const match = /^Bearer\s+(\S+)$/i.exec(header);
      const unauthorized = (detail: string) =>
        new HttpProblem(401, 'UNAUTHENTICATED', detail, [], { 'WWW-Authenticate': 'Bearer' });
      if (!match) return next(unauthorized('send an API key as "Authorization: Bearer <key>"'));
      const principal = await principalOf(hashKey(match[1]));
      if (principal === 'unknown') return next(unauthorized('the API key is unknown or revoked'));
      req.principal = principal;
      next();
    },
    /** Forgets key `keyId` (revoked): its next request is looked up again. */
    forget(keyId: string): void {
      for (const [hash, principal] of known.entries()) {
        if (principal !== 'unknown' && principal.keyId === keyId) known.delete(hash);
      }
    },
  };
}

export type KeyAuthentication = ReturnType<typeof keyAuthentication>;

/** 403 unless the caller's role grants `permission`. */
export function requirePermission(permission: Permission) {
  return (req: Request, _res: Response, next: NextFunction) => {
    const role = req.principal?.role;
    if (role && GRANTS[role].includes(permission)) return next();
    next(
      new HttpProblem(
        403,
        'FORBIDDEN',
        `role ${role ?? 'none'} may not ${permission}; ask an admin for a key that may`,
      ),
    );
  };
}
