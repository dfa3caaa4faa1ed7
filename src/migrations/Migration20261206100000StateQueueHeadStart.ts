import { Migration } from '@mikro-orm/migrations';

/**
 * The last-value queue's claim order: a version of priority p is taken as if it had been queued p seconds earlier
 * (STATE_QUEUE_ORDER), no longer before every version of lower priority. Urgent figures still go first among
 * what is waiting, but a steady stream of them above a target's rate can hold another key back by at most their
 * head start, not for as long as the stream lasts. In UTC, so that the expression is immutable and can be indexed.
 */
export class Migration20261206100000StateQueueHeadStart extends Migration {
  override up(): void {
    this.addSql(`drop index state_outbox_due_idx;`);
    this.addSql(`create index state_outbox_due_idx on state_outbox (destination, (timezone('UTC', next_attempt_at) - priority * interval '1 second'));`);
  }

  override down(): void {
    this.addSql(`drop index state_outbox_due_idx;`);
    this.addSql(`create index state_outbox_due_idx on state_outbox (destination, priority desc, next_attempt_at);`);
  }
}
