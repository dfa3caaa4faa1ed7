import { Migration } from '@mikro-orm/migrations';

/** Orders: the order with its allocated lines and status history, and the customer read model fed by the ERP. */
export class Migration20261127020000Orders extends Migration {
  override up(): void {
    this.addSql(`create sequence sales_order_number_seq;`);
    this.addSql(`
      create table sales_order (
        id uuid primary key,
        number bigint not null default nextval('sales_order_number_seq'),
        -- The ERP's idempotency key (Business Central externalDocumentNumber: at most 35 characters).
        reference text generated always as ('CD-' || lpad(number::text, 9, '0')) stored unique,
        channel_id text not null references channel (id),
        channel_order_id text not null,
        source text not null default 'api' check (source in ('api', 'shopify')),
        customer_account text not null,
        customer_verified boolean not null,
        erp_backend_id text not null,
        currency text not null,
        total numeric(21, 4) not null,
        ship_to jsonb not null,
        requested_ship_date date,
        notes text,
        status text not null check (status in ('accepted', 'submitted', 'confirmed', 'rejected', 'on_hold', 'cancelled', 'failed')),
        status_reason text,
        hold_reason text,
        erp_order_ref text,
        erp_order_id text,
        cancel_requested_at timestamptz,
        cancel_refused_reason text,
        -- The newest channel-side event applied to this order (Shopify's X-Shopify-Triggered-At).
        channel_event_at timestamptz,
        correlation_id text not null,
        created_at timestamptz not null default clock_timestamp(),
        updated_at timestamptz not null default clock_timestamp(),
        unique (channel_id, channel_order_id)
      );`);
    this.addSql(`create index sales_order_on_hold_idx on sales_order (erp_backend_id, customer_account) where status = 'on_hold';`);
    this.addSql(`
      create table sales_order_line (
        order_id uuid not null references sales_order (id) on delete cascade,
        position int not null,
        line_id text not null,
        sku text not null,
        warehouse text,
        quantity numeric(18, 3) not null,
        unit_price numeric(19, 4) not null,
        backordered boolean not null default false,
        metadata jsonb not null default '{}',
        primary key (order_id, position)
      );`);
    this.addSql(`
      create table sales_order_status (
        id bigint generated always as identity primary key,
        order_id uuid not null references sales_order (id) on delete cascade,
        status text not null,
        reason text,
        at timestamptz not null default clock_timestamp()
      );`);
    this.addSql(`create index sales_order_status_order_idx on sales_order_status (order_id, id);`);
    this.addSql(`
      create table customer_account (
        erp_backend_id text not null references erp_backend (id) on delete cascade,
        number text not null,
        erp_id text,
        name text,
        -- Business Central's blocked: blank, Ship, Invoice or All.
        blocked text not null default '',
        credit_limit numeric(21, 4) not null default 0,
        balance_due numeric(21, 4) not null default 0,
        synced_at timestamptz not null default clock_timestamp(),
        primary key (erp_backend_id, number)
      );`);
  }

  override down(): void {
    this.addSql('drop table if exists customer_account, sales_order_status, sales_order_line, sales_order;');
    this.addSql('drop sequence if exists sales_order_number_seq;');
  }
}
