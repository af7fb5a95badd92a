/**
 * Rate limits (express-rate-limit, counted in this process), answering 429 with `Retry-After`
 * (seconds) and the standard `RateLimit` headers: per API key on the trigger route, per client
 * address on the public tracking routes. With several API processes behind one port each counts on
 * its own, so an effective rate is at most M times the limit (see docs/deployment.md, API processes).
 */
import type { Request, RequestHandler } from 'express';
import { rateLimit, type RateLimitInfo, type Options } from 'express-rate-limit';
import { HttpProblem } from './problem';

/** A limiter of `limit` requests per `windowMs` per key, refusing with a problem naming `refusal`. */
function limiter(
  windowMs: number,
  limit: number,
  refusal: (retryAfter: number) => string,
  keyGenerator?: Options['keyGenerator'],
): RequestHandler {
  return rateLimit({
    windowMs,
    limit,
    standardHeaders: 'draft-8',
    legacyHeaders: false,
    ...(keyGenerator ? { keyGenerator } : {}),
    handler: (req, _res, next) => {
      const info = (req as Request & { rateLimit?: RateLimitInfo }).rateLimit;
      const reset = info?.resetTime?.getTime() ?? Date.now() + windowMs;
      const retryAfter = Math.max(1, Math.ceil((reset - Date.now()) / 1000));
      next(
        new HttpProblem(429, 'RATE_LIMITED', refusal(retryAfter), [], { 'Retry-After': String(retryAfter) }),
      );
    },
  });
}

/** At most `perSecond` requests per API key per second on the routes it guards. */
export function perKeyRateLimit(perSecond: number, what: string): RequestHandler {
  return limiter(
    1000,
    perSecond,
    (retryAfter) => `this API key may make ${perSecond} ${what} per second; retry after ${retryAfter} s`,
    (req) => req.principal?.keyId ?? 'anonymous',
  );
}

/** The window of the per-address limit: long enough that a burst from a mail proxy averages out. */
export const ADDRESS_WINDOW_SECONDS = 10;

/**
 * At most `perSecond` requests per client address per second on average, counted over
 * `ADDRESS_WINDOW_SECONDS` windows (so a burst of `perSecond × window` passes). The address is
 * `req.ip` (behind a loopback proxy, the forwarded one), IPv6 grouped by /56 (express-rate-limit's
 * default key).
 */
export function perAddressRateLimit(perSecond: number): RequestHandler {
  return limiter(
    ADDRESS_WINDOW_SECONDS * 1000,
    perSecond * ADDRESS_WINDOW_SECONDS,
    (retryAfter) =>
      `this address may make ${perSecond} tracking requests per second; retry after ${retryAfter} s`,
  );
}
