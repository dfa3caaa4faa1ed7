import { Migration } from '@mikro-orm/migrations';

/** The messaging core: outbox with delivery state, delivered versions, governor, inbox, idempotency, traces. */
export class Migration20261127010000Messaging extends Migration {
  override up(): void {
    this.addSql(`
      create table outbox (
        id bigint generated always as identity primary key,
        message_id uuid not null,
        delivery_id uuid not null unique,
        type text not null,
        kind text not null check (kind in ('command', 'state')),
        key text not null,
        destination text not null,
        payload jsonb not null,
        version bigint,
        correlation_id text not null,
        causation_id text,
        created_at timestamptz not null default clock_timestamp(),
        relayed_at timestamptz,
        status text not null default 'pending'
          check (status in ('pending', 'waiting', 'queued', 'sending', 'delivered', 'dead', 'discarded', 'superseded')),
        job_id uuid,
        attempts int not null default 0,
        next_attempt_at timestamptz,
        delivered_at timestamptz,
        finished_at timestamptz,
        error_class text,
        errors jsonb not null default '[]',
        first_failed_at timestamptz,
        last_failed_at timestamptz,
        replays int not null default 0
      );`);
    this.addSql(`create index outbox_unrelayed_idx on outbox (id) where relayed_at is null;`);
    this.addSql(`create index outbox_chain_idx on outbox (destination, key, id) where status in ('pending', 'waiting', 'queued', 'sending', 'dead');`);
    this.addSql(`create index outbox_correlation_idx on outbox (correlation_id);`);
    this.addSql(`create index outbox_dead_idx on outbox (destination, last_failed_at) where status = 'dead';`);
    this.addSql(`create index outbox_finished_idx on outbox (finished_at) where finished_at is not null;`);
    this.addSql(`
      create function outbox_notify() returns trigger language plpgsql as $$
      begin
        perform pg_notify('crossdock_outbox', '');
        return null;
      end $$;`);
    this.addSql(`create trigger outbox_notify after insert on outbox for each statement execute function outbox_notify();`);
    this.addSql(`
      create table delivered_version (
        destination text not null,
        key text not null,
        version bigint not null,
        delivered_at timestamptz not null default now(),
        primary key (destination, key)
      );`);
    this.addSql(`
      create table governor_state (
        target text primary key,
        tokens double precision not null,
        refilled_at timestamptz not null,
        circuit text not null default 'closed' check (circuit in ('closed', 'open', 'half_open')),
        consecutive_failures int not null default 0,
        failure_streak bigint[] not null default '{}',
        opened_at timestamptz,
        paused_until timestamptz,
        pause_reason text,
        updated_at timestamptz not null default now()
      );`);
    this.addSql(`
      create table governor_lease (
        id uuid primary key,
        target text not null,
        probe boolean not null default false,
        expires_at timestamptz not null
      );`);
    this.addSql(`create index governor_lease_target_idx on governor_lease (target, expires_at);`);
    this.addSql(`
      create table inbox (
        source text not null,
        event_id text not null,
        received_at timestamptz not null default now(),
        primary key (source, event_id)
      );`);
    this.addSql(`create index inbox_received_idx on inbox (received_at);`);
    this.addSql(`
      create table idempotency_record (
        principal text not null,
        key text not null,
        request_hash text not null,
        status int,
        body jsonb,
        created_at timestamptz not null default now(),
        primary key (principal, key)
      );`);
    this.addSql(`create index idempotency_record_created_idx on idempotency_record (created_at);`);
    this.addSql(`
      create table trace_event (
        id bigint generated always as identity primary key,
        correlation_id text not null,
        message_id uuid,
        delivery_id uuid,
        destination text,
        step text not null,
        at timestamptz not null default clock_timestamp(),
        latency_ms double precision,
        detail jsonb
      );`);
    this.addSql(`create index trace_event_correlation_idx on trace_event (correlation_id, id);`);
    this.addSql(`create index trace_event_at_idx on trace_event (at);`);
  }

  override down(): void {
    this.addSql('drop table if exists trace_event, idempotency_record, inbox, governor_lease, governor_state, delivered_version, outbox;');
    this.addSql('drop function if exists outbox_notify();');
  }
}
