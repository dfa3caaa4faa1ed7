import { Inject } from '@nestjs/common';
import { Query, QueryBus, QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import type pg from 'pg';
import { PG_POOL } from '../../../../platform/database/pg-pool.js';
import type { Sql } from '../../../../platform/database/transaction.js';
import { TargetDirectory } from '../../../../platform/delivery/target-directory.js';
import type { FieldError } from '../../../../platform/http/field-errors.js';
import { problems } from '../../../../platform/http/problem.js';
import { ErpBackendQuery, ErpBackendsQuery } from '../../../configuration/index.js';
import { byKindAndLegacy, localCurrencyOf, valueMapsInForce, type PairSettings, type PairSide, type ValueMapEntry, type ValueMapPair } from '../../domain/mappings-values.js';

/** The kinds of backend the mappings are between: SAP Business One the legacy ERP, Business Central the cloud ERP. */
export const PAIR_KINDS: Record<PairSide, string> = { legacy: 'sap-b1', cloud: 'business-central' };

/** The value maps of a pair of backends, as `GET /v1/admin/coexistence/value-maps/{legacy}/{cloud}` answers them. */
export interface PairValueMaps {
  legacyBackendId: string;
  cloudBackendId: string;
  /** Business Central's local currency, which it writes as a blank currency code. */
  localCurrency: string;
  /** The overrides stored, as PUT takes them. */
  maps: ValueMapPair[];
  /** The defaults from the two backends' configuration merged with the overrides, each saying where it came from. */
  inForce: ValueMapEntry[];
}

/**
 * The value maps of a pair of backends. A side not named is the first backend (by id) of its role and kind; null when
 * there is none. A backend named that does not exist is a 404, one of another role or kind a 400.
 */
export class ValueMapsQuery extends Query<PairValueMaps | null> {
  constructor(
    readonly legacyBackendId?: string,
    readonly cloudBackendId?: string,
  ) {
    super();
  }
}

@QueryHandler(ValueMapsQuery)
export class ValueMapsHandler implements IQueryHandler<ValueMapsQuery, PairValueMaps | null> {
  constructor(
    @Inject(PG_POOL) private readonly pool: pg.Pool,
    private readonly queries: QueryBus,
    private readonly targets: TargetDirectory,
  ) {}

  async execute(query: ValueMapsQuery): Promise<PairValueMaps | null> {
    const named = query.legacyBackendId !== undefined && query.cloudBackendId !== undefined;
    const backends = named ? [] : await this.queries.execute(new ErpBackendsQuery());
    const first = (side: PairSide) => backends.find((b) => b.role === side && b.kind === PAIR_KINDS[side])?.id;
    const legacyBackendId = query.legacyBackendId ?? first('legacy');
    const cloudBackendId = query.cloudBackendId ?? first('cloud');
    if (legacyBackendId === undefined || cloudBackendId === undefined) return null;
    await checkPair(this.queries, legacyBackendId, cloudBackendId);
    const [settings, maps] = await Promise.all([this.settings(legacyBackendId, cloudBackendId), storedValueMaps(this.pool, legacyBackendId, cloudBackendId)]);
    return { legacyBackendId, cloudBackendId, localCurrency: localCurrencyOf(settings), maps, inForce: valueMapsInForce(settings, maps) };
  }

  /** What of the backends' configuration the defaults come from (validated when the backends were written). */
  private async settings(legacyBackendId: string, cloudBackendId: string): Promise<PairSettings> {
    const [legacy, cloud] = await Promise.all([this.targets.erpBackend(legacyBackendId), this.targets.erpBackend(cloudBackendId)]);
    const table = (value: unknown) => (value !== null && typeof value === 'object' ? (value as Record<string, string>) : undefined);
    const currency = cloud?.config.currency;
    return {
      legacy: { currencies: table(legacy?.config.currencies), warehouseCodes: table(legacy?.config.warehouseCodes) },
      cloud: { locationCodes: table(cloud?.config.locationCodes), currency: typeof currency === 'string' ? currency : undefined },
    };
  }
}

/** Refuses a pair whose backends do not exist (404), or are not a legacy SAP Business One and a cloud Business Central (400). */
export async function checkPair(queries: QueryBus, legacyBackendId: string, cloudBackendId: string, sql?: Sql): Promise<void> {
  const found: FieldError[] = [];
  for (const [side, id] of [['legacy', legacyBackendId], ['cloud', cloudBackendId]] as const) {
    const backend = await queries.execute(new ErpBackendQuery(id, sql));
    if (!backend) throw problems.notFound(`ERP backend "${id}"`);
    if (backend.role !== side || backend.kind !== PAIR_KINDS[side]) {
      found.push({ field: side, message: `the ${side} backend must be a ${side} ${PAIR_KINDS[side]} backend; "${id}" is a ${backend.role} ${backend.kind} backend` });
    }
  }
  if (found.length > 0) throw problems.validation(found);
}

/** The overrides stored for the pair, by kind and legacy value; `sql`: in the caller's transaction. */
export async function storedValueMaps(sql: Pick<Sql, 'query'>, legacyBackendId: string, cloudBackendId: string): Promise<ValueMapPair[]> {
  const { rows } = await sql.query<ValueMapPair>(
    'select kind, legacy_value as legacy, cloud_value as cloud from coexistence_value_map where legacy_backend_id = $1 and cloud_backend_id = $2',
    [legacyBackendId, cloudBackendId],
  );
  return rows.map(({ kind, legacy, cloud }) => ({ kind, legacy, cloud })).toSorted(byKindAndLegacy);
}
