import { Injectable } from '@nestjs/common';
import { Destinations } from '../delivery/destinations.js';
import { classify, TargetError } from '../delivery/outcome.js';
import { backoffDelay, DEFAULT_RETRY_POLICY } from '../delivery/retry-policy.js';
import { Governor, TargetUnavailableError } from './governor.js';

const CALL_TIMEOUT_MS = 15_000;
// Tries of one read that the target or the governor turns away for a while (an outage, a pause, a 5xx).
const READ_TRIES = 6;

/**
 * Reads of a target outside the delivery queues (reconciliation's pages, a webhook's look-up): each call is
 * admitted by the target's governor, with the limits its destination handler gives (rate, concurrency, circuit,
 * pauses, maintenance windows), so that reads and deliveries share them. A refusal for a while is waited out and
 * tried again a few times before it fails the read: a run with pages to go waits rather than fails.
 */
@Injectable()
export class GovernedReads {
  constructor(
    private readonly governor: Governor,
    private readonly destinations: Destinations,
  ) {}

  /** One read of `target` (`channel:<id>`, `erp:<id>`), under its governor, given a signal that ends it after 15 s. */
  async call<T>(target: string, work: (signal: AbortSignal) => Promise<T>): Promise<T> {
    const separator = target.indexOf(':');
    const handler = this.destinations.handlerOf(target.slice(0, separator));
    if (!handler) throw new TargetError('permanent', `this instance does not reach ${target}`);
    const limits = await handler.limits(target.slice(separator + 1));
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.governor.call(target, limits, () => work(AbortSignal.timeout(CALL_TIMEOUT_MS)));
      } catch (error) {
        const failure = classify(error);
        if (failure.class === 'permanent' || attempt >= READ_TRIES) throw error;
        const waitMs = error instanceof TargetUnavailableError ? error.waitMs : (failure.retryAfterMs ?? backoffDelay(DEFAULT_RETRY_POLICY, attempt));
        await new Promise((resolve) => setTimeout(resolve, waitMs));
      }
    }
  }
}
