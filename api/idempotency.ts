/**
 * `Idempotency-Key` on every write (POST, PUT, PATCH, DELETE): the first request with a key runs and
 * its response is stored; a retry with the same key and the same request gets the stored response
 * (and the action happens once); the same key with a different request is refused. Records are per
 * API key and kept `IDEMPOTENCY_RETENTION_HOURS`; a first request that died mid-way (its record
 * still in progress after `IN_PROGRESS_LEASE_MS`) is taken over by the next retry.
 */
import { createHash } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';
import type { PrismaClient } from '../prisma/client';
import { HttpProblem, invalidField } from './problem';
import { idempotencyStore } from './store';

/** 1-200 visible ASCII characters. Stated in the OpenAPI document. */
export const IDEMPOTENCY_KEY_PATTERN = '^[\\x21-\\x7e]{1,200}$';
const KEY = new RegExp(IDEMPOTENCY_KEY_PATTERN);

export const IDEMPOTENCY_RETENTION_HOURS = 24;

/** Longer than any request may take (commands wait at most 10 s for the workflow). */
const IN_PROGRESS_LEASE_MS = 60_000;

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

export function requestHash(req: Request): string {
  return sha256(`${req.method} ${req.originalUrl}\n${JSON.stringify(req.body ?? null)}`);
}

/**
 * The command request id for this request: from the caller's key, `Idempotency-Key`, method and
 * URL (so one key can never stand for two different commands), or fresh.
 */
export function requestIdOf(req: Request, fallback: () => string): string {
  const key = req.get('Idempotency-Key');
  if (!key || !req.principal) return fallback();
  return `${req.principal.keyId}:${sha256(`${req.method} ${req.originalUrl}\n${key}`).slice(0, 32)}`;
}

/** Deletes records past their retention; returns how many. */
export async function purgeIdempotencyRecords(prisma: PrismaClient, now = new Date()): Promise<number> {
  const before = new Date(now.getTime() - IDEMPOTENCY_RETENTION_HOURS * 3_600_000);
  return idempotencyStore(prisma).purge(before);
}

export function idempotency(prisma: PrismaClient) {
  const records = idempotencyStore(prisma);
  /** Claims the key for this request: true when it runs now, else the stored record. */
  async function claim(apiKeyId: string, key: string, hash: string) {
    if (await records.insert(apiKeyId, key, hash)) return true;
    // Take over a record whose request died before answering (same request only).
    const stale = new Date(Date.now() - IN_PROGRESS_LEASE_MS);
    if (await records.takeOver(apiKeyId, key, hash, stale)) return true;
    return records.find(apiKeyId, key);
  }

  return async (req: Request, res: Response, next: NextFunction) => {
    const key = req.get('Idempotency-Key');
    // Mounted by Routes on declared writes only, after authentication and the permission check.
    if (key === undefined || !req.principal) return next();
    if (!KEY.test(key))
      return next(invalidField('Idempotency-Key', 'must be 1-200 visible ASCII characters'));
    const apiKeyId = req.principal.keyId;
    const hash = requestHash(req);
    const claimed = await claim(apiKeyId, key, hash);
    if (claimed !== true) {
      const inProgress = () =>
        new HttpProblem(409, 'REQUEST_IN_PROGRESS', 'the first request with this key is still running', [], {
          'Retry-After': '1',
        });
      if (!claimed || claimed.status === null) {
        return next(claimed && claimed.requestHash !== hash ? reused() : inProgress());
      }
      if (claimed.requestHash !== hash) return next(reused());
      res.set('Idempotent-Replayed', 'true');
      if (claimed.location) res.location(claimed.location);
      if (claimed.body === null) return res.status(claimed.status).end();
      return res
        .status(claimed.status)
        .type(claimed.status >= 400 ? 'application/problem+json' : 'json')
        .send(JSON.stringify(claimed.body));
    }
    // Store the response before it is sent, so a retry after it never finds the key in progress.
    const store = (status: number, body: unknown) =>
      (status >= 500
        ? records.delete(apiKeyId, key) // a server failure may be retried afresh
        : records.complete(apiKeyId, key, status, body, res.get('Location') ?? null)
      ).catch(() => undefined);
    let stored = false;
    const json = res.json.bind(res);
    res.json = (value: unknown) => {
      stored = true;
      void store(res.statusCode, value).then(() => json(value));
      return res;
    };
    res.on('finish', () => {
      if (!stored) void store(res.statusCode, undefined);
    });
    next();
  };
}

function reused(): HttpProblem {
  return new HttpProblem(
    422,
    'IDEMPOTENCY_KEY_REUSED',
    'this Idempotency-Key was already used for a different request; use a new key',
  );
}
