import { Migration } from '@mikro-orm/migrations';

/**
 * Inventory: stock positions, reservations, each channel's available-to-sell; and for the outbox, delivery
 * priority and a value to skip sending a state that equals the last one delivered.
 */
export class Migration20261127030000Inventory extends Migration {
  override up(): void {
    this.addSql(`alter table outbox add column priority int not null default 0, add column state_value text;`);
    this.addSql(`alter table delivered_version add column state_value text;`);
    // A message's owner finds its rows by key (an order's submission and cancel).
    this.addSql(`create index outbox_key_idx on outbox (key, type);`);
    this.addSql(`
      create table stock_position (
        sku text not null,
        warehouse text not null,
        on_hand numeric(18, 3) not null,
        reserved numeric(18, 3) not null default 0,
        -- How the source orders its reports for this position: by sequence, or by the time it happened
        -- (unknown while only movements have been seen).
        ordering text check (ordering in ('sequence', 'time')),
        sequence numeric(30, 0),
        occurred_at timestamptz,
        source text not null,
        updated_at timestamptz not null default clock_timestamp(),
        primary key (sku, warehouse)
      );`);
    this.addSql(`
      create table stock_reservation (
        id bigint generated always as identity primary key,
        order_id uuid not null,
        sku text not null,
        warehouse text not null,
        quantity numeric(18, 3) not null check (quantity > 0),
        created_at timestamptz not null default clock_timestamp(),
        confirmed_at timestamptz,
        ended_at timestamptz,
        end_reason text
      );`);
    this.addSql(`create index stock_reservation_open_idx on stock_reservation (sku, warehouse) where ended_at is null;`);
    this.addSql(`create index stock_reservation_order_idx on stock_reservation (order_id);`);
    this.addSql(`
      create table stock_poll (
        erp_backend_id text primary key references erp_backend (id) on delete cascade,
        -- The newest change the ERP reported: the next poll asks for what changed after it.
        polled_through timestamptz,
        polled_at timestamptz not null default clock_timestamp()
      );`);
    this.addSql(`create sequence availability_version_seq;`);
    this.addSql(`
      create table channel_availability (
        channel_id text not null references channel (id) on delete cascade,
        sku text not null,
        available bigint not null,
        by_warehouse jsonb not null default '{}',
        version bigint not null,
        computed_at timestamptz not null default clock_timestamp(),
        primary key (channel_id, sku)
      );`);
    // What each channel was last sent: written by deliveries, apart from the figures the intake rewrites, so
    // that the two never wait on each other's rows.
    this.addSql(`
      create table channel_published (
        channel_id text not null references channel (id) on delete cascade,
        sku text not null,
        available bigint not null,
        version bigint not null,
        published_at timestamptz not null default clock_timestamp(),
        primary key (channel_id, sku)
      );`);
  }

  override down(): void {
    this.addSql('drop table if exists channel_published, channel_availability, stock_poll, stock_reservation, stock_position;');
    this.addSql('drop sequence if exists availability_version_seq;');
    this.addSql('drop index if exists outbox_key_idx;');
    this.addSql('alter table delivered_version drop column if exists state_value;');
    this.addSql('alter table outbox drop column if exists priority, drop column if exists state_value;');
  }
}
