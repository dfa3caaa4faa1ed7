import { Migration } from '@mikro-orm/migrations';

/** A source may stand for an ERP backend (its add-on pushing that ERP's stock): one authority for stock holds for it too. */
export class Migration20261206060000SourceBackend extends Migration {
  override up(): void {
    this.addSql('alter table source_system add column erp_backend_id text;');
  }

  override down(): void {
    this.addSql('alter table source_system drop column if exists erp_backend_id;');
  }
}
