/** What every command route reads from a request: who acts, under which request id, on which ETag. */
import { randomUUID } from 'node:crypto';
import type { Request } from 'express';
import type { CommandMeta } from '../domain/types';
import { requestIdOf } from './idempotency';
import { HttpProblem, invalidField } from './problem';

/** The acting key's name (authenticated routes only). */
export function actorOf(req: Request): string {
  return req.principal!.name;
}

/** Request id (from `Idempotency-Key` when given, so a retry is the same command) and actor. */
export function commandMeta(req: Request): CommandMeta {
  return { requestId: requestIdOf(req, randomUUID), actor: actorOf(req) };
}

/** One entity-tag (RFC 9110), weak or strong, or `*`. Stated in the OpenAPI document. */
export const IF_MATCH_PATTERN = '^(\\*|(W/)?"[\\x21\\x23-\\x7e]*")$';
const IF_MATCH = new RegExp(IF_MATCH_PATTERN);

/**
 * The draft revision `If-Match` requires, if any (`*` means any). Comparison is strong (RFC 9110):
 * a weak tag, or one that is not a draft's ETag, can never match, so it answers 412.
 */
function ifMatch(req: Request): number | undefined {
  const header = req.get('If-Match')?.trim();
  if (header === undefined || header === '*') return undefined;
  if (!IF_MATCH.test(header)) throw invalidField('If-Match', 'must be an ETag such as "3", or *');
  const revision = /^"(\d{1,9})"$/.exec(header);
  if (!revision) {
    throw new HttpProblem(
      412,
      'REVISION_MISMATCH',
      `If-Match ${header} is not the draft’s ETag (draft ETags look like "3"; comparison is strong)`,
    );
  }
  return Number(revision[1]);
}

/** The ETag of a campaign's own representation (its revision), distinct from a draft's ETag. */
export function campaignETag(revision: number): string {
  return `"campaign-${revision}"`;
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
