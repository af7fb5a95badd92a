/**
 * Declarative routes: each one is registered with Express (validation, auth, handler) and with the
 * OpenAPI registry from the same zod schemas, so the document always matches the code.
 */
import type { OpenAPIRegistry, RouteConfig } from '@asteasolutions/zod-to-openapi';
import express, { type Request, type Response } from 'express';
import type { z } from 'zod';
import { requirePermission, type Permission } from './auth';
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
  params?: P;
  query?: Q;
  body?: B;
  /** Request headers the route honours, documented in OpenAPI. */
  headers?: Array<'If-Match' | 'Idempotency-Key'>;
  /** Success responses with their schema; error statuses (always problem documents) with a description. */
  responses: Record<number, { description: string; schema?: Schema; contentType?: string }>;
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
  422: 'review failed, or Idempotency-Key reused for another request',
  503: 'the campaign workflow did not answer in time (Retry-After)',
};

export class Routes {
  constructor(
    readonly router: express.Router,
    readonly registry: OpenAPIRegistry,
  ) {}

  add<P extends Schema, Q extends Schema, B extends Schema>(spec: RouteSpec<P, Q, B>): void {
    const handlers: express.RequestHandler[] = [];
    if (spec.permission) handlers.push(requirePermission(spec.permission));
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
                ? { content: { [r.contentType ?? 'application/json']: { schema: r.schema } } }
                : {}),
            };
    }
    const headers = spec.headers ?? [];
    const errors = [
      400,
      ...(spec.permission ? [401, 403] : []),
      ...(spec.method === 'get' ? [] : [503]),
      ...(headers.includes('If-Match') ? [412] : []),
      ...(headers.includes('Idempotency-Key') ? [409, 422] : []),
    ];
    for (const status of errors) responses[status] ??= problem(ERROR_DESCRIPTIONS[status]);
    const headerParams = headers.map((name) => ({
      name,
      in: 'header' as const,
      required: false,
      schema: { type: 'string' as const },
      description:
        name === 'If-Match'
          ? 'the ETag (draft revision) the change applies to; 412 when stale'
          : 'makes a retried POST act once and return the same response',
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
