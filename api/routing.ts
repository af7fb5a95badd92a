/**
 * Declarative routes: each one is registered with Express (validation, auth, handler) and with the
 * OpenAPI registry from the same zod schemas, so the document always matches the code — headers
 * included. A method a path does not declare answers 405 with `Allow`.
 */
import type { OpenAPIRegistry, RouteConfig } from '@asteasolutions/zod-to-openapi';
import express, { type Request, type Response } from 'express';
import type { z } from 'zod';
import { requirePermission, type Permission } from './auth';
import { IDEMPOTENCY_KEY_PATTERN, IDEMPOTENCY_RETENTION_HOURS } from './idempotency';
import { IF_MATCH_PATTERN } from './http';
import { HttpProblem } from './problem';
import { problemSchema } from './schemas';

type Schema = z.ZodType;

export interface RouteSpec<P extends Schema, Q extends Schema, B extends Schema> {
  method: 'get' | 'post' | 'put' | 'patch' | 'delete';
  /** Express-style path, e.g. /v1/campaigns/:id */
  path: string;
  summary: string;
  description?: string;
  tag: string;
  /** Required permission; omit for public routes. */
  permission?: Permission;
  /** A rate limit per API key, run after the permission check (429 with Retry-After). */
  rateLimit?: express.RequestHandler;
  params?: P;
  query?: Q;
  body?: B;
  /** Honours `If-Match` (the draft's ETag). Every method but GET honours `Idempotency-Key`… */
  ifMatch?: boolean;
  /** …unless `false` (public routes without an API key, whose records are per key). */
  idempotent?: false;
  /**
   * Success responses with their schema (and other media types the route can answer with, chosen by
   * `Accept`); error statuses (always problem documents) with a description.
   */
  responses: Record<
    number,
    { description: string; schema?: Schema; contentType?: string; alternatives?: Record<string, Schema> }
  >;
  handler: (ctx: {
    params: z.infer<P>;
    query: z.infer<Q>;
    body: z.infer<B>;
    req: Request;
    res: Response;
  }) => Promise<void> | void;
}

const ERROR_DESCRIPTIONS: Record<number, string> = {
  400: 'invalid request (field errors listed)',
  401: 'missing or unknown API key',
  403: 'the key’s role may not do this',
  404: 'not found',
  409: 'not allowed in the campaign’s current state',
  412: 'If-Match does not match the current revision',
  405: 'the path does not have this method (see Allow)',
  422: 'review failed, or Idempotency-Key reused for another request',
  429: 'the API key exceeded its rate (see Retry-After)',
  503: 'the campaign workflow did not answer in time (Retry-After)',
};

const HEADERS = {
  'If-Match': {
    schema: { type: 'string' as const, pattern: IF_MATCH_PATTERN },
    description: 'the draft’s ETag (strong comparison, one entity-tag or `*`); 412 when it no longer matches',
  },
  'Idempotency-Key': {
    schema: { type: 'string' as const, pattern: IDEMPOTENCY_KEY_PATTERN },
    description:
      'makes a retried request act once: the same key and request replay the first response ' +
      `(kept ${IDEMPOTENCY_RETENTION_HOURS} h); the same key with another request is refused (422)`,
  },
};

export class Routes {
  /** Declared methods of each path, for 405 + Allow. */
  private readonly methods = new Map<string, Set<string>>();

  constructor(
    readonly router: express.Router,
    readonly registry: OpenAPIRegistry,
    /** `Idempotency-Key` handling, run on every declared write after the permission check. */
    private readonly idempotency: express.RequestHandler,
  ) {}

  /** Answers 405 with `Allow` for every method a declared path does not have. Call after the last `add`. */
  close(): void {
    for (const [path, declared] of this.methods) {
      const allow = [...declared, ...(declared.has('GET') ? ['HEAD'] : [])].join(', ');
      this.router.all(path, (req, res, next) => {
        res.set('Allow', allow);
        if (req.method === 'OPTIONS') return void res.status(204).end();
        next(new HttpProblem(405, 'METHOD_NOT_ALLOWED', `${req.method} is not allowed here; use ${allow}`));
      });
    }
  }

  add<P extends Schema, Q extends Schema, B extends Schema>(spec: RouteSpec<P, Q, B>): void {
    const declared = this.methods.get(spec.path) ?? new Set<string>();
    this.methods.set(spec.path, declared.add(spec.method.toUpperCase()));
    const handlers: express.RequestHandler[] = [];
    if (spec.permission) handlers.push(requirePermission(spec.permission));
    if (spec.rateLimit) handlers.push(spec.rateLimit);
    if (spec.method !== 'get' && spec.idempotent !== false) handlers.push(this.idempotency);
    handlers.push(async (req, res) => {
      const params = (spec.params ? spec.params.parse(req.params) : {}) as z.infer<P>;
      const query = (spec.query ? spec.query.parse(req.query) : {}) as z.infer<Q>;
      const body = (spec.body ? spec.body.parse(req.body ?? {}) : {}) as z.infer<B>;
      await spec.handler({ params, query, body, req, res });
    });
    this.router[spec.method](spec.path, ...handlers);
    this.registry.registerPath(this.openapi(spec));
  }

  private openapi<P extends Schema, Q extends Schema, B extends Schema>(
    spec: RouteSpec<P, Q, B>,
  ): RouteConfig {
    const responses: RouteConfig['responses'] = {};
    const problem = (description: string) => ({
      description,
      content: { 'application/problem+json': { schema: problemSchema } },
    });
    for (const [status, r] of Object.entries(spec.responses)) {
      responses[status] =
        Number(status) >= 400
          ? problem(r.description)
          : {
              description: r.description,
              ...(r.schema
                ? {
                    content: {
                      [r.contentType ?? 'application/json']: { schema: r.schema },
                      ...Object.fromEntries(
                        Object.entries(r.alternatives ?? {}).map(([type, schema]) => [type, { schema }]),
                      ),
                    },
                  }
                : {}),
            };
    }
    const write = spec.method !== 'get' && spec.idempotent !== false;
    const headers = [
      ...(spec.ifMatch ? (['If-Match'] as const) : []),
      ...(write ? (['Idempotency-Key'] as const) : []),
    ];
    const errors = [
      400,
      ...(spec.permission ? [401, 403] : []),
      ...(write ? [409, 422, 503] : []),
      ...(spec.ifMatch ? [412] : []),
      ...(spec.rateLimit ? [429] : []),
    ];
    for (const status of errors) responses[status] ??= problem(ERROR_DESCRIPTIONS[status]);
    const headerParams = headers.map((name) => ({
      name,
      in: 'header' as const,
      required: false,
      ...HEADERS[name],
    }));
    return {
      method: spec.method,
      path: spec.path.replace(/:(\w+)/g, '{$1}'),
      summary: spec.summary,
      ...(spec.description ? { description: spec.description } : {}),
      tags: [spec.tag],
      ...(spec.permission ? { security: [{ bearer: [] }] } : {}),
      request: {
        ...(spec.params ? { params: spec.params as never } : {}),
        ...(spec.query ? { query: spec.query as never } : {}),
        ...(spec.body
          ? { body: { content: { 'application/json': { schema: spec.body } }, required: true } }
          : {}),
      },
      ...(headerParams.length ? { parameters: headerParams } : {}),
      responses,
    };
  }
}
