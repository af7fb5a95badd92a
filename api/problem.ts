/**
 * RFC 9457 problem details: every error the API returns has this shape, a stable `code`, and never
 * a stack trace.
 */
import type { ErrorRequestHandler, Response } from 'express';
import { ZodError } from 'zod';
import type { LifecycleErrorCode } from '../domain/lifecycle';
import type { Logger } from '../runtime/logger';

/**
 * Every `code` a problem document can carry: the lifecycle's refusals (from the campaign workflow)
 * and the API's own. Clients may switch on these; a new one is added here first.
 */
export type ProblemCode =
  | LifecycleErrorCode
  // request shape
  | 'VALIDATION_FAILED'
  | 'MALFORMED_JSON'
  | 'BODY_TOO_LARGE'
  | 'ROUTE_NOT_FOUND'
  | 'METHOD_NOT_ALLOWED'
  // who is asking
  | 'UNAUTHENTICATED'
  | 'FORBIDDEN'
  | 'OWN_KEY'
  | 'API_KEY_NOT_FOUND'
  // Idempotency-Key
  | 'REQUEST_IN_PROGRESS'
  | 'IDEMPOTENCY_KEY_REUSED'
  // resources
  | 'CAMPAIGN_NOT_FOUND'
  | 'PROFILE_NOT_FOUND'
  | 'AUDIENCE_NOT_FOUND'
  | 'AUDIENCE_EXISTS'
  | 'FILTER_AUDIENCE'
  | 'UNKNOWN_PROFILES'
  // API triggers
  | 'NOT_API_TRIGGERED'
  | 'CAMPAIGN_NOT_LIVE'
  | 'CONTEXT_TOO_LARGE'
  | 'CONTEXT_INVALID'
  | 'CONTEXT_SCHEMA_UNUSABLE'
  | 'RATE_LIMITED'
  | 'EXECUTION_NOT_FOUND'
  | 'EXECUTION_FINISHED'
  // tracking
  | 'TOKEN_NOT_FOUND'
  // the service itself
  | 'WORKFLOW_UNAVAILABLE'
  | 'INTERNAL';

export interface FieldProblem {
  field: string;
  message: string;
}

export class HttpProblem extends Error {
  constructor(
    readonly status: number,
    readonly code: ProblemCode,
    readonly detail: string,
    readonly errors: FieldProblem[] = [],
    readonly headers: Record<string, string> = {},
  ) {
    super(detail);
  }
}

const TITLES: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  409: 'Conflict',
  412: 'Precondition Failed',
  413: 'Content Too Large',
  422: 'Unprocessable Content',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

export function sendProblem(res: Response, problem: HttpProblem): void {
  res
    .status(problem.status)
    .set(problem.headers)
    .type('application/problem+json')
    .json({
      type: 'about:blank',
      title: TITLES[problem.status] ?? 'Error',
      status: problem.status,
      code: problem.code,
      detail: problem.detail,
      ...(problem.errors.length ? { errors: problem.errors } : {}),
    });
}

/** 400 naming one field and the rule it broke. */
export function invalidField(field: string, message: string): HttpProblem {
  return new HttpProblem(400, 'VALIDATION_FAILED', `${field} ${message}`, [{ field, message }]);
}

export function fromZod(error: ZodError): HttpProblem {
  const errors = error.issues.flatMap((issue) => {
    const at = issue.path.map(String);
    // Name each unknown field itself rather than the object holding it.
    if (issue.code === 'unrecognized_keys') {
      return issue.keys.map((key) => ({ field: [...at, key].join('.'), message: 'is not a known field' }));
    }
    return [{ field: at.length ? at.join('.') : '(body)', message: issue.message }];
  });
  return new HttpProblem(
    400,
    'VALIDATION_FAILED',
    errors.map((e) => `${e.field}: ${e.message}`).join('; '),
    errors,
  );
}

/** The last Express middleware: maps anything thrown to a problem response. */
export function problemHandler(logger: Logger): ErrorRequestHandler {
  return (error: unknown, _req, res, _next) => {
    if (error instanceof HttpProblem) return sendProblem(res, error);
    if (error instanceof ZodError) return sendProblem(res, fromZod(error));
    const e = error as { type?: string; status?: number; message?: string };
    if (e?.type === 'entity.parse.failed') {
      return sendProblem(res, new HttpProblem(400, 'MALFORMED_JSON', 'request body is not valid JSON'));
    }
    if (e?.type === 'entity.too.large') {
      return sendProblem(res, new HttpProblem(413, 'BODY_TOO_LARGE', 'request body is too large'));
    }
    logger.error({ err: error }, 'unhandled error');
    sendProblem(res, new HttpProblem(500, 'INTERNAL', 'internal error; see the service logs'));
  };
}
