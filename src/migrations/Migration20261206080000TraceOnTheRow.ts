import { Migration } from '@mikro-orm/migrations';

/**
 * A command's `relayed` and `delivered` steps are read from its outbox row, as its `stored` step already is: the
 * relay's placement and the successful call (attempt, latency, the target's answer, its trace) are written by the
 * updates the row gets anyway, instead of two trace rows and their index entries per command. Nullable, no
 * default: adding them rewrites nothing.
 */
export class Migration20261206080000TraceOnTheRow extends Migration {
  override up(): void {
    this.addSql(`alter table outbox add column relayed_as text, add column delivery jsonb;`);
  }

  override down(): void {
    this.addSql(`alter table outbox drop column relayed_as, drop column delivery;`);
  }
}
