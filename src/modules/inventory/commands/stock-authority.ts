import type { CommandBus, QueryBus } from '@nestjs/cqrs';
import type { Tx } from '../../../platform/database/transaction.js';
import type { Indexed, IntakeCounts } from '../../../platform/http/batch-items.js';
import { SourceQuery } from '../../configuration/index.js';
import { ErpRouteQuery, RecordErpAnswerCommand, type ErpAnswer } from '../../migration-coexistence/index.js';

/** What a source's stock reports may do now: apply, be compared (the shadow's, in a migration), or be refused. */
export type StockAuthority = { apply: true } | { compare: { primary: string; shadow: string } } | { refuse: string };

/**
 * Stock has one authority per SKU and warehouse: a source that stands for an ERP backend (its add-on pushing that
 * ERP's stock) applies only while that backend is the inventory primary (or nothing is routed); the shadow's
 * levels are compared, never applied; any other backend's are refused, so that nothing is counted twice. A source
 * that names no backend (a WMS) reports stock of its own and applies.
 */
export async function stockAuthority(queries: QueryBus, sourceId: string, tx: Tx): Promise<StockAuthority> {
  const source = await queries.execute(new SourceQuery(sourceId, tx));
  const backend = source?.erpBackend;
  if (!backend) return { apply: true };
  const route = await queries.execute(new ErpRouteQuery('inventory', tx));
  if (!route || route.primary === backend) return { apply: true };
  if (route.mode === 'shadow' && route.shadow === backend) return { compare: { primary: route.primary, shadow: backend } };
  return { refuse: `source ${sourceId} reports the stock of ERP backend ${backend}, which is not the authority for stock (${route.primary} is, for inventory): its levels would be counted twice` };
}

/**
 * The shadow's levels beside the primary's positions, one comparison per SKU and warehouse for the coexistence
 * report, as the stock poll of the shadow compares them; nothing is applied.
 */
export async function compareShadowLevels(
  commands: CommandBus,
  tx: Tx,
  backends: { primary: string; shadow: string },
  items: ReadonlyArray<{ sku: string; warehouse: string; onHand: number; reserved?: number }>,
): Promise<number> {
  const { rows } = await tx.query<{ sku: string; warehouse: string; on_hand: number; reserved: number }>(
    `select sku, warehouse, on_hand::float8 as on_hand, reserved::float8 as reserved from stock_position
      where (sku, warehouse) in (select * from unnest($1::text[], $2::text[]))`,
    [items.map((i) => i.sku), items.map((i) => i.warehouse)],
  );
  const primary = new Map(rows.map((r) => [`${r.sku}@${r.warehouse}`, { onHand: r.on_hand, reserved: r.reserved }]));
  for (const item of items) {
    const position = `${item.sku}@${item.warehouse}`;
    const held = primary.get(position);
    const primaryAnswer: ErpAnswer = held ? { facts: held } : { failure: 'no such position' };
    await commands.execute(new RecordErpAnswerCommand(tx, 'inventory', position, backends.primary, 'primary', primaryAnswer));
    await commands.execute(new RecordErpAnswerCommand(tx, 'inventory', position, backends.shadow, 'shadow', { facts: { onHand: item.onHand, reserved: item.reserved ?? 0 } }));
  }
  return items.length;
}

/** Each item refused with the reason. */
export function refuseAll(counts: IntakeCounts, items: ReadonlyArray<Indexed<{ eventId?: string }>>, reason: string): void {
  for (const item of items) counts.errors.push({ index: item.index, eventId: item.eventId, field: `items[${item.index}]`, message: reason });
}
