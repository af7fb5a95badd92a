import type { LogLevel, LogMetadata, Logger as TemporalLogger } from '@temporalio/common';
import { Runtime } from '@temporalio/worker';
import { ConfigError } from './config';
import pino from 'pino';

/** The service's structured logger (JSON lines on stdout; level from LOG_LEVEL, default info). */
export const logger = pino({
  level: process.env.LOG_LEVEL ?? 'info',
  base: { service: 'campaign-orchestrator' },
});

export type Logger = pino.Logger;

/** Routes the Temporal SDK's own logs (worker, bundler, core) through pino. */
export function temporalLogger(base: Logger): TemporalLogger {
  const write = (level: LogLevel, message: string, meta?: LogMetadata) =>
    base[level.toLowerCase() as 'info'](meta ?? {}, message);
  return {
    log: write,
    trace: (message, meta) => write('TRACE', message, meta),
    debug: (message, meta) => write('DEBUG', message, meta),
    info: (message, meta) => write('INFO', message, meta),
    warn: (message, meta) => write('WARN', message, meta),
    error: (message, meta) => write('ERROR', message, meta),
  };
}

/**
 * Installs the Temporal runtime for a long-running process: SDK logs go through pino at
 * TEMPORAL_LOG_LEVEL (default warn), signal handling is left to our own shutdown code, and with
 * TEMPORAL_METRICS_PORT the SDK's own metrics (task latencies, sticky cache, slots) are served for
 * Prometheus on that port at /metrics.
 */
export function installTemporalRuntime(env: NodeJS.ProcessEnv = process.env): void {
  const level = env.TEMPORAL_LOG_LEVEL ?? 'warn';
  const metricsPort = env.TEMPORAL_METRICS_PORT;
  if (metricsPort !== undefined && !/^\d{1,5}$/.test(metricsPort)) {
    throw new ConfigError(`TEMPORAL_METRICS_PORT must be a TCP port number, got "${metricsPort}".`);
  }
  Runtime.install({
    logger: temporalLogger(logger.child({ component: 'temporal' }, { level })),
    shutdownSignals: [],
    ...(metricsPort
      ? { telemetryOptions: { metrics: { prometheus: { bindAddress: `0.0.0.0:${metricsPort}` } } } }
      : {}),
  });
}
