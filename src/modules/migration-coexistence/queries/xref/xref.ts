import { Query, QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import type { Sql } from '../../../../platform/database/transaction.js';
import type { XrefEntity } from '../../commands/record-xref/record-xref.js';

/** An entity's ids: its canonical id, and per backend its id (and document number) there. */
export interface EntityIds {
  entity: XrefEntity;
  canonicalId: string;
  backends: Record<string, { erpId: string; erpRef: string | null; updatedAt: string }>;
}

/**
 * An entity's ids in every backend, found by its canonical id, or by its id or document number in one backend (by
 * its document number alone with `erpRef`); null when the cross-reference does not know it.
 */
export class EntityIdsQuery extends Query<EntityIds | null> {
  constructor(
    readonly sql: Sql,
    readonly entity: XrefEntity,
    readonly by: { canonicalId: string } | { backendId: string; erpIdOrRef: string } | { backendId: string; erpRef: string },
  ) {
    super();
  }
}

@QueryHandler(EntityIdsQuery)
export class EntityIdsHandler implements IQueryHandler<EntityIdsQuery, EntityIds | null> {
  async execute({ sql, entity, by }: EntityIdsQuery): Promise<EntityIds | null> {
    const canonicalId = 'canonicalId' in by ? by.canonicalId : (await sql.query<{ canonical_id: string }>(
      'erpRef' in by
        ? 'select canonical_id from entity_xref where entity = $1 and backend_id = $2 and erp_ref = $3 order by updated_at desc limit 1'
        : 'select canonical_id from entity_xref where entity = $1 and backend_id = $2 and (erp_id = $3 or erp_ref = $3) order by updated_at desc limit 1',
      [entity, by.backendId, 'erpRef' in by ? by.erpRef : by.erpIdOrRef],
    )).rows[0]?.canonical_id;
    if (canonicalId === undefined) return null;
    const { rows } = await sql.query<{ backend_id: string; erp_id: string; erp_ref: string | null; updated_at: string }>(
      `select backend_id, erp_id, erp_ref, to_char(updated_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') as updated_at
         from entity_xref where entity = $1 and canonical_id = $2 order by backend_id`,
      [entity, canonicalId],
    );
    if (rows.length === 0) return null;
    return { entity, canonicalId, backends: Object.fromEntries(rows.map((r) => [r.backend_id, { erpId: r.erp_id, erpRef: r.erp_ref, updatedAt: r.updated_at }])) };
  }
}
