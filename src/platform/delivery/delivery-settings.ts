import type { RetryPolicy } from './retry-policy.js';

export const DELIVERY_SETTINGS = Symbol('DELIVERY_SETTINGS');

export interface DeliverySettings {
  /** Consume delivery jobs and run the relay (roles worker and all). */
  work: boolean;
  retry: RetryPolicy;
  /** A call that takes longer is abandoned and counted retryable. */
  callTimeoutMs: number;
  /** Jobs in flight per destination queue in this process. */
  concurrencyPerQueue: number;
  /** Relay: rows per transaction, and the polling fallback when no NOTIFY arrives. */
  relayBatchSize: number;
  relayPollMs: number;
  /** Last-value queue: how often it is polled for due keys and expired leases (wake-ups make it sooner). */
  statePollMs: number;
  /** How long a sender holds a key it is sending: longer than a call may take, so that only a killed sender loses it. */
  stateLeaseMs: number;
  /** pg-boss: a job whose worker stops heartbeating for this long is retried (a killed worker). */
  heartbeatSeconds: number;
  /** pg-boss supervision interval: how soon a lost job is noticed. */
  superviseIntervalSeconds: number;
  /**
   * pg-boss retries a job our own logic could not settle (a lost database, a killed worker) after 1, 2, 4 ... s,
   * at most this long apart. Set when a destination's queue is created.
   */
  jobRetryMaxSeconds: number;
  /** How often workers look for destination queues created by other instances. */
  queueDiscoveryMs: number;
  /** How long pg-boss keeps completed delivery jobs (set when a destination's queue is created). */
  jobRetentionSeconds: number;
}

export const DEFAULT_DELIVERY_SETTINGS: Omit<DeliverySettings, 'work'> = {
  retry: { maxAttempts: 10, baseDelayMs: 1_000, maxDelayMs: 300_000 },
  callTimeoutMs: 30_000,
  concurrencyPerQueue: 8,
  relayBatchSize: 500,
  relayPollMs: 1_000,
  statePollMs: 250,
  stateLeaseMs: 70_000,
  heartbeatSeconds: 30,
  superviseIntervalSeconds: 10,
  jobRetryMaxSeconds: 30,
  queueDiscoveryMs: 2_000,
  jobRetentionSeconds: 24 * 3600,
};
