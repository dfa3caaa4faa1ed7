import { Migration } from '@mikro-orm/migrations';

/**
 * Delay objectives: `slo` on channels and ERP backends; `slo_breach`, each time a flow's oldest message passed its
 * objective, until it cleared, and which of its notices (breached, resolved; webhook, email) have gone out.
 */
export class Migration20261206020000SloBreaches extends Migration {
  override up(): void {
    this.addSql('alter table channel add column slo jsonb;');
    this.addSql('alter table erp_backend add column slo jsonb;');
    this.addSql(`
      create table slo_breach (
        id bigint generated always as identity primary key,
        flow text not null,
        destination text not null,
        max_age_seconds integer not null,
        opened_at timestamptz not null default now(),
        opened_age_seconds double precision not null,
        worst_age_seconds double precision not null,
        resolved_at timestamptz,
        resolved_age_seconds double precision,
        -- The channels the breach is told on, as configured when it opened ('webhook', 'email').
        notify text[] not null default '{}',
        breached_webhook_at timestamptz,
        breached_email_at timestamptz,
        resolved_webhook_at timestamptz,
        resolved_email_at timestamptz,
        notify_failures integer not null default 0,
        last_notify_error text
      );`);
    // One open breach per flow and destination.
    this.addSql('create unique index slo_breach_open on slo_breach (destination, flow) where resolved_at is null;');
    this.addSql('create index slo_breach_resolved_at on slo_breach (resolved_at) where resolved_at is not null;');
  }

  override down(): void {
    this.addSql('drop table if exists slo_breach;');
    this.addSql('alter table erp_backend drop column if exists slo;');
    this.addSql('alter table channel drop column if exists slo;');
  }
}
