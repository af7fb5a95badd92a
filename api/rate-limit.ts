/**
 * Rate limits per API key (express-rate-limit, counted in this process): a key that exceeds its
 * rate gets 429 with `Retry-After` (seconds) and the standard `RateLimit` headers. With several API
 * processes behind one port each counts on its own, so a key's effective rate is at most M times
 * the limit (see the README).
 */
import type { Request, RequestHandler } from 'express';
import { rateLimit, type RateLimitInfo } from 'express-rate-limit';
import { HttpProblem } from './problem';

/** At most `perSecond` requests per API key per second on the routes it guards. */
export function perKeyRateLimit(perSecond: number, what: string): RequestHandler {
  return rateLimit({
    windowMs: 1000,
    limit: perSecond,
    standardHeaders: 'draft-8',
    legacyHeaders: false,
    keyGenerator: (req) => req.principal?.keyId ?? 'anonymous',
    handler: (req, _res, next) => {
      const info = (req as Request & { rateLimit?: RateLimitInfo }).rateLimit;
      const reset = info?.resetTime?.getTime() ?? Date.now() + 1000;
      const retryAfter = Math.max(1, Math.ceil((reset - Date.now()) / 1000));
      next(
        new HttpProblem(
          429,
          'RATE_LIMITED',
          `this API key may make ${perSecond} ${what} per second; retry after ${retryAfter} s`,
          [],
          { 'Retry-After': String(retryAfter) },
        ),
      );
    },
  });
}
