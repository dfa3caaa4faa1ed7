import { Migration } from '@mikro-orm/migrations';

/**
 * OpenTelemetry: the W3C traceparent a message was stored under (null while tracing is off), so that its relay and
 * delivery continue the producer's trace; and each trace step's trace id, for the timeline to link to.
 * Nullable columns without a default: adding them rewrites no rows.
 */
export class Migration20261206010000TraceContext extends Migration {
  override up(): void {
    for (const table of ['outbox', 'state_outbox', 'state_inflight']) this.addSql(`alter table ${table} add column trace_context text;`);
    this.addSql('alter table trace_event add column trace_id text;');
  }

  override down(): void {
    this.addSql('alter table trace_event drop column trace_id;');
    for (const table of ['state_inflight', 'state_outbox', 'outbox']) this.addSql(`alter table ${table} drop column trace_context;`);
  }
}
