import { Migration } from '@mikro-orm/migrations';

/**
 * Reconciliation: each run of a domain's comparison with one target (its checkpoint, so that a run cut short
 * resumes), and what it found: repaired in the same transaction, or waiting for a person.
 */
export class Migration20261206050000Reconciliation extends Migration {
  override up(): void {
    // Per target, how often each domain is reconciled with it: {<domain>: {intervalMinutes}}.
    this.addSql('alter table channel add column reconcile jsonb;');
    this.addSql('alter table erp_backend add column reconcile jsonb;');
    this.addSql(`
      create table reconcile_run (
        id bigint generated always as identity primary key,
        domain text not null,
        target text not null,
        trigger text not null check (trigger in ('schedule', 'demand', 'pushed')),
        status text not null default 'running' check (status in ('running', 'finished', 'failed')),
        cursor text,
        pages integer not null default 0,
        compared bigint not null default 0,
        drifted bigint not null default 0,
        repaired bigint not null default 0,
        waiting bigint not null default 0,
        error text,
        started_at timestamptz not null default clock_timestamp(),
        updated_at timestamptz not null default clock_timestamp(),
        finished_at timestamptz
      );`);
    this.addSql(`create unique index reconcile_run_running on reconcile_run (domain, target) where status = 'running' and trigger <> 'pushed';`);
    this.addSql('create index reconcile_run_target on reconcile_run (domain, target, id);');
    this.addSql(`
      create table reconcile_finding (
        id bigint generated always as identity primary key,
        run_id bigint not null references reconcile_run (id) on delete cascade,
        last_seen_run_id bigint not null,
        domain text not null,
        target text not null,
        key text not null,
        class text not null,
        expected jsonb,
        actual jsonb,
        repair text not null check (repair in ('republish', 'recompute', 'resubmit', 'report')),
        status text not null check (status in ('repaired', 'waiting', 'closed')),
        detail jsonb,
        found_at timestamptz not null default clock_timestamp(),
        last_seen_at timestamptz not null default clock_timestamp(),
        repaired_at timestamptz,
        closed_at timestamptz
      );`);
    // A repair once per run (a page done again after a crash finds it); one open finding per drift waiting for a person.
    this.addSql('create unique index reconcile_finding_once on reconcile_finding (run_id, key, class);');
    this.addSql(`create unique index reconcile_finding_waiting on reconcile_finding (domain, target, key, class) where status = 'waiting';`);
  }

  override down(): void {
    this.addSql('drop table if exists reconcile_finding, reconcile_run;');
    this.addSql('alter table erp_backend drop column if exists reconcile;');
    this.addSql('alter table channel drop column if exists reconcile;');
  }
}
