import { isDeepStrictEqual } from 'node:util';
import { Inject } from '@nestjs/common';
import { Command, CommandHandler, QueryBus, type ICommandHandler } from '@nestjs/cqrs';
import type pg from 'pg';
import { AuditLog } from '../../../../platform/audit/audit-log.js';
import { PG_POOL } from '../../../../platform/database/pg-pool.js';
import { inTransaction } from '../../../../platform/database/transaction.js';
import { problems } from '../../../../platform/http/problem.js';
import { byKindAndLegacy, normalizedValueMap, valueMapProblems, type ValueMapPair } from '../../domain/mappings-values.js';
import { checkPair, storedValueMaps, ValueMapsQuery, type PairValueMaps } from '../../queries/value-maps/value-maps.js';

/** Replaces the value-map overrides of a pair of backends (legacy, cloud), audited; answers the maps now in force. */
export class SetValueMapsCommand extends Command<PairValueMaps> {
  constructor(
    readonly legacyBackendId: string,
    readonly cloudBackendId: string,
    readonly maps: readonly ValueMapPair[],
    readonly actor: string,
  ) {
    super();
  }
}

@CommandHandler(SetValueMapsCommand)
export class SetValueMapsHandler implements ICommandHandler<SetValueMapsCommand, PairValueMaps> {
  constructor(
    @Inject(PG_POOL) private readonly pool: pg.Pool,
    private readonly audit: AuditLog,
    private readonly queries: QueryBus,
  ) {}

  async execute({ legacyBackendId, cloudBackendId, maps, actor }: SetValueMapsCommand): Promise<PairValueMaps> {
    const invalid = valueMapProblems(maps);
    if (invalid.length > 0) throw problems.validation(invalid);
    const after = maps.map(normalizedValueMap).toSorted(byKindAndLegacy);
    await inTransaction(this.pool, async (tx) => {
      await checkPair(this.queries, legacyBackendId, cloudBackendId, tx);
      // Two PUTs of one pair would each delete the other's rows and then collide on the keys: one at a time.
      await tx.query(`select pg_advisory_xact_lock(hashtextextended('coexistence-value-map:' || $1 || ':' || $2, 0))`, [legacyBackendId, cloudBackendId]);
      const before = await storedValueMaps(tx, legacyBackendId, cloudBackendId);
      if (isDeepStrictEqual(before, after)) return;
      await tx.query('delete from coexistence_value_map where legacy_backend_id = $1 and cloud_backend_id = $2', [legacyBackendId, cloudBackendId]);
      await tx.query(
        `insert into coexistence_value_map (legacy_backend_id, cloud_backend_id, kind, legacy_value, cloud_value)
         select $1, $2, kind, legacy, cloud from unnest($3::text[], $4::text[], $5::text[]) as m(kind, legacy, cloud)`,
        [legacyBackendId, cloudBackendId, after.map((m) => m.kind), after.map((m) => m.legacy), after.map((m) => m.cloud)],
      );
      await this.audit.recordInTransaction(tx, {
        actor, action: before.length === 0 ? 'create' : 'update', resourceType: 'coexistence-value-maps', resourceId: `${legacyBackendId}/${cloudBackendId}`,
        before: before.length === 0 ? null : before, after,
      });
    });
    return (await this.queries.execute(new ValueMapsQuery(legacyBackendId, cloudBackendId)))!;
  }
}
