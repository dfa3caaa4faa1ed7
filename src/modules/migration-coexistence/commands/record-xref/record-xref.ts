import { Command, CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import type { Sql } from '../../../../platform/database/transaction.js';

/** An order (by its id), a customer (by its account number), a shipment (by its id: the ERP's document of its posting). */
export const XREF_ENTITIES = ['order', 'customer', 'shipment'] as const;
export type XrefEntity = (typeof XREF_ENTITIES)[number];

/** One entity's id in one ERP backend, as the backend answered or showed it. */
export interface XrefEntry {
  canonicalId: string;
  erpId: string;
  /** The ERP's document number or code, where it has one apart from its key. */
  erpRef?: string | null;
}

/**
 * Records ids in the cross-reference (in the caller's transaction): an entity created or read in a backend, under
 * its canonical id. A later answer replaces an earlier one (a recreated document).
 */
export class RecordXrefCommand extends Command<void> {
  constructor(
    readonly sql: Sql,
    readonly entity: XrefEntity,
    readonly backendId: string,
    readonly entries: readonly XrefEntry[],
  ) {
    super();
  }
}

@CommandHandler(RecordXrefCommand)
export class RecordXrefHandler implements ICommandHandler<RecordXrefCommand, void> {
  async execute({ sql, entity, backendId, entries }: RecordXrefCommand): Promise<void> {
    if (entries.length === 0) return;
    await sql.query(
      `insert into entity_xref (entity, canonical_id, backend_id, erp_id, erp_ref)
       select $1, e."canonicalId", $2, e."erpId", e."erpRef" from jsonb_to_recordset($3::jsonb) as e("canonicalId" text, "erpId" text, "erpRef" text)
       on conflict (entity, canonical_id, backend_id) do update set erp_id = excluded.erp_id, erp_ref = excluded.erp_ref, updated_at = clock_timestamp()
         where (entity_xref.erp_id, entity_xref.erp_ref) is distinct from (excluded.erp_id, excluded.erp_ref)`,
      [entity, backendId, JSON.stringify(entries)],
    );
  }
}
