/** How the workflow refuses a command: as a failure the API can map to an HTTP status. */
import * as wf from '@temporalio/workflow';
import { LifecycleError } from '../domain/lifecycle';

/**
 * Runs a state-machine call, turning a LifecycleError into a non-retryable ApplicationFailure whose
 * type is the error code and whose details carry the field errors: that is what rejects an update
 * (in a validator, before anything reaches history) and what the API maps to 404/409/412/422.
 */
export function refuseAsFailure<T>(call: () => T): T {
  try {
    return call();
  } catch (error) {
    if (error instanceof LifecycleError) {
      throw wf.ApplicationFailure.create({
        type: error.code,
        message: error.message,
        details: [error.fieldErrors],
        nonRetryable: true,
      });
    }
    throw error;
  }
}
