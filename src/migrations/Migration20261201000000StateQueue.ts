import { Migration } from '@mikro-orm/migrations';

/**
 * State messages get a last-value queue: one pending row per (destination, key), overwritten by a newer
 * version, so a burst of changes to one key costs one delivery. The outbox's NOTIFY trigger goes: a
 * notifying commit holds a database-wide lock through its WAL flush, so commits could not share one flush;
 * producers now signal after their commit, debounced, and the relay and dispatcher poll as a backstop.
 */
export class Migration20261201000000StateQueue extends Migration {
  override up(): void {
    // Pending versions, one per (destination, key): producers upsert here and nowhere else, so a sender's
    // bookkeeping never waits on a producer's transaction, nor a producer on a sender's.
    this.addSql(`
      create table state_outbox (
        destination text not null,
        key text not null,
        type text not null,
        message_id uuid not null,
        -- The idempotency key the target sees for this version: kept across its retries, new for a newer version.
        delivery_id uuid not null,
        version bigint not null,
        payload jsonb not null,
        state_value text,
        correlation_id text not null,
        causation_id text,
        priority int not null default 0,
        -- When this version was stored; the key keeps its place in the queue (next_attempt_at) when overwritten.
        created_at timestamptz not null default clock_timestamp(),
        next_attempt_at timestamptz not null default clock_timestamp(),
        attempts int not null default 0,
        errors jsonb not null default '[]',
        first_failed_at timestamptz,
        last_failed_at timestamptz,
        primary key (destination, key)
      );`);
    this.addSql(`create index state_outbox_due_idx on state_outbox (destination, priority desc, next_attempt_at);`);
    // Rows are overwritten many times a second: room on each page, and no index on what an overwrite changes,
    // lets PostgreSQL update them in place (HOT) instead of adding index entries that bloat the claim's scan.
    // Frequent vacuum and analyze keep the claim's plan on the index.
    for (const table of ['state_outbox', 'delivered_version', 'channel_availability', 'channel_published']) {
      this.addSql(`alter table ${table} set (fillfactor = 50, autovacuum_vacuum_scale_factor = 0, autovacuum_vacuum_threshold = 2000,
                     autovacuum_analyze_scale_factor = 0, autovacuum_analyze_threshold = 2000);`);
    }
    // Versions being sent, at most one per key: its sender holds it until lease_until (a killed sender's expires).
    this.addSql(`create table state_inflight (like state_outbox including defaults, lease_until timestamptz not null, primary key (destination, key))
                   with (fillfactor = 50, autovacuum_vacuum_scale_factor = 0, autovacuum_vacuum_threshold = 2000);`);
    this.addSql(`create index state_inflight_lease_idx on state_inflight (lease_until);`);
    // State rows still on their way move to the new queue, newest per key; the outbox keeps only commands to send.
    this.addSql(`
      insert into state_outbox (destination, key, type, message_id, delivery_id, version, payload, state_value, correlation_id, causation_id, priority, created_at)
      select distinct on (destination, key) destination, key, type, message_id, delivery_id, coalesce(version, id), payload, state_value,
             correlation_id, causation_id, priority, created_at
        from outbox where kind = 'state' and status in ('pending', 'waiting', 'queued', 'sending')
       order by destination, key, coalesce(version, id) desc;`);
    this.addSql(`update outbox set status = 'superseded', finished_at = clock_timestamp() where kind = 'state' and status in ('pending', 'waiting', 'queued', 'sending');`);
    this.addSql(`alter table governor_state add column failure_streak_keys text[] not null default '{}';`);
    // The flow a delivered version belongs to, for the flow statistics.
    this.addSql(`alter table delivered_version add column type text;`);
    this.addSql(`drop trigger if exists outbox_notify on outbox;`);
    this.addSql(`drop function if exists outbox_notify();`);
  }

  override down(): void {
    this.addSql('drop table if exists state_inflight, state_outbox;');
    this.addSql('alter table governor_state drop column if exists failure_streak_keys;');
    this.addSql('alter table delivered_version drop column if exists type;');
    this.addSql(`
      create function outbox_notify() returns trigger language plpgsql as $$
      begin
        perform pg_notify('crossdock_outbox', '');
        return null;
      end $$;`);
    this.addSql(`create trigger outbox_notify after insert on outbox for each statement execute function outbox_notify();`);
  }
}
