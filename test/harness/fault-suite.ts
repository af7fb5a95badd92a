/**
 * The hooks every fault suite shares: a Temporal client for the suite's own campaigns, and after each
 * test the worker processes it started killed and its cleanups run, newest first; the connection is
 * closed at the end. Call `faultSuite()` inside the suite's `describe`.
 */
import { Client, Connection } from '@temporalio/client';
import { killWorkerProcesses } from './processes';
import { testTemporalAddress } from './stack';

/** What a test registers to undo, run newest first after it. */
export type Cleanups = (() => Promise<unknown>)[];

export interface FaultSuite {
  /** The Temporal client (from `beforeAll` on). */
  readonly client: Client;
  readonly cleanups: Cleanups;
}

export function faultSuite(): FaultSuite {
  let connection: Connection | undefined;
  let client: Client | undefined;
  const cleanups: Cleanups = [];

  beforeAll(async () => {
    connection = await Connection.connect({ address: testTemporalAddress() });
    client = new Client({ connection });
  });

  afterEach(async () => {
    await killWorkerProcesses();
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
  });

  afterAll(async () => {
    await connection?.close();
  });

  return {
    get client() {
      if (!client) throw new Error('faultSuite(): the client is there from beforeAll on');
      return client;
    },
    cleanups,
  };
}
