import { Migration } from '@mikro-orm/migrations';

/**
 * `coexistence_value_map`: per pair of ERP backends (legacy, cloud), the values an administrator pairs by hand where
 * the defaults derived from the two backends' configuration do not hold (docs/COEXISTENCE-MAPPINGS.md): one cloud
 * value per legacy value of a kind, and one legacy value per cloud value, so that a map reads both ways. A backend's
 * maps go with it.
 */
export class Migration20261205060000CoexistenceValueMaps extends Migration {
  override up(): void {
    this.addSql(`
      create table coexistence_value_map (
        legacy_backend_id text not null references erp_backend (id) on delete cascade,
        cloud_backend_id text not null references erp_backend (id) on delete cascade,
        kind text not null check (kind in ('currency', 'blocked', 'warehouse', 'customer', 'item')),
        legacy_value text not null,
        cloud_value text not null,
        primary key (legacy_backend_id, cloud_backend_id, kind, legacy_value),
        unique (legacy_backend_id, cloud_backend_id, kind, cloud_value)
      );`);
  }

  override down(): void {
    this.addSql('drop table if exists coexistence_value_map;');
  }
}
