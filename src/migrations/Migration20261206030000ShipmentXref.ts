import { Migration } from '@mikro-orm/migrations';

/**
 * The cross-reference of ids holds shipments too (the ERP's document of each posting, shadow postings included, so
 * that a poll knows them as Crossdock's), and is found by an ERP's document number as well as by its key.
 */
export class Migration20261206030000ShipmentXref extends Migration {
  override up(): void {
    this.addSql('alter table entity_xref drop constraint entity_xref_entity_check;');
    this.addSql("alter table entity_xref add constraint entity_xref_entity_check check (entity in ('order', 'customer', 'shipment'));");
    this.addSql('create index entity_xref_erp_ref_idx on entity_xref (entity, backend_id, erp_ref) where erp_ref is not null;');
  }

  override down(): void {
    this.addSql('drop index if exists entity_xref_erp_ref_idx;');
    this.addSql("delete from entity_xref where entity = 'shipment';");
    this.addSql('alter table entity_xref drop constraint entity_xref_entity_check;');
    this.addSql("alter table entity_xref add constraint entity_xref_entity_check check (entity in ('order', 'customer'));");
  }
}
