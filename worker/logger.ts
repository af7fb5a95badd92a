import pino from 'pino';

/** The service's structured logger (JSON lines on stdout; level from LOG_LEVEL, default info). */
export const logger = pino({
  level: process.env.LOG_LEVEL ?? 'info',
  base: { service: 'campaign-orchestrator' },
});

export type Logger = pino.Logger;
