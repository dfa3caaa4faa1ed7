import { Inject, Injectable } from '@nestjs/common';
import { BossService } from './boss.service.js';
import { DELIVERY_SETTINGS, type DeliverySettings } from './delivery-settings.js';
import { queueName } from '../outbox/message.js';

export const QUEUE_PREFIX = 'deliver/';

/** One pg-boss queue per destination, created on first use with the delivery options. */
@Injectable()
export class DeliveryQueues {
  private readonly created = new Set<string>();
  private readonly listeners: Array<(queue: string) => void> = [];

  constructor(
    private readonly boss: BossService,
    @Inject(DELIVERY_SETTINGS) private readonly settings: DeliverySettings,
  ) {}

  /** Called with every delivery queue this process learns of (created here or found in the database). */
  onQueue(listener: (queue: string) => void): void {
    this.listeners.push(listener);
    for (const queue of this.created) listener(queue);
  }

  async ensureFor(destination: string): Promise<string> {
    const queue = queueName(destination);
    await this.ensure(queue);
    return queue;
  }

  async ensure(queue: string): Promise<void> {
    if (this.created.has(queue)) return;
    const existing = await this.boss.boss.getQueue(queue);
    if (!existing) {
      await this.boss.boss.createQueue(queue, {
        policy: 'standard',
        notify: true,
        // pg-boss retries only what our own logic could not settle: a killed worker, a lost database.
        retryLimit: 100_000,
        retryDelay: 1,
        retryBackoff: true,
        retryDelayMax: this.settings.jobRetryMaxSeconds,
        heartbeatSeconds: this.settings.heartbeatSeconds,
        expireInSeconds: Math.ceil(this.settings.callTimeoutMs / 1000) * 4 + 60,
        deleteAfterSeconds: this.settings.jobRetentionSeconds,
      }).catch(async (error: unknown) => {
        if (!(await this.boss.boss.getQueue(queue))) throw error; // another instance created it meanwhile
      });
    }
    this.created.add(queue);
    for (const listener of this.listeners) listener(queue);
  }

  /** Delivery queues that exist in the database (some created by other instances). */
  async discover(): Promise<void> {
    const queues = await this.boss.boss.getQueues();
    for (const q of queues) if (q.name.startsWith(QUEUE_PREFIX)) await this.ensure(q.name);
  }
}
