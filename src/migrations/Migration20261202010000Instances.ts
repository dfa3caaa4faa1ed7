import { Migration } from '@mikro-orm/migrations';

/** The running instances, each seen every few seconds: limits meant for the whole service are shared among them. */
export class Migration20261202010000Instances extends Migration {
  override up(): void {
    this.addSql(`
      create table instance (
        id uuid primary key,
        serves_api boolean not null,
        started_at timestamptz not null default clock_timestamp(),
        seen_at timestamptz not null default clock_timestamp()
      );`);
  }

  override down(): void {
    this.addSql('drop table if exists instance;');
  }
}
