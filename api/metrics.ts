/**
 * Prometheus metrics: Node process defaults plus HTTP request durations by route and status. In an
 * API process of `npm run start:cluster` (a `node:cluster` worker) the registry also answers the
 * primary, which serves the sum over every API process (prom-client's AggregatorRegistry).
 */
import cluster from 'node:cluster';
import type { NextFunction, Request, Response } from 'express';
import { AggregatorRegistry, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export function createMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const duration = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'HTTP request duration by method, route and status',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });
  if (cluster.isWorker) {
    AggregatorRegistry.setRegistries([registry]);
    new AggregatorRegistry(); // installs the listener that answers the primary
  }
  function middleware(req: Request, res: Response, next: NextFunction) {
    const end = duration.startTimer();
    res.on('finish', () => {
      const route = req.route?.path ? `${req.baseUrl}${req.route.path}` : 'unmatched';
      end({ method: req.method, route, status: String(res.statusCode) });
    });
    next();
  }
  return { registry, middleware };
}
