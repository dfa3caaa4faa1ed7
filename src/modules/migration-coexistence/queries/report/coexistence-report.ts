import { Inject, Injectable } from '@nestjs/common';
import type pg from 'pg';
import { PG_POOL } from '../../../../platform/database/pg-pool.js';
import type { Tx } from '../../../../platform/database/transaction.js';
/** Reads in a transaction of the caller's, or on the pool. */
type Reader = Pick<Tx, 'query'>;
import { MISMATCH_CATEGORIES, readinessVerdict, type MismatchCategory, type Readiness } from '../../domain/diff.js';
import { ROUTING_DOMAINS, type RoutingDomain, type RoutingMode } from '../../domain/routing.js';

export const DEFAULT_WINDOW_HOURS = 24;

export interface DomainReport {
  domain: RoutingDomain;
  mode: RoutingMode | null;
  primary: string | null;
  shadow: string | null;
  windowHours: number;
  compared: number;
  matched: number;
  matchRate: number | null;
  mismatchesByCategory: Partial<Record<MismatchCategory, number>>;
  readiness: ({ ready: boolean; reason: string } & Readiness) | null;
}

/** What the shadow runs showed, per domain, over a window (`GET /v1/coexistence/report`), and each mismatch. */
@Injectable()
export class CoexistenceReport {
  constructor(@Inject(PG_POOL) private readonly pool: pg.Pool) {}

  async readinessRule(sql: Reader, domain: RoutingDomain): Promise<Readiness | null> {
    const { rows: [rule] } = await sql.query<{ threshold: string; window_hours: number; min_transactions: number }>(
      'select threshold::text, window_hours, min_transactions from coexistence_readiness where domain = $1', [domain],
    );
    return rule ? { threshold: Number(rule.threshold), windowHours: rule.window_hours, minTransactions: rule.min_transactions } : null;
  }

  async setReadiness(sql: Reader, domain: RoutingDomain, rule: Readiness): Promise<void> {
    await sql.query(
      `insert into coexistence_readiness (domain, threshold, window_hours, min_transactions) values ($1, $2, $3, $4)
       on conflict (domain) do update set threshold = excluded.threshold, window_hours = excluded.window_hours, min_transactions = excluded.min_transactions, updated_at = clock_timestamp()`,
      [domain, rule.threshold, rule.windowHours, rule.minTransactions],
    );
  }

  /** Every domain (or one), over `windowHours` (else each domain's readiness window, else a day). */
  async report(sql: Reader = this.pool, windowHours?: number, only?: RoutingDomain): Promise<DomainReport[]> {
    const domains = only ? [only] : [...ROUTING_DOMAINS];
    return Promise.all(domains.map((domain) => this.domainReport(sql, domain, windowHours)));
  }

  private async domainReport(sql: Reader, domain: RoutingDomain, windowHours?: number): Promise<DomainReport> {
    const rule = await this.readinessRule(sql, domain);
    const hours = windowHours ?? rule?.windowHours ?? DEFAULT_WINDOW_HOURS;
    const { rows: [routing] } = await sql.query<{ mode: RoutingMode; primary: string; shadow: string | null }>(
      'select mode, primary_backend_id as primary, shadow_backend_id as shadow from routing where domain = $1', [domain],
    );
    const { rows: [counts] } = await sql.query<{ compared: number; matched: number }>(
      `select count(*)::int as compared, count(*) filter (where matched)::int as matched
         from coexistence_comparison where domain = $1 and compared_at > clock_timestamp() - make_interval(hours => $2)`,
      [domain, hours],
    );
    const { rows: categories } = await sql.query<{ category: MismatchCategory; n: number }>(
      `select d.category, count(*)::int as n from coexistence_diff d join coexistence_comparison c using (domain, transaction)
        where d.domain = $1 and c.compared_at > clock_timestamp() - make_interval(hours => $2) group by d.category`,
      [domain, hours],
    );
    const compared = counts?.compared ?? 0;
    const matched = counts?.matched ?? 0;
    const byCategory = Object.fromEntries(MISMATCH_CATEGORIES.flatMap((c) => {
      const n = categories.find((r) => r.category === c)?.n;
      return n ? [[c, n]] : [];
    }));
    // The verdict is over the rule's own window, whatever window the report shows.
    const verdict = rule ? await this.verdict(sql, domain, rule) : null;
    return {
      domain, mode: routing?.mode ?? null, primary: routing?.primary ?? null, shadow: routing?.mode === 'shadow' ? routing.shadow : null,
      windowHours: hours, compared, matched, matchRate: compared === 0 ? null : matched / compared, mismatchesByCategory: byCategory,
      readiness: rule && verdict ? { ...rule, ready: verdict.ready, reason: verdict.reason } : null,
    };
  }

  /** The readiness of a domain under its rule: the comparisons of the rule's window against its threshold. */
  async verdict(sql: Reader, domain: RoutingDomain, rule: Readiness): Promise<{ ready: boolean; reason: string; compared: number; matched: number; matchRate: number | null }> {
    const { rows: [counts] } = await sql.query<{ compared: number; matched: number }>(
      `select count(*)::int as compared, count(*) filter (where matched)::int as matched
         from coexistence_comparison where domain = $1 and compared_at > clock_timestamp() - make_interval(hours => $2)`,
      [domain, rule.windowHours],
    );
    const compared = counts?.compared ?? 0;
    const matched = counts?.matched ?? 0;
    return { ...readinessVerdict(rule, compared, matched), compared, matched };
  }

  /** Each mismatch, newest first, with both sides; `after`: the id the previous page ended at. */
  async diffs(filter: { domain?: RoutingDomain; category?: MismatchCategory; transaction?: string }, limit: number, before?: string) {
    const { rows } = await this.pool.query(
      `select d.id::text, d.domain, d.transaction, d.category, d.field, d.primary_value as "primary", d.shadow_value as shadow,
              c.primary_backend_id as "primaryBackend", c.shadow_backend_id as "shadowBackend", c.compared_at as "comparedAt"
         from coexistence_diff d join coexistence_comparison c using (domain, transaction)
        where ($1::text is null or d.domain = $1) and ($2::text is null or d.category = $2) and ($3::text is null or d.transaction = $3)
          and ($4::bigint is null or d.id < $4)
        order by d.id desc limit $5`,
      [filter.domain ?? null, filter.category ?? null, filter.transaction ?? null, before ?? null, limit],
    );
    return { items: rows, next: rows.length === limit ? rows.at(-1)!.id : null };
  }
}
