import { Migration } from '@mikro-orm/migrations';

/** Shipments from the warehouse or the ERP: each with its lines matched to the order's; events held until they can apply. */
export class Migration20261202020000Shipments extends Migration {
  override up(): void {
    this.addSql(`alter table sales_order drop constraint sales_order_status_check;`);
    this.addSql(`alter table sales_order add constraint sales_order_status_check
                   check (status in ('accepted', 'submitted', 'confirmed', 'partially_shipped', 'shipped', 'rejected', 'on_hold', 'cancelled', 'failed'));`);
    // A shipment names its order by the channel's order id or the ERP's reference as often as by Crossdock's id.
    this.addSql(`create index sales_order_channel_order_idx on sales_order (channel_order_id);`);
    this.addSql(`create index sales_order_erp_order_ref_idx on sales_order (erp_order_ref) where erp_order_ref is not null;`);
    this.addSql(`
      create table shipment (
        id text primary key,
        source text not null,
        order_id uuid not null references sales_order (id),
        status text not null check (status in ('shipped', 'in_transit', 'delivered', 'cancelled')),
        carrier text,
        tracking_number text,
        tracking_url text,
        occurred_at timestamptz not null,
        version int not null default 1,
        correlation_id text not null,
        created_at timestamptz not null default clock_timestamp(),
        updated_at timestamptz not null default clock_timestamp()
      );`);
    this.addSql(`create index shipment_order_idx on shipment (order_id);`);
    this.addSql(`
      create table shipment_line (
        shipment_id text not null references shipment (id) on delete cascade,
        position int not null,
        line_id text not null,
        sku text not null,
        quantity numeric(18, 3) not null,
        primary key (shipment_id, position)
      );`);
    // An event that cannot apply yet (its order is not known: parked) or cannot apply as it is (an exception
    // an operator sees, with the reason): kept whole, applied again when its order arrives or on retry.
    this.addSql(`
      create table shipment_hold (
        id bigint generated always as identity primary key,
        source text not null,
        event_id text not null,
        shipment_id text not null,
        kind text not null check (kind in ('parked', 'exception')),
        reason text not null,
        event jsonb not null,
        correlation_id text not null,
        received_at timestamptz not null default clock_timestamp(),
        attempts int not null default 0,
        last_tried_at timestamptz,
        resolved_at timestamptz,
        resolution text,
        unique (source, event_id)
      );`);
    this.addSql(`create index shipment_hold_open_idx on shipment_hold (kind, id) where resolved_at is null;`);
  }

  override down(): void {
    this.addSql('drop table if exists shipment_hold, shipment_line, shipment;');
    this.addSql('drop index if exists sales_order_channel_order_idx, sales_order_erp_order_ref_idx;');
    this.addSql(`alter table sales_order drop constraint sales_order_status_check;`);
    this.addSql(`alter table sales_order add constraint sales_order_status_check
                   check (status in ('accepted', 'submitted', 'confirmed', 'rejected', 'on_hold', 'cancelled', 'failed'));`);
  }
}
