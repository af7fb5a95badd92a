/** What every command route reads from a request: who acts, under which request id, on which ETag. */
import { randomUUID } from 'node:crypto';
import type { Request } from 'express';
import type { CommandMeta } from '../domain/types';
import { requestIdOf } from './idempotency';
import { invalidField } from './problem';

/** The acting key's name (authenticated routes only). */
export function actorOf(req: Request): string {
  return req.principal!.name;
}

/** Request id (from `Idempotency-Key` when given, so a retry is the same command) and actor. */
export function commandMeta(req: Request): CommandMeta {
  return { requestId: requestIdOf(req, randomUUID), actor: actorOf(req) };
}

/** The revision in `If-Match`, if any (`*` means any). */
export function ifMatch(req: Request): number | undefined {
  const header = req.get('If-Match');
  if (header === undefined || header.trim() === '*') return undefined;
  const match = /^\s*(?:W\/)?"?(\d+)"?\s*$/.exec(header);
  if (!match) throw invalidField('If-Match', 'must be an ETag such as "3"');
  return Number(match[1]);
}

/** `{ expectedRevision }` from `If-Match`, or nothing. */
export function expectedRevisionOf(req: Request): { expectedRevision?: number } {
  const expectedRevision = ifMatch(req);
  return expectedRevision === undefined ? {} : { expectedRevision };
}

/** What makes a request unique for a retry: API key, `Idempotency-Key` and URL (none without a key). */
export function idempotencyScope(req: Request): string | undefined {
  const key = req.get('Idempotency-Key');
  return key ? `${req.principal!.keyId}:${key}:${req.originalUrl}` : undefined;
}
