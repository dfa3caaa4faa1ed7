import { Migration } from '@mikro-orm/migrations';

/**
 * The cross-reference of ids (docs/COEXISTENCE.md): for each entity, its canonical id (an order's id, an account
 * number) and its id in each ERP backend (the ERP's own key, and its document number where it has one), filled as
 * entities are created or read there.
 */
export class Migration20261205080000EntityXref extends Migration {
  override up(): void {
    this.addSql(`
      create table entity_xref (
        entity text not null check (entity in ('order', 'customer')),
        canonical_id text not null,
        backend_id text not null references erp_backend (id) on delete cascade,
        erp_id text not null,
        erp_ref text,
        updated_at timestamptz not null default clock_timestamp(),
        primary key (entity, canonical_id, backend_id)
      );`);
    this.addSql('create index entity_xref_erp_idx on entity_xref (entity, backend_id, erp_id);');
  }

  override down(): void {
    this.addSql('drop table if exists entity_xref;');
  }
}
