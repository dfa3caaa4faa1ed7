import { TargetError } from '../../platform/delivery/outcome.js';

/**
 * An action on a record by the id the cross-reference holds for it: true when the ERP took it; false when the ERP
 * refused it as such (the id gone stale, the record not in the state the action needs), so that the caller finds
 * the record by its reference instead and decides from what it finds. A retryable failure is thrown as it is.
 */
export async function directly(action: () => Promise<unknown>): Promise<boolean> {
  try {
    await action();
    return true;
  } catch (error) {
    if (error instanceof TargetError && error.failureClass === 'permanent') return false;
    throw error;
  }
}

/** The answer of a read by key, or undefined when the ERP answers 404 (it has no such record). */
export async function absentOn404<T>(work: () => Promise<T>): Promise<T | undefined> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof TargetError && error.details.status === 404) return undefined;
    throw error;
  }
}
