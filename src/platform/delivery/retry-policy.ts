/** The one retry policy of deliveries: exponential backoff with full jitter, capped, and a budget of attempts. */
export interface RetryPolicy {
  /** Attempts charged before a delivery is dead-lettered. */
  maxAttempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = { maxAttempts: 10, baseDelayMs: 1_000, maxDelayMs: 300_000 };

/** Delay before the next try after `attempt` charged attempts: uniform in [cap/2, cap] where cap = base * 2^(attempt-1). */
export function backoffDelay(policy: RetryPolicy, attempt: number, random: () => number = Math.random): number {
  const cap = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.max(0, Math.min(30, attempt - 1)));
  return Math.round(cap / 2 + random() * (cap / 2));
}
