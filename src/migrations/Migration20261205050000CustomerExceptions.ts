import { Migration } from '@mikro-orm/migrations';

/**
 * Exceptions of every domain share one id space (`ops_exception_id_seq`), so that `/v1/ops/exceptions/{id}` names
 * one whatever its domain; shipments' holds take their ids from it from now on. `customer_exception`: a customer's
 * change by webhook or poll that broke a quality rule, held whole (one open per account and source: a later change
 * from the same source replaces it) until it is retried, corrected or dismissed. `erp_subscription`: the change
 * notifications each ERP backend sends (Business Central `subscriptions`), with the secret they must carry.
 * `customer_source_clock`: per account and source, the time of the newest change applied from it (a store's
 * webhooks come in any order: an older one is stale).
 */
export class Migration20261205050000CustomerExceptions extends Migration {
  override up(): void {
    this.addSql('create sequence ops_exception_id_seq;');
    this.addSql(`select setval('ops_exception_id_seq', coalesce((select max(id) from shipment_hold), 0) + 1, false);`);
    this.addSql('alter table shipment_hold alter column id drop identity;');
    this.addSql(`alter table shipment_hold alter column id set default nextval('ops_exception_id_seq');`);
    this.addSql(`
      create table customer_exception (
        id bigint primary key default nextval('ops_exception_id_seq'),
        account_number text not null,
        source text not null,
        change jsonb not null,
        system_id jsonb,
        violations jsonb not null,
        reason text not null,
        correlation_id text,
        received_at timestamptz not null default clock_timestamp(),
        attempts int not null default 0,
        last_tried_at timestamptz,
        resolved_at timestamptz,
        resolution text
      );`);
    this.addSql(`create unique index customer_exception_open_idx on customer_exception (account_number, source) where resolved_at is null;`);
    this.addSql(`
      create table erp_subscription (
        backend_id text not null references erp_backend (id) on delete cascade,
        entity text not null,
        subscription jsonb not null,
        client_state text not null,
        expires_at timestamptz not null,
        created_at timestamptz not null default clock_timestamp(),
        renewed_at timestamptz,
        notified_at timestamptz,
        primary key (backend_id, entity)
      );`);
    this.addSql(`
      create table customer_source_clock (
        account_number text not null,
        source text not null,
        occurred_at timestamptz not null,
        primary key (account_number, source)
      );`);
  }

  override down(): void {
    this.addSql('drop table if exists customer_source_clock, erp_subscription, customer_exception;');
    this.addSql('alter table shipment_hold alter column id drop default;');
    this.addSql('alter table shipment_hold alter column id add generated always as identity;');
    this.addSql(`select setval(pg_get_serial_sequence('shipment_hold', 'id'), coalesce((select max(id) from shipment_hold), 0) + 1, false);`);
    this.addSql('drop sequence if exists ops_exception_id_seq;');
  }
}
