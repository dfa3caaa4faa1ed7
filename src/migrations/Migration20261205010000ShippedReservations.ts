import { Migration } from '@mikro-orm/migrations';

/**
 * A reservation's shipped part: the shipment that took it and when. The warehouse's first level from after that
 * time counts the goods as gone and ends it; until then it still holds the stock. The reserved totals follow any
 * change of an open reservation's quantity (a shipped part split from it), not only its end.
 */
export class Migration20261205010000ShippedReservations extends Migration {
  override up(): void {
    this.addSql('alter table stock_reservation add column shipped_at timestamptz, add column shipment_id text;');
    this.addSql('create index stock_reservation_shipment_idx on stock_reservation (shipment_id) where shipment_id is not null and ended_at is null;');
    this.addSql(`
      create or replace function stock_reserved_ended() returns trigger language plpgsql as $$
      begin
        update stock_reserved t set quantity = t.quantity - e.quantity
          from (select o.sku, o.warehouse,
                       sum(case when o.ended_at is null then o.quantity else 0 end - case when n.ended_at is null then n.quantity else 0 end) as quantity
                  from old_rows o join new_rows n on n.id = o.id
                 group by o.sku, o.warehouse) e
         where t.sku = e.sku and t.warehouse = e.warehouse and e.quantity <> 0;
        return null;
      end $$;`);
  }

  override down(): void {
    this.addSql('alter table stock_reservation drop column if exists shipped_at, drop column if exists shipment_id;');
  }
}
