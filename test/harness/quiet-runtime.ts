/**
 * Runs before each test file: the Temporal SDK's logs (worker state changes, expected warnings such
 * as a refused signal, the Rust core's notes about test servers) go through a logger that prints
 * errors only, so a passing `npm test` shows results and summaries. `TEST_LOG_LEVEL=warn` (or info,
 * debug, trace) brings them back.
 */
import pino from 'pino';
import { Runtime, makeTelemetryFilterString } from '@temporalio/worker';
import { temporalLogger } from '../../runtime/logger';

const level = (process.env.TEST_LOG_LEVEL ?? 'error').toLowerCase();
const coreLevel = level.toUpperCase() as 'ERROR' | 'WARN' | 'INFO' | 'DEBUG' | 'TRACE';
Runtime.install({
  logger: temporalLogger(pino({ level, base: { component: 'temporal' } })),
  telemetryOptions: {
    logging: { filter: makeTelemetryFilterString({ core: coreLevel, other: coreLevel }) },
  },
});
