import { ConnectionException } from '@mikro-orm/core';
import { isStalePlan } from './prepared-statements.js';

// Connection refused, reset or lost, the server shutting down or starting up, too many connections, a
// connection that failed (class 08), and a primary that became a read-only standby in a failover.
const UNAVAILABLE_CODES = new Set([
  'ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN',
  '57P01', '57P02', '57P03', '53300', '08000', '08001', '08003', '08004', '08006', '25006',
]);
// What node-postgres says, without a code, of a connection that has gone or stopped answering (a primary that
// vanished without closing its connections, in a failover: CROSSDOCK_DB_QUERY_TIMEOUT_MS bounds the wait).
const UNAVAILABLE_MESSAGES = /^(Connection terminated|Query read timeout|timeout exceeded when trying to connect|Client has encountered a connection error and is not queryable|Client was closed and is not queryable)/;

/**
 * The database cannot be used for now (as opposed to a statement that is wrong): answer 503, retry later. A
 * prepared statement that a migration made stale counts: its connection is dropped, and a retry prepares it anew.
 */
export function isDatabaseUnavailable(error: unknown): boolean {
  if (error instanceof ConnectionException || isStalePlan(error)) return true;
  const code = (error as { code?: unknown })?.code;
  const message = (error as { message?: unknown })?.message;
  return (typeof code === 'string' && UNAVAILABLE_CODES.has(code)) || (typeof message === 'string' && UNAVAILABLE_MESSAGES.test(message));
}

