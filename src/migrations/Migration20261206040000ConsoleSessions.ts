import { Migration } from '@mikro-orm/migrations';

/**
 * Sessions of the operations console: a signed-in operator's browser holds only a random session id in an
 * HttpOnly cookie; the row holds its hash, who signed in (the admin, or an operator's key, still checked against
 * revocation on every request), the CSRF token of its forms, and when it ends.
 */
export class Migration20261206040000ConsoleSessions extends Migration {
  override up(): void {
    this.addSql(`
      create table console_session (
        id_hash bytea primary key,
        principal jsonb not null,
        key_id uuid references api_key (id) on delete cascade,
        csrf_token text not null,
        created_at timestamptz not null default now(),
        last_seen_at timestamptz not null default now(),
        expires_at timestamptz not null
      );`);
    this.addSql('create index console_session_expires_idx on console_session (expires_at);');
    // The console's lists of orders that need a person: few rows, so the index costs the intake nothing.
    this.addSql(`create index sales_order_attention_idx on sales_order (status, reference) where status in ('rejected', 'failed', 'on_hold');`);
  }

  override down(): void {
    this.addSql('drop index if exists sales_order_attention_idx;');
    this.addSql('drop table if exists console_session;');
  }
}
