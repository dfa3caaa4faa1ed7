import { Migration } from '@mikro-orm/migrations';

/**
 * What two ERPs answered for one transaction while one shadows the other (docs/COEXISTENCE.md): each backend's
 * answer (`coexistence_answer`: its facts, or why it failed), the comparison once both answered
 * (`coexistence_comparison`) and each mismatch with both sides (`coexistence_diff`); per domain, the readiness rule
 * a switch to the cloud ERP is held to (`coexistence_readiness`).
 */
export class Migration20261205070000CoexistenceDiffs extends Migration {
  override up(): void {
    this.addSql(`
      create table coexistence_answer (
        domain text not null,
        transaction text not null,
        backend_id text not null,
        role text not null check (role in ('primary', 'shadow')),
        facts jsonb,
        failure text,
        answered_at timestamptz not null default clock_timestamp(),
        primary key (domain, transaction, backend_id)
      );`);
    this.addSql(`
      create table coexistence_comparison (
        domain text not null,
        transaction text not null,
        primary_backend_id text not null,
        shadow_backend_id text not null,
        matched boolean not null,
        mismatches int not null,
        compared_at timestamptz not null default clock_timestamp(),
        primary key (domain, transaction)
      );`);
    this.addSql('create index coexistence_comparison_window_idx on coexistence_comparison (domain, compared_at);');
    this.addSql(`
      create table coexistence_diff (
        id bigint generated always as identity primary key,
        domain text not null,
        transaction text not null,
        category text not null,
        field text not null,
        primary_value jsonb,
        shadow_value jsonb,
        created_at timestamptz not null default clock_timestamp(),
        foreign key (domain, transaction) references coexistence_comparison (domain, transaction) on delete cascade
      );`);
    this.addSql('create index coexistence_diff_list_idx on coexistence_diff (domain, category, id);');
    this.addSql('create index coexistence_diff_transaction_idx on coexistence_diff (domain, transaction);');
    this.addSql(`
      create table coexistence_readiness (
        domain text primary key,
        threshold numeric not null check (threshold >= 0 and threshold <= 1),
        window_hours int not null check (window_hours > 0),
        min_transactions int not null check (min_transactions >= 0),
        updated_at timestamptz not null default clock_timestamp()
      );`);
  }

  override down(): void {
    this.addSql('drop table if exists coexistence_readiness, coexistence_diff, coexistence_comparison, coexistence_answer;');
  }
}
