import { Migration } from '@mikro-orm/migrations';

/**
 * Pricing. `price_entry`: every price Crossdock holds, one row per identity (list, SKU, currency, customer, quantity
 * break, start), open-ended starts and ends stored as -infinity and infinity so that validity is one range test;
 * `channel_price`: the price each channel was last given per SKU (`price_key` '' for the channel's own price, a
 * list name for a store's B2B price list), versioned like channel_availability; `price_clock`: how far the
 * schedule that starts and ends dated prices has looked; `channel_price_setting`: the pricing settings each
 * channel's prices were last published under (a channel added or re-pointed is given every SKU's price); `price_poll`: each backend's last price pull.
 * `channel.pricing`: the list and currency a channel sells at, and what its order intake does on a price mismatch;
 * `customer_account.price_list`: the customer's list in the ERP; `sales_order.price_mismatch`: the lines whose
 * unit price differed from the effective price when the order came in.
 */
export class Migration20261205030000Pricing extends Migration {
  override up(): void {
    this.addSql(`
      create table price_entry (
        id bigserial primary key,
        price_list text not null,
        sku text not null,
        currency text not null,
        customer text not null default '',
        min_quantity numeric not null default 0 check (min_quantity >= 0),
        valid_from timestamptz not null default '-infinity',
        valid_to timestamptz not null default 'infinity',
        unit_price numeric(21, 6) not null check (unit_price >= 0),
        ordering text not null check (ordering in ('sequence', 'time')),
        sequence numeric,
        occurred_at timestamptz,
        source text not null,
        updated_at timestamptz not null default clock_timestamp(),
        check (valid_from < valid_to)
      );`);
    this.addSql('create unique index price_entry_identity_idx on price_entry (sku, currency, price_list, customer, min_quantity, valid_from);');
    this.addSql('create index price_entry_source_idx on price_entry (source);');
    this.addSql(`create index price_entry_starts_idx on price_entry (valid_from) where valid_from > '-infinity';`);
    this.addSql(`create index price_entry_ends_idx on price_entry (valid_to) where valid_to < 'infinity';`);
    this.addSql('create sequence price_version_seq;');
    this.addSql(`
      create table channel_price (
        channel_id text not null references channel (id) on delete cascade,
        price_key text not null,
        sku text not null,
        currency text not null,
        unit_price numeric(21, 6),
        price_list text,
        valid_to timestamptz,
        -- where the price goes in the channel (a store's B2B PriceList id); '' for the channel's own price
        target text not null default '',
        version bigint not null,
        computed_at timestamptz not null default clock_timestamp(),
        primary key (channel_id, price_key, sku)
      );`);
    this.addSql(`create table price_clock (id int primary key default 1 check (id = 1), checked_through timestamptz not null);`);
    // From now: a price that starts or ends later is published by the clock, whichever instance runs it first.
    this.addSql(`insert into price_clock (id, checked_through) values (1, clock_timestamp());`);
    this.addSql(`
      create table channel_price_setting (
        channel_id text primary key references channel (id) on delete cascade,
        setting text not null,
        published_at timestamptz not null default clock_timestamp()
      );`);
    this.addSql(`
      create table price_poll (
        erp_backend_id text primary key,
        polled_at timestamptz not null default clock_timestamp(),
        prices int not null default 0
      );`);
    this.addSql('alter table channel add column pricing jsonb;');
    this.addSql('alter table customer_account add column price_list text;');
    this.addSql('alter table sales_order add column price_mismatch jsonb;');
  }

  override down(): void {
    this.addSql('alter table sales_order drop column if exists price_mismatch;');
    this.addSql('alter table customer_account drop column if exists price_list;');
    this.addSql('alter table channel drop column if exists pricing;');
    this.addSql('drop table if exists price_poll, channel_price_setting, price_clock, channel_price, price_entry;');
    this.addSql('drop sequence if exists price_version_seq;');
  }
}
