/**
 * API keys: `Authorization: Bearer <key>`. Keys are random 32-byte secrets; only their SHA-256 is
 * stored (a fast hash is right for high-entropy secrets). Roles grant permissions; the key's name is
 * the actor recorded in campaign history.
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';
import type { PrismaClient } from '../prisma/client';
import { HttpProblem } from './problem';
import type { Permission, Role } from './schemas';

export type { Permission };

const GRANTS: Record<Role, readonly Permission[]> = {
  viewer: ['read'],
  editor: ['read', 'edit'],
  publisher: ['read', 'publish'],
  admin: ['read', 'edit', 'publish', 'admin'],
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
  const row = await prisma.apiKey.create({
    data: { id: randomUUID(), name, role, prefix: key.slice(0, 8), hash: hashKey(key) },
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
    const existing = await prisma.apiKey.findUnique({ where: { hash: hashKey(adminKey) } });
    if (!existing) await createApiKey(prisma, 'admin (ADMIN_API_KEY)', 'admin', adminKey);
    else if (existing.revokedAt || existing.role !== 'admin') {
      await prisma.apiKey.update({ where: { id: existing.id }, data: { revokedAt: null, role: 'admin' } });
    }
    return undefined;
  }
  if ((await prisma.apiKey.count()) > 0) return undefined;
  return (await createApiKey(prisma, 'admin (first start)', 'admin')).key;
}

/** Resolves the bearer key to a principal; 401 when missing or unknown. */
export function authenticate(prisma: PrismaClient) {
  return async (req: Request, _res: Response, next: NextFunction) => {
    const header = req.get('authorization') ?? '';
    const match = /^Bearer\s+(\S+)$/i.exec(header);
    const unauthorized = (detail: string) =>
      new HttpProblem(401, 'UNAUTHENTICATED', detail, [], { 'WWW-Authenticate': 'Bearer' });
    if (!match) return next(unauthorized('send an API key as "Authorization: Bearer <key>"'));
    const row = await prisma.apiKey.findUnique({ where: { hash: hashKey(match[1]) } });
    if (!row || row.revokedAt) return next(unauthorized('the API key is unknown or revoked'));
    req.principal = { keyId: row.id, name: row.name, role: row.role as Role };
    next();
  };
}

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
