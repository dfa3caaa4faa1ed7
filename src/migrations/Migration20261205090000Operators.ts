import { Migration } from '@mikro-orm/migrations';

/** Operators: the people who work the operations API, each with API keys of scopes `ops:read` / `ops:write`. */
export class Migration20261205090000Operators extends Migration {
  override up(): void {
    this.addSql(`
      create table operator (
        id text primary key,
        name text not null,
        created_at timestamptz not null default now(),
        updated_at timestamptz not null default now()
      );`);
    this.addSql('alter table api_key drop constraint api_key_principal_type_check;');
    this.addSql(`alter table api_key add constraint api_key_principal_type_check check (principal_type in ('channel', 'source', 'operator'));`);
  }

  override down(): void {
    this.addSql(`delete from api_key where principal_type = 'operator';`);
    this.addSql('alter table api_key drop constraint api_key_principal_type_check;');
    this.addSql(`alter table api_key add constraint api_key_principal_type_check check (principal_type in ('channel', 'source'));`);
    this.addSql('drop table if exists operator;');
  }
}
