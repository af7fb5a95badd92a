/**
 * Runtime configuration shared by the worker and the API, read from the environment once. Every
 * variable is documented in docs/configuration.md (test/configuration-doc.test.ts checks it).
 */
import { existsSync, readFileSync } from 'node:fs';
import { Connection, type ConnectionOptions } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import type { DeliveryConfig } from '../activities';
import type { TrackingConfig } from './tracking-tokens';
import { TASK_QUEUE_DEFAULT } from '../workflows/messages';

export interface TemporalSettings {
  address: string;
  namespace: string;
  taskQueue: string;
  tls?: { clientCertPair?: { crt: Buffer; key: Buffer } } | true;
  apiKey?: string;
}

/** A problem with configuration; the message is one sentence saying what to fix. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

export function temporalSettings(env: NodeJS.ProcessEnv = process.env): TemporalSettings {
  const cert = env.TEMPORAL_TLS_CERT;
  const key = env.TEMPORAL_TLS_KEY;
  if (Boolean(cert) !== Boolean(key)) {
    throw new ConfigError('Set both TEMPORAL_TLS_CERT and TEMPORAL_TLS_KEY (mTLS), or neither.');
  }
  let tls: TemporalSettings['tls'];
  if (cert && key) {
    tls = { clientCertPair: { crt: readFileSync(cert), key: readFileSync(key) } };
  } else if (env.TEMPORAL_TLS === 'true' || env.TEMPORAL_API_KEY) {
    tls = true;
  }
  return {
    address: env.TEMPORAL_ADDRESS ?? 'localhost:7233',
    namespace: env.TEMPORAL_NAMESPACE ?? 'default',
    taskQueue: env.TEMPORAL_TASK_QUEUE ?? TASK_QUEUE_DEFAULT,
    tls,
    apiKey: env.TEMPORAL_API_KEY || undefined,
  };
}

export function databaseUrl(env: NodeJS.ProcessEnv = process.env): string {
  const url = env.DATABASE_URL;
  if (!url) {
    throw new ConfigError(
      'DATABASE_URL is not set; point it at a PostgreSQL database (or use `npm start`, which embeds one).',
    );
  }
  return url;
}

function connectionOptions(settings: TemporalSettings) {
  return {
    address: settings.address,
    tls: settings.tls,
    apiKey: settings.apiKey,
  } satisfies ConnectionOptions;
}

function unreachable(settings: TemporalSettings, error: unknown): ConfigError {
  return new ConfigError(
    `Cannot reach Temporal at ${settings.address} (${(error as Error).message}); start it (npm start does) or set TEMPORAL_ADDRESS to a reachable server.`,
  );
}

/** A client connection; fails fast with a ConfigError when Temporal is unreachable. */
export async function connectClient(settings: TemporalSettings): Promise<Connection> {
  try {
    return await Connection.connect({ ...connectionOptions(settings), connectTimeout: '5s' });
  } catch (error) {
    throw unreachable(settings, error);
  }
}

/** A worker connection; fails fast with a ConfigError when Temporal is unreachable. */
export async function connectWorker(settings: TemporalSettings): Promise<NativeConnection> {
  try {
    return await NativeConnection.connect(connectionOptions(settings));
  } catch (error) {
    throw unreachable(settings, error);
  }
}

/** A duration setting (`30s`, `5m`, `24h`, or milliseconds), or undefined when not set. */
function durationMs(env: NodeJS.ProcessEnv, name: string): number | undefined {
  const raw = env[name]?.trim();
  if (!raw) return undefined;
  const match = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?$/.exec(raw);
  if (!match) throw new ConfigError(`${name} must be a duration such as 30s, 5m or 24h (got "${raw}").`);
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[match[2] ?? 'ms']!;
  return Number(match[1]) * unit;
}

/** What the worker's environment sets; unset variables are left to `createCampaignWorker`'s defaults. */
export interface WorkerSettings {
  shutdownGraceTime?: number;
  maxCachedWorkflows?: number;
  workflowBundle?: { codePath: string };
  maxActivities?: number;
  maxLocalActivities?: number;
}

/** A count setting (a whole number ≥ 1), or undefined when not set. */
function countOf(env: NodeJS.ProcessEnv, name: string): number | undefined {
  const raw = env[name]?.trim();
  if (!raw) return undefined;
  if (!/^\d+$/.test(raw) || Number(raw) < 1 || !Number.isSafeInteger(Number(raw))) {
    throw new ConfigError(`${name} must be a whole number of at least 1 (got "${raw}").`);
  }
  return Number(raw);
}

/**
 * Worker settings: WORKER_SHUTDOWN_GRACE_TIME (how long a graceful shutdown lets activities run),
 * WORKER_MAX_CACHED_WORKFLOWS (how many campaigns the worker keeps in its sticky cache: 0 turns the
 * cache off, otherwise at least 2, as the SDK requires) and WORKFLOW_BUNDLE (a prebuilt workflow
 * bundle, so the worker starts without bundling the code), WORKER_MAX_ACTIVITIES and
 * WORKER_MAX_LOCAL_ACTIVITIES (activity slots; the worker's PostgreSQL pool is sized from them).
 */
export function workerSettings(env: NodeJS.ProcessEnv = process.env): WorkerSettings {
  const grace = durationMs(env, 'WORKER_SHUTDOWN_GRACE_TIME');
  const raw = env.WORKER_MAX_CACHED_WORKFLOWS?.trim();
  let cache: number | undefined;
  if (raw) {
    cache = /^\d+$/.test(raw) ? Number(raw) : NaN;
    if (!Number.isSafeInteger(cache) || cache === 1) {
      throw new ConfigError(
        `WORKER_MAX_CACHED_WORKFLOWS must be a whole number of campaigns, 0 (no cache) or at least 2 (got "${raw}").`,
      );
    }
  }
  const bundle = env.WORKFLOW_BUNDLE;
  if (bundle !== undefined && !existsSync(bundle)) {
    throw new ConfigError(
      `WORKFLOW_BUNDLE must be the path of a workflow bundle file; ${bundle} does not exist.`,
    );
  }
  const maxActivities = countOf(env, 'WORKER_MAX_ACTIVITIES');
  const maxLocalActivities = countOf(env, 'WORKER_MAX_LOCAL_ACTIVITIES');
  return {
    ...(grace === undefined ? {} : { shutdownGraceTime: grace }),
    ...(maxActivities === undefined ? {} : { maxActivities }),
    ...(maxLocalActivities === undefined ? {} : { maxLocalActivities }),
    ...(cache === undefined ? {} : { maxCachedWorkflows: cache }),
    ...(bundle ? { workflowBundle: { codePath: bundle } } : {}),
  };
}

/**
 * Delivery settings: SMTP_URL (smtp[s]://user:pass@host:port) sends email over SMTP, else email goes
 * to the outbox; WEBHOOK_SECRET (required) signs webhook bodies (HMAC-SHA256); WEBHOOK_ALLOW_PRIVATE=true allows
 * webhook targets on non-public addresses (refused at send time otherwise); DELIVERY_RETRY_WINDOW
 * (default 24h) is how long a run retries transient channel errors before recording `failed`;
 * ACTIVITY_STUCK_TIMEOUT (default 90s) how long a delivery or dispatcher may go without progress
 * before its heartbeats stop (Temporal then retries the attempt).
 */
export function deliveryConfig(env: NodeJS.ProcessEnv = process.env): DeliveryConfig {
  let smtp: DeliveryConfig['smtp'];
  if (env.SMTP_URL) {
    let url: URL;
    try {
      url = new URL(env.SMTP_URL);
    } catch {
      throw new ConfigError('SMTP_URL must look like smtp://user:password@host:587 (or smtps:// for TLS).');
    }
    if (url.protocol !== 'smtp:' && url.protocol !== 'smtps:') {
      throw new ConfigError('SMTP_URL must start with smtp:// or smtps://.');
    }
    smtp = {
      host: url.hostname,
      port: Number(url.port || (url.protocol === 'smtps:' ? 465 : 587)),
      secure: url.protocol === 'smtps:',
      ...(url.username
        ? { user: decodeURIComponent(url.username), password: decodeURIComponent(url.password) }
        : {}),
    };
  }
  const windowMs = durationMs(env, 'DELIVERY_RETRY_WINDOW');
  const tracking = trackingConfig(env);
  const stuckMs = durationMs(env, 'ACTIVITY_STUCK_TIMEOUT');
  return {
    tracking,
    webhookSecret: requiredSecret(env, 'WEBHOOK_SECRET', 'that signs webhook bodies'),
    webhookAllowPrivate: env.WEBHOOK_ALLOW_PRIVATE === 'true',
    ...(smtp ? { smtp } : {}),
    ...(windowMs !== undefined ? { transientRetry: { windowMs } } : {}),
    ...(stuckMs !== undefined ? { stuckMs } : {}),
  };
}

/**
 * SHUTDOWN_TIMEOUT (default 25s): the bound on a graceful stop of a worker or API process, and of
 * `npm start` / `npm run start:cluster`, whatever activities are doing; past it the process exits.
 */
export function shutdownTimeoutMs(env: NodeJS.ProcessEnv = process.env): number {
  return durationMs(env, 'SHUTDOWN_TIMEOUT') ?? 25_000;
}

/** TRIGGER_RATE_LIMIT: trigger calls per second per API key, in each API process (default 1,000). */
export function triggerRateLimit(env: NodeJS.ProcessEnv = process.env): number {
  return countOf(env, 'TRIGGER_RATE_LIMIT') ?? 1000;
}

/**
 * TRACKING_RATE_LIMIT: requests per second per client address on the public tracking routes (open
 * pixel, links, unsubscribe), in each API process, averaged over 10 s windows (default 200). Mail
 * providers' image proxies (Gmail, Apple Mail Privacy Protection) fetch pixels for many recipients
 * from a few shared addresses and in bursts, so the default is far above one person's rate.
 */
export function trackingRateLimit(env: NodeJS.ProcessEnv = process.env): number {
  return countOf(env, 'TRACKING_RATE_LIMIT') ?? 200;
}

/**
 * TRUST_PROXY: which proxies' `X-Forwarded-For` gives the client address (Express's `trust proxy`):
 * `loopback` by default; a number of hops, or a comma-separated list of addresses, subnets and
 * `loopback` / `linklocal` / `uniquelocal`. Behind a load balancer it must name the balancer, or
 * every client has its address: the per-address tracking limit and the mail-proxy address checks
 * would see one client.
 */
export function trustProxy(env: NodeJS.ProcessEnv = process.env): number | string[] {
  const raw = env.TRUST_PROXY?.trim();
  if (!raw) return ['loopback'];
  if (/^\d+$/.test(raw)) return Number(raw);
  const entries = raw.split(',').map((e) => e.trim());
  if (entries.some((e) => !/^(loopback|linklocal|uniquelocal|[0-9a-fA-F.:]+(\/\d{1,3})?)$/.test(e))) {
    throw new ConfigError(
      `TRUST_PROXY must be a number of hops or a comma-separated list of addresses, subnets, loopback, linklocal or uniquelocal; got "${raw}".`,
    );
  }
  return entries;
}

/**
 * Tracking settings, shared by the worker (which signs tracking links) and the API (which verifies
 * them): PUBLIC_BASE_URL (where recipients reach the API; default http://localhost:$PORT),
 * TRACKING_KEY (required: signs) and TRACKING_KEY_PREVIOUS (still accepted, for a rotation).
 */
export function trackingConfig(env: NodeJS.ProcessEnv = process.env): TrackingConfig {
  const base = env.PUBLIC_BASE_URL?.trim() || `http://localhost:${env.PORT ?? 3000}`;
  if (!URL.canParse(base) || !/^https?:$/.test(new URL(base).protocol)) {
    throw new ConfigError(
      `PUBLIC_BASE_URL must be an http(s) URL such as https://t.example.com (got "${base}").`,
    );
  }
  const current = requiredSecret(
    env,
    'TRACKING_KEY',
    'that signs tracking links, the same for the worker and the API',
  );
  return {
    baseUrl: base.replace(/\/+$/, ''),
    keys: { current, ...(env.TRACKING_KEY_PREVIOUS ? { previous: env.TRACKING_KEY_PREVIOUS } : {}) },
  };
}

/**
 * A secret the service cannot run without. None has a default written in the code: `npm start` and
 * `npm run start:cluster` generate them into their data directory (toolchain/secrets.ts), any other
 * start must be given them.
 */
function requiredSecret(env: NodeJS.ProcessEnv, name: string, what: string): string {
  const value = env[name];
  if (!value) {
    throw new ConfigError(
      `${name} is not set; set it to a random secret of at least 16 characters ${what} (npm start generates one into its data directory).`,
    );
  }
  if (value.length < 16) throw new ConfigError(`${name} must be at least 16 characters long.`);
  return value;
}
