import { Migration } from '@mikro-orm/migrations';

/**
 * What the open reservations of each SKU and warehouse add up to, kept by the database with the reservations
 * themselves (statement triggers over the rows each statement inserted, ended or deleted): an intake reads one
 * row per position instead of summing every open reservation, which grew with the reservations an ERP outage
 * leaves open.
 */
export class Migration20261205000000ReservedTotals extends Migration {
  override up(): void {
    this.addSql(`
      create table stock_reserved (
        sku text not null,
        warehouse text not null,
        quantity numeric(18, 3) not null,
        primary key (sku, warehouse)
      ) with (fillfactor = 50);`);
    this.addSql(`
      insert into stock_reserved (sku, warehouse, quantity)
      select sku, warehouse, sum(quantity) from stock_reservation where ended_at is null group by sku, warehouse;`);
    this.addSql(`
      create function stock_reserved_added() returns trigger language plpgsql as $$
      begin
        insert into stock_reserved (sku, warehouse, quantity)
        select sku, warehouse, sum(quantity) from added where ended_at is null group by sku, warehouse order by sku, warehouse
        on conflict (sku, warehouse) do update set quantity = stock_reserved.quantity + excluded.quantity;
        return null;
      end $$;`);
    this.addSql(`
      create function stock_reserved_ended() returns trigger language plpgsql as $$
      begin
        update stock_reserved t set quantity = t.quantity - e.quantity
          from (select o.sku, o.warehouse, sum(o.quantity) as quantity
                  from old_rows o join new_rows n on n.id = o.id
                 where o.ended_at is null and n.ended_at is not null
                 group by o.sku, o.warehouse) e
         where t.sku = e.sku and t.warehouse = e.warehouse;
        return null;
      end $$;`);
    this.addSql(`
      create trigger stock_reservation_added after insert on stock_reservation
        referencing new table as added for each statement execute function stock_reserved_added();`);
    this.addSql(`
      create trigger stock_reservation_ended after update on stock_reservation
        referencing old table as old_rows new table as new_rows for each statement execute function stock_reserved_ended();`);
    this.addSql(`
      create function stock_reserved_deleted() returns trigger language plpgsql as $$
      begin
        update stock_reserved t set quantity = t.quantity - e.quantity
          from (select sku, warehouse, sum(quantity) as quantity from old_rows where ended_at is null group by sku, warehouse) e
         where t.sku = e.sku and t.warehouse = e.warehouse;
        return null;
      end $$;`);
    this.addSql(`
      create trigger stock_reservation_deleted after delete on stock_reservation
        referencing old table as old_rows for each statement execute function stock_reserved_deleted();`);
  }

  override down(): void {
    this.addSql('drop trigger if exists stock_reservation_added on stock_reservation;');
    this.addSql('drop trigger if exists stock_reservation_ended on stock_reservation;');
    this.addSql('drop trigger if exists stock_reservation_deleted on stock_reservation;');
    this.addSql('drop function if exists stock_reserved_added(), stock_reserved_ended(), stock_reserved_deleted();');
    this.addSql('drop table if exists stock_reserved;');
  }
}
