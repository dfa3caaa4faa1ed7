import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { QueryBus } from '@nestjs/cqrs';
import type pg from 'pg';
import type { ErpPrice } from '../../../connectors/erp/erp-contract.js';
import { ErpDestination } from '../../../connectors/erp/erp-destination.js';
import { PG_POOL } from '../../../platform/database/pg-pool.js';
import { inTransaction, type Tx } from '../../../platform/database/transaction.js';
import type { IntakeCounts } from '../../../platform/http/batch-items.js';
import { reconcileTarget, Reconcilers, type ComparedPage, type Finding, type Reconciler, type ReconcileTarget } from '../../../platform/reconciliation/reconcilers.js';
import { ErpBackendQuery } from '../../configuration/index.js';
import { ErpRouteQuery } from '../../migration-coexistence/index.js';
import { PriceIntake, problemOf, utc, type PriceIdentity } from '../commands/price-intake.js';

const SOURCE_DIFFERS = 'source-differs';

/** A price as a finding shows it. */
interface Figure {
  unitPrice: number;
  validTo: string | null;
}

/** What a source-differs finding carries for its repair: the ERP's price to apply, or the price it withdrew; and when it was read. */
type SourceDetail = { readAt: string } & ({ price: ErpPrice } | { withdrawn: PriceIdentity });

/** An instant as the API shows one: ISO in UTC, null for an open end. */
const instant = (column: string) => `case when isfinite(${column}) then to_char(${column} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') end`;

/**
 * Pricing's reconciliation with its system of record: the ERP backend that the routing of `pricing` names
 * (`erp:<id>`; on a schedule when its `reconcile.prices` says how often). Every price it holds is read through the
 * connector's price read, the one the pull uses (governed, a page a call; a run is one page), and compared, price
 * by price (list, SKU, currency, customer, quantity break, start), with the prices Crossdock holds from it (source
 * `erp:<id>`). A price the ERP holds otherwise or Crossdock lacks, and one Crossdock holds that the ERP no longer
 * does, are `source-differs`, repaired by `recompute`: the ERP's price applied as the pull applies it (dated by the
 * start of the read), or the withdrawn one deleted, and the SKU's channel prices recomputed and published. As in
 * the pull, an empty answer withdraws nothing, nor does a SKU with a record the ERP answered unreadable. A price
 * another source reports is not the ERP's to correct, and one written after the read began is newer than what was
 * read: neither is compared.
 */
@Injectable()
export class ErpPricesReconciler implements Reconciler, OnModuleInit {
  readonly domain = 'prices';

  constructor(
    @Inject(PG_POOL) private readonly pool: pg.Pool,
    private readonly reconcilers: Reconcilers,
    private readonly queries: QueryBus,
    private readonly erp: ErpDestination,
    private readonly intake: PriceIntake,
  ) {}

  onModuleInit(): void {
    this.reconcilers.register(this);
  }

  async targets(): Promise<ReconcileTarget[]> {
    const route = await inTransaction(this.pool, (tx) => this.queries.execute(new ErpRouteQuery('pricing', tx)));
    if (!route) return [];
    const backend = await this.queries.execute(new ErpBackendQuery(route.primary));
    return [reconcileTarget(`erp:${route.primary}`, backend?.reconcile, 'prices')];
  }

  async compare(target: string): Promise<ComparedPage> {
    const source = target;
    const { rows: [{ readAt }] } = (await this.pool.query<{ readAt: string }>(`select to_char(clock_timestamp() at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') as "readAt"`)) as { rows: Array<{ readAt: string }> };
    const { prices, rejected } = await this.erp.prices(target.slice('erp:'.length));
    // The prices as the pull applies them: dates in UTC, the first of two with one identity, none the intake refuses
    // (their SKUs, like those of unreadable records, keep what Crossdock holds).
    const unread = new Set(rejected.map((r) => r.sku));
    const byIdentity = new Map<string, ErpPrice>();
    for (const price of prices) {
      const dated = { ...price, validFrom: utc(price.validFrom), validTo: utc(price.validTo) };
      if (problemOf({ ...dated, eventId: '', occurredAt: readAt })) unread.add(price.sku);
      else if (!byIdentity.has(identityOf(dated))) byIdentity.set(identityOf(dated), dated);
    }
    const read = [...byIdentity.values()];
    const findings: Array<Finding & { detail: SourceDetail }> = [];
    let compared = 0;

    const { rows } = await this.pool.query<{ i: number; valid_from: string | null; held_price: number | null; held_valid_to: string | null; comparable: boolean; same: boolean }>(
      `with v as (select * from unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::numeric[], $6::timestamptz[], $7::timestamptz[], $8::numeric[])
                          with ordinality as v(price_list, sku, currency, customer, min_quantity, valid_from, valid_to, unit_price, i))
       select v.i::int as i, ${instant('v.valid_from')} as valid_from, p.unit_price::float8 as held_price, ${instant('p.valid_to')} as held_valid_to,
              p.sku is null or (p.source = $9 and coalesce(p.occurred_at, p.updated_at) <= $10::timestamptz) as comparable,
              coalesce(p.unit_price = v.unit_price and p.valid_to = v.valid_to, false) as same
         from v left join price_entry p on p.sku = v.sku and p.currency = v.currency and p.price_list = v.price_list and p.customer = v.customer
                                        and p.min_quantity = v.min_quantity and p.valid_from = v.valid_from`,
      [
        read.map((p) => p.priceList), read.map((p) => p.sku), read.map((p) => p.currency), read.map((p) => p.customer ?? ''), read.map((p) => p.minQuantity),
        read.map((p) => p.validFrom ?? '-infinity'), read.map((p) => p.validTo ?? 'infinity'), read.map((p) => p.unitPrice), source, readAt,
      ],
    );
    for (const row of rows) {
      if (!row.comparable) continue;
      compared++;
      if (row.same) continue;
      const price = read[row.i - 1]!;
      findings.push({
        key: keyOf({ ...price, validFrom: row.valid_from }), class: SOURCE_DIFFERS, repair: 'recompute',
        expected: { unitPrice: price.unitPrice, validTo: price.validTo === null ? null : new Date(price.validTo).toISOString() } satisfies Figure,
        actual: row.held_price === null ? null : ({ unitPrice: row.held_price, validTo: row.held_valid_to } satisfies Figure),
        detail: { price, readAt },
      });
    }

    // What Crossdock holds from the ERP that the read no longer found: withdrawn (an empty answer is not taken for
    // the end of every price).
    if (read.length > 0) {
      const { rows: withdrawn } = await this.pool.query<{ price_list: string; sku: string; currency: string; customer: string; min_quantity: number; valid_from: string | null; unit_price: number; valid_to: string | null }>(
        `select p.price_list, p.sku, p.currency, p.customer, p.min_quantity::float8 as min_quantity, ${instant('p.valid_from')} as valid_from,
                p.unit_price::float8 as unit_price, ${instant('p.valid_to')} as valid_to
           from price_entry p
          where p.source = $7 and coalesce(p.occurred_at, p.updated_at) <= $8::timestamptz and p.sku <> all($9::text[])
            and not exists (select 1 from unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::numeric[], $6::timestamptz[])
                                            as v(price_list, sku, currency, customer, min_quantity, valid_from)
                             where p.sku = v.sku and p.currency = v.currency and p.price_list = v.price_list and p.customer = v.customer
                               and p.min_quantity = v.min_quantity and p.valid_from = v.valid_from)`,
        [
          read.map((p) => p.priceList), read.map((p) => p.sku), read.map((p) => p.currency), read.map((p) => p.customer ?? ''), read.map((p) => p.minQuantity),
          read.map((p) => p.validFrom ?? '-infinity'), source, readAt, [...unread],
        ],
      );
      for (const held of withdrawn) {
        compared++;
        const identity: PriceIdentity = { priceList: held.price_list, sku: held.sku, currency: held.currency, customer: held.customer === '' ? null : held.customer, minQuantity: held.min_quantity, validFrom: held.valid_from };
        findings.push({
          key: keyOf(identity), class: SOURCE_DIFFERS, repair: 'recompute',
          expected: null, actual: { unitPrice: held.unit_price, validTo: held.valid_to } satisfies Figure,
          detail: { withdrawn: identity, readAt },
        });
      }
    }
    // By SKU, the order in which the repairs take the SKUs' price locks.
    findings.sort((a, b) => compareText(skuOf(a.detail), skuOf(b.detail)) || compareText(a.key, b.key));
    return { compared, findings: findings.map((f) => ({ ...f, detail: { ...f.detail } })), nextCursor: null };
  }

  /**
   * In the run's transaction: the ERP's price applied as a price of the ERP dated by the start of the read (a newer
   * one applied since wins: stale), or the withdrawn one deleted unless written again since; either recomputes and
   * publishes the SKU's channel prices under its price lock.
   */
  async repair(tx: Tx, target: string, finding: Finding): Promise<Record<string, unknown>> {
    const detail = finding.detail as unknown as SourceDetail;
    if ('withdrawn' in detail) return { deleted: (await this.intake.withdraw(tx, target, [detail.withdrawn], detail.readAt)) === 1 };
    const counts: IntakeCounts = { accepted: 0, duplicate: 0, stale: 0, errors: [] };
    // Not deduplicated, as the pull's prices are not: a price is ordered by when it was read.
    await this.intake.apply(tx, target, [{ ...detail.price, eventId: `reconcile:${detail.readAt}:${finding.key}`, occurredAt: detail.readAt, index: 0 }], counts, { dedupe: false });
    return { applied: counts.accepted === 1, ...(counts.stale ? { stale: true } : {}), ...(counts.errors.length ? { errors: counts.errors } : {}) };
  }
}

function identityOf(price: PriceIdentity): string {
  return [price.priceList, price.sku, price.currency, price.customer ?? '', price.minQuantity, price.validFrom ? Date.parse(price.validFrom) : '-'].join('\u0000');
}

/** A price's identity as the coexistence report names it: list, SKU, currency, customer, quantity break, start. */
function keyOf(price: PriceIdentity): string {
  return [price.priceList, price.sku, price.currency, price.customer ?? '*', price.minQuantity, price.validFrom ?? '*'].join('|');
}

function skuOf(detail: SourceDetail): string {
  return 'withdrawn' in detail ? detail.withdrawn.sku : detail.price.sku;
}

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
