import { Command, CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import type { Sql } from '../../../../platform/database/transaction.js';
import { compareOrders, compareRecords, compareShipments, type Mismatch, type OrderFacts, type RecordFacts, type ShipmentFacts } from '../../domain/diff.js';
import type { RoutingDomain } from '../../domain/routing.js';

/** One backend's answer: its facts (null when its connector reports none), or why it gave none. */
export type ErpAnswer = { facts: OrderFacts | ShipmentFacts | RecordFacts | null } | { failure: string };

/**
 * Records what a backend answered for a transaction of a domain while one ERP shadows another, in the caller's
 * transaction (the one that settles the delivery or stores the read); once the primary and the shadow have both
 * answered, compares them and records the mismatches. The shadow's answer goes nowhere else.
 */
export class RecordErpAnswerCommand extends Command<{ compared: boolean; mismatches: number }> {
  constructor(
    readonly sql: Sql,
    readonly domain: RoutingDomain,
    readonly transaction: string,
    readonly backendId: string,
    readonly role: 'primary' | 'shadow',
    readonly answer: ErpAnswer,
  ) {
    super();
  }
}

interface AnswerRow {
  backend_id: string;
  role: 'primary' | 'shadow';
  facts: OrderFacts | ShipmentFacts | RecordFacts | null;
  failure: string | null;
}

@CommandHandler(RecordErpAnswerCommand)
export class RecordErpAnswerHandler implements ICommandHandler<RecordErpAnswerCommand, { compared: boolean; mismatches: number }> {
  async execute({ sql, domain, transaction, backendId, role, answer }: RecordErpAnswerCommand): Promise<{ compared: boolean; mismatches: number }> {
    // The two answers settle in transactions of their own, at once: the second waits for the first, so that it sees it.
    await sql.query(`select pg_advisory_xact_lock(hashtextextended('coexistence:' || $1 || ':' || $2, 0))`, [domain, transaction]);
    const facts = 'facts' in answer ? answer.facts : null;
    const failure = 'failure' in answer ? answer.failure : null;
    await sql.query(
      `insert into coexistence_answer (domain, transaction, backend_id, role, facts, failure) values ($1, $2, $3, $4, $5, $6)
       on conflict (domain, transaction, backend_id) do update set role = excluded.role, facts = excluded.facts, failure = excluded.failure, answered_at = clock_timestamp()`,
      [domain, transaction, backendId, role, facts === null ? null : JSON.stringify(facts), failure],
    );
    const { rows } = await sql.query<AnswerRow>('select backend_id, role, facts, failure from coexistence_answer where domain = $1 and transaction = $2', [domain, transaction]);
    const primary = rows.find((r) => r.role === 'primary');
    const shadow = rows.find((r) => r.role === 'shadow');
    if (!primary || !shadow) return { compared: false, mismatches: 0 };
    const mismatches = compareAnswers(domain, primary, shadow);
    if (!mismatches) return { compared: false, mismatches: 0 };
    await sql.query(
      `insert into coexistence_comparison (domain, transaction, primary_backend_id, shadow_backend_id, matched, mismatches) values ($1, $2, $3, $4, $5, $6)
       on conflict (domain, transaction) do update set primary_backend_id = excluded.primary_backend_id, shadow_backend_id = excluded.shadow_backend_id,
         matched = excluded.matched, mismatches = excluded.mismatches, compared_at = clock_timestamp()`,
      [domain, transaction, primary.backend_id, shadow.backend_id, mismatches.length === 0, mismatches.length],
    );
    await sql.query('delete from coexistence_diff where domain = $1 and transaction = $2', [domain, transaction]);
    if (mismatches.length > 0) {
      await sql.query(
        `insert into coexistence_diff (domain, transaction, category, field, primary_value, shadow_value)
         select $1, $2, m.category, m.field, m.primary, m.shadow from jsonb_to_recordset($3::jsonb) as m(category text, field text, "primary" jsonb, shadow jsonb)`,
        [domain, transaction, JSON.stringify(mismatches.map((m) => ({ ...m, primary: m.primary ?? null, shadow: m.shadow ?? null })))],
      );
    }
    return { compared: true, mismatches: mismatches.length };
  }
}

/**
 * The mismatches of two answers; a side that failed is `missing`. Undefined when there is nothing to compare (a
 * connector that reports no facts).
 */
function compareAnswers(domain: RoutingDomain, primary: AnswerRow, shadow: AnswerRow): Mismatch[] | undefined {
  if (primary.failure !== null || shadow.failure !== null) {
    if (primary.failure !== null && shadow.failure !== null) return [];
    return [{ category: 'missing', field: primary.failure !== null ? 'primary' : 'shadow', primary: primary.failure ?? 'answered', shadow: shadow.failure ?? 'answered' }];
  }
  if (primary.facts === null || shadow.facts === null) return undefined;
  if (domain === 'orders') return compareOrders(primary.facts as OrderFacts, shadow.facts as OrderFacts);
  if (domain === 'shipments') return compareShipments(primary.facts as ShipmentFacts, shadow.facts as ShipmentFacts);
  const category = domain === 'inventory' ? 'stock' : domain === 'pricing' ? 'price' : 'field';
  return compareRecords(primary.facts as RecordFacts, shadow.facts as RecordFacts, { category });
}
