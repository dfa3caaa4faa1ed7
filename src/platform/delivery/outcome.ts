/**
 * How a target answered a delivery. `retryable`: the target or the path to it failed (timeout, connection
 * error, 5xx); `throttled`: it asked us to slow down (429); `permanent`: it refused the message itself.
 */
export type FailureClass = 'retryable' | 'throttled' | 'permanent';

export interface FailureDetail {
  class: FailureClass;
  message: string;
  status?: number;
  /** The start of the target's answer, for the dead-letter view. */
  bodyExcerpt?: string;
  retryAfterMs?: number;
}

/** Thrown by destination handlers and connectors to say how a call failed. */
export class TargetError extends Error {
  constructor(
    readonly failureClass: FailureClass,
    message: string,
    readonly details: { status?: number; bodyExcerpt?: string; retryAfterMs?: number } = {},
  ) {
    super(message);
    this.name = 'TargetError';
  }
}

const EXCERPT_LENGTH = 500;

export function excerpt(body: string): string {
  return body.length > EXCERPT_LENGTH ? `${body.slice(0, EXCERPT_LENGTH)}…` : body;
}

/** What any thrown value means for delivery: a TargetError says it, everything else is retryable. */
export function classify(error: unknown): FailureDetail {
  if (error instanceof TargetError) {
    return { class: error.failureClass, message: error.message, ...error.details };
  }
  const name = (error as { name?: string })?.name;
  if (name === 'TimeoutError' || name === 'AbortError') return { class: 'retryable', message: 'the target did not answer in time' };
  const message = error instanceof Error ? error.message : String(error);
  const code = (error as { cause?: { code?: string }; code?: string })?.cause?.code ?? (error as { code?: string })?.code;
  return { class: 'retryable', message: code ? `${code}: ${message}` : message };
}

/** Maps an HTTP answer to a failure (undefined for 2xx): 429 and 503 with Retry-After throttled; 3xx, 408, 5xx retryable; other 4xx permanent. */
export function classifyHttpStatus(status: number, body: string, retryAfterHeader?: string | null): FailureDetail | undefined {
  if (status >= 200 && status < 300) return undefined;
  const bodyExcerpt = excerpt(body);
  if (status === 429) {
    return { class: 'throttled', status, bodyExcerpt, message: 'the target is throttling', retryAfterMs: parseRetryAfter(retryAfterHeader) };
  }
  // A 503 that says when to come back is an announced outage (maintenance): wait for it, charge nothing.
  if (status === 503 && retryAfterHeader) {
    return { class: 'throttled', status, bodyExcerpt, message: 'the target is unavailable for now', retryAfterMs: parseRetryAfter(retryAfterHeader) };
  }
  // A redirect is never followed (a signed body must reach the URL it was configured for); the setting is wrong.
  if (status >= 300 && status < 400) return { class: 'retryable', status, bodyExcerpt, message: `the target redirected (${status}); fix its URL` };
  if (status === 408 || status >= 500) return { class: 'retryable', status, bodyExcerpt, message: `the target answered ${status}` };
  return { class: 'permanent', status, bodyExcerpt, message: `the target refused the message with ${status}` };
}

/** Retry-After as seconds or an HTTP date; absent or unreadable means one second. */
export function parseRetryAfter(header: string | null | undefined, now = Date.now()): number {
  if (!header) return 1000;
  if (/^\d+(\.\d+)?$/.test(header.trim())) return Math.round(Number(header) * 1000);
  const at = Date.parse(header);
  return Number.isNaN(at) ? 1000 : Math.max(0, at - now);
}
