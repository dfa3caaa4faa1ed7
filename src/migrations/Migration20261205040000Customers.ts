import { Migration } from '@mikro-orm/migrations';

/**
 * The canonical customer (docs/CUSTOMERS.md). `customer`: the fields as one JSON document, who changed each last
 * (`provenance`), the ids each system knows it by, a version from `customer_version_seq`; `customer_ownership`: who
 * owns each field, and the conflict policy; `customer_sync`: per account and system, each field's value as that
 * system last saw it (echoes and conflicts are told apart by it); `customer_conflict`: both sides' values of a field
 * changed on both sides, open until resolved where the policy is manual.
 */
export class Migration20261205040000Customers extends Migration {
  override up(): void {
    this.addSql('create sequence customer_version_seq;');
    this.addSql(`
      create table customer (
        account_number text primary key,
        fields jsonb not null,
        provenance jsonb not null default '{}',
        system_ids jsonb not null default '{}',
        version bigint not null,
        created_at timestamptz not null default clock_timestamp(),
        updated_at timestamptz not null default clock_timestamp()
      );`);
    this.addSql(`create index customer_email_idx on customer ((lower(fields->>'email'))) where fields->>'email' is not null;`);
    this.addSql(`create index customer_tax_id_idx on customer ((fields->>'taxId')) where fields->>'taxId' is not null;`);
    this.addSql(`
      create table customer_ownership (
        id int primary key default 1 check (id = 1),
        fields jsonb not null,
        on_conflict text not null check (on_conflict in ('owner-wins', 'manual')),
        updated_at timestamptz not null default clock_timestamp()
      );`);
    this.addSql(`
      create table customer_sync (
        account_number text not null references customer (account_number) on delete cascade,
        system text not null check (system in ('erp', 'channel', 'crm')),
        seen jsonb not null default '{}',
        synced_at timestamptz not null default clock_timestamp(),
        primary key (account_number, system)
      );`);
    this.addSql(`
      create table customer_conflict (
        id bigserial primary key,
        account_number text not null references customer (account_number) on delete cascade,
        field text not null,
        owner text not null,
        system text not null,
        source text not null,
        current jsonb,
        incoming jsonb,
        status text not null check (status in ('open', 'resolved')),
        resolution text,
        resolved_value jsonb,
        resolved_by text,
        created_at timestamptz not null default clock_timestamp(),
        resolved_at timestamptz
      );`);
    this.addSql(`create unique index customer_conflict_open_idx on customer_conflict (account_number, field) where status = 'open';`);
  }

  override down(): void {
    this.addSql('drop table if exists customer_conflict, customer_sync, customer_ownership, customer;');
    this.addSql('drop sequence if exists customer_version_seq;');
  }
}
