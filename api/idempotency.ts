/**
 * `Idempotency-Key` on POST: the first request with a key runs and its response is stored; a retry
 * with the same key and the same request gets the stored response (and the action happens once);
 * the same key with a different request is refused. Records are per API key.
 */
import { createHash } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';
import { Prisma, type PrismaClient } from '../prisma/client';
import { HttpProblem } from './problem';

const KEY = /^[\x21-\x7e]{1,200}$/;

export function requestHash(req: Request): string {
  return createHash('sha256')
    .update(`${req.method} ${req.originalUrl}\n${JSON.stringify(req.body ?? null)}`)
    .digest('hex');
}

/** The command request id for this request: scoped to the caller's key, or fresh. */
export function requestIdOf(req: Request, fallback: () => string): string {
  const key = req.get('Idempotency-Key');
  return key && req.principal ? `${req.principal.keyId}:${key}` : fallback();
}

export function idempotency(prisma: PrismaClient) {
  return async (req: Request, res: Response, next: NextFunction) => {
    const key = req.get('Idempotency-Key');
    if (req.method !== 'POST' || key === undefined || !req.principal) return next();
    if (!KEY.test(key)) {
      return next(
        new HttpProblem(400, 'VALIDATION_FAILED', 'Idempotency-Key must be 1-200 visible ASCII characters', [
          { field: 'Idempotency-Key', message: 'must be 1-200 visible ASCII characters' },
        ]),
      );
    }
    const apiKeyId = req.principal.keyId;
    const hash = requestHash(req);
    try {
      await prisma.idempotencyRecord.create({ data: { apiKeyId, key, requestHash: hash } });
    } catch (error) {
      if (!(error instanceof Prisma.PrismaClientKnownRequestError) || error.code !== 'P2002') throw error;
      const previous = await prisma.idempotencyRecord.findUnique({
        where: { apiKeyId_key: { apiKeyId, key } },
      });
      if (!previous)
        return next(new HttpProblem(409, 'REQUEST_IN_PROGRESS', 'retry shortly', [], { 'Retry-After': '1' }));
      if (previous.requestHash !== hash) {
        return next(
          new HttpProblem(
            422,
            'IDEMPOTENCY_KEY_REUSED',
            'this Idempotency-Key was already used for a different request; use a new key',
          ),
        );
      }
      if (previous.status === null) {
        return next(
          new HttpProblem(
            409,
            'REQUEST_IN_PROGRESS',
            'the first request with this key is still running',
            [],
            {
              'Retry-After': '1',
            },
          ),
        );
      }
      res.set('Idempotent-Replayed', 'true');
      if (previous.location) res.location(previous.location);
      if (previous.body === null) return res.status(previous.status).end();
      return res
        .status(previous.status)
        .type(previous.status >= 400 ? 'application/problem+json' : 'json')
        .send(JSON.stringify(previous.body));
    }
    // Store the response before it is sent, so a retry after it never finds the key in progress.
    const where = { apiKeyId_key: { apiKeyId, key } };
    const store = (status: number, body: unknown) =>
      (status >= 500
        ? prisma.idempotencyRecord.delete({ where }) // a server failure may be retried afresh
        : prisma.idempotencyRecord.update({
            where,
            data: {
              status,
              body: body === undefined ? Prisma.DbNull : (body as Prisma.InputJsonValue),
              location: res.get('Location') ?? null,
            },
          })
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
