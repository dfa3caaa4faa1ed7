import { Migration } from '@mikro-orm/migrations';

/**
 * What a channel was last sent is read from delivered_version, the record the state dispatcher keeps anyway;
 * the inventory module's own copy of it (one more upsert per settled batch) goes.
 */
export class Migration20261202000000DeliveredStates extends Migration {
  override up(): void {
    this.addSql('drop table if exists channel_published;');
  }

  override down(): void {
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
}
