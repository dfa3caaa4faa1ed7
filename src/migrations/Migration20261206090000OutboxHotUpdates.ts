import { Migration } from '@mikro-orm/migrations';

/**
 * No index of `outbox` reads `status` any more, so that a row's moves that change only its status and job (queued,
 * sending, back to queued for a retry) are HOT updates: the new version goes on the same page and no index gets an
 * entry (an update that changes an indexed column, or one in an index's predicate, writes an entry into every
 * index). A command's chain is its rows with `finished_at` null: pending, waiting, queued, sending and dead (a dead
 * row holds its chain until it is replayed or discarded, so it keeps `finished_at` null); dead letters are found
 * among the rows that failed at least once. Pages are left a fifth free for those updates.
 */
export class Migration20261206090000OutboxHotUpdates extends Migration {
  override up(): void {
    this.addSql(`update outbox set finished_at = null where status = 'dead' and finished_at is not null;`);
    this.addSql(`update outbox set finished_at = coalesce(delivered_at, clock_timestamp()) where status in ('delivered', 'discarded', 'superseded') and finished_at is null;`);
    this.addSql(`drop index outbox_chain_idx;`);
    this.addSql(`create index outbox_chain_idx on outbox (destination, key, id) where finished_at is null;`);
    this.addSql(`drop index outbox_dead_idx;`);
    this.addSql(`create index outbox_dead_idx on outbox (destination, last_failed_at) where last_failed_at is not null;`);
    this.addSql(`alter table outbox set (fillfactor = 80);`);
  }

  override down(): void {
    this.addSql(`alter table outbox reset (fillfactor);`);
    this.addSql(`drop index outbox_dead_idx;`);
    this.addSql(`create index outbox_dead_idx on outbox (destination, last_failed_at) where status = 'dead';`);
    this.addSql(`drop index outbox_chain_idx;`);
    this.addSql(`create index outbox_chain_idx on outbox (destination, key, id) where status in ('pending', 'waiting', 'queued', 'sending', 'dead');`);
    this.addSql(`update outbox set finished_at = last_failed_at where status = 'dead' and finished_at is null;`);
  }
}
