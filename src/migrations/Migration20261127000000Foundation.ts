import { Migration } from '@mikro-orm/migrations';

/** Configuration (ERP backends, channels, sources, routing), API keys and the admin audit log. */
export class Migration20261127000000Foundation extends Migration {
  override up(): void {
    this.addSql(`
      create table erp_backend (
        id text primary key,
        kind text not null,
        role text not null check (role in ('legacy', 'cloud')),
        config jsonb not null,
        limits jsonb not null,
        maintenance_windows jsonb not null default '[]',
        created_at timestamptz not null default now(),
        updated_at timestamptz not null default now()
      );`);
    this.addSql(`
      create table channel (
        id text primary key,
        name text,
        kind text not null,
        config jsonb not null,
        inventory jsonb not null,
        oversell text not null check (oversell in ('reject', 'backorder')),
        limits jsonb,
        created_at timestamptz not null default now(),
        updated_at timestamptz not null default now()
      );`);
    this.addSql(`
      create table source_system (
        id text primary key,
        name text not null,
        kind text,
        created_at timestamptz not null default now(),
        updated_at timestamptz not null default now()
      );`);
    this.addSql(`
      create table routing (
        domain text primary key,
        mode text not null check (mode in ('legacy', 'cloud', 'shadow')),
        primary_backend_id text not null references erp_backend (id),
        shadow_backend_id text references erp_backend (id),
        updated_at timestamptz not null default now()
      );`);
    this.addSql(`
      create table api_key (
        id uuid primary key,
        principal_type text not null check (principal_type in ('channel', 'source')),
        principal_id text not null,
        name text,
        prefix text not null unique,
        secret_hash bytea not null,
        scopes text[] not null,
        created_at timestamptz not null default now(),
        revoked_at timestamptz
      );`);
    this.addSql(`create index api_key_principal_idx on api_key (principal_type, principal_id);`);
    this.addSql(`
      create table audit_entry (
        id bigint generated always as identity primary key,
        at timestamptz not null default now(),
        actor text not null,
        action text not null,
        resource_type text not null,
        resource_id text not null,
        before jsonb,
        after jsonb,
        correlation_id text
      );`);
    this.addSql(`create index audit_entry_resource_idx on audit_entry (resource_type, resource_id, at desc);`);
    this.addSql(`create index audit_entry_at_idx on audit_entry (at desc);`);
  }

  override down(): void {
    this.addSql('drop table if exists audit_entry, api_key, routing, source_system, channel, erp_backend;');
  }
}
