/**
 * Runs before each test file: routes the Temporal SDK's logs (worker state changes, bundler
 * notes) through a logger that prints warnings and errors only, so a passing `npm test` shows
 * results and summaries. `TEST_LOG_LEVEL=info` (or debug, trace) brings the SDK's logs back.
 */
import pino from 'pino';
import { Runtime } from '@temporalio/worker';
import { temporalLogger } from '../../runtime/logger';

const level = (process.env.TEST_LOG_LEVEL ?? 'warn').toLowerCase();
Runtime.install({ logger: temporalLogger(pino({ level, base: { component: 'temporal' } })) });
