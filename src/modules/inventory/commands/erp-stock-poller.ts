import { Inject, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import type pg from 'pg';
import { PG_POOL } from '../../../platform/database/pg-pool.js';
import { withSessionLock } from '../../../platform/database/session-lock.js';
import { inTransaction } from '../../../platform/database/transaction.js';
import { LOGGER } from '../../../platform/observability/observability.module.js';
import type { Logger } from '../../../platform/observability/logger.js';
import { startRecurring } from '../../../platform/recurring.js';
import { ErpDestination } from '../../../connectors/erp/erp-destination.js';
import { CommandBus, QueryBus } from '@nestjs/cqrs';
import { ErpRouteQuery, RecordErpAnswerCommand, type ErpAnswer } from '../../migration-coexistence/index.js';
import type { IntakeCounts } from '../../../platform/http/batch-items.js';
import { StockIntake } from './stock-intake.js';

export const STOCK_POLL_SETTINGS = Symbol('STOCK_POLL_SETTINGS');
export interface StockPollSettings {
  intervalMs: number;
  /** Poll on this instance (the worker and all roles). */
  enabled: boolean;
}

// After the configuration file has been applied at start.
const FIRST_POLL_AFTER_MS = 2_000;
// One poller per backend across instances: a session lock held for the length of a poll.
const POLL_LOCK = 'stock-poll:';

/**
 * For ERPs that cannot push stock: asks the backend that the routing of `inventory` names what changed since
 * the last poll, and applies it as levels of source `erp:<backend>`, dated by the start of the read: each
 * figure includes every order the ERP had then (on-hand less what its open orders hold), which is what ends
 * the reservation of an order confirmed before it.
 */
@Injectable()
export class ErpStockPoller implements OnApplicationBootstrap, OnApplicationShutdown {
  private recurring?: ReturnType<typeof startRecurring>;

  constructor(
    @Inject(PG_POOL) private readonly pool: pg.Pool,
    private readonly erp: ErpDestination,
    private readonly intake: StockIntake,
    private readonly queries: QueryBus,
    private readonly commands: CommandBus,
    @Inject(STOCK_POLL_SETTINGS) private readonly settings: StockPollSettings,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  onApplicationBootstrap(): void {
    if (!this.settings.enabled) return;
    this.recurring = startRecurring(() => this.pollRouted(), {
      firstAfterMs: FIRST_POLL_AFTER_MS,
      everyMs: this.settings.intervalMs,
      onError: (error) => this.logger.warn({ err: error }, 'stock poll failed; the next one retries'),
    });
  }

  async onApplicationShutdown(): Promise<void> {
    await this.recurring?.stop();
  }

  private async pollRouted(): Promise<void> {
    const route = await inTransaction(this.pool, (tx) => this.queries.execute(new ErpRouteQuery('inventory', tx)));
    if (!route) return;
    await this.poll(route.primary);
    if (route.mode === 'shadow' && route.shadow) await this.compareShadow(route.primary, route.shadow);
  }

  /**
   * Stock has one authority per SKU and warehouse: in shadow mode the shadow's figures are read (whole: the
   * positions it reports) and compared with what the primary's last poll applied, position by position, for the
   * coexistence report; they are never applied, so nothing is counted twice.
   */
  async compareShadow(primaryId: string, shadowId: string): Promise<number> {
    const { levels } = await this.erp.stockSince(shadowId, undefined, new Map());
    const { rows } = await this.pool.query<{ sku: string; warehouse: string; on_hand: number; reserved: number }>(
      'select sku, warehouse, on_hand::float8 as on_hand, reserved::float8 as reserved from stock_position where source = $1', [`erp:${primaryId}`],
    );
    const primary = new Map(rows.map((r) => [`${r.sku}@${r.warehouse}`, { onHand: r.on_hand, reserved: r.reserved }]));
    const shadow = new Map(levels.map((l) => [`${l.sku}@${l.warehouse}`, { onHand: l.onHand, reserved: l.reserved }]));
    const answer = (facts: { onHand: number; reserved: number } | undefined): ErpAnswer => (facts ? { facts } : { failure: 'no such position' });
    const positions = [...new Set([...primary.keys(), ...shadow.keys()])];
    for (let i = 0; i < positions.length; i += 1000) {
      await inTransaction(this.pool, async (tx) => {
        for (const position of positions.slice(i, i + 1000)) {
          await this.commands.execute(new RecordErpAnswerCommand(tx, 'inventory', position, primaryId, 'primary', answer(primary.get(position))));
          await this.commands.execute(new RecordErpAnswerCommand(tx, 'inventory', position, shadowId, 'shadow', answer(shadow.get(position))));
        }
      });
    }
    return positions.length;
  }

  /**
   * On demand: the `inventory` primary (or any backend while none is routed) is polled and applied; the shadow is
   * compared, never applied; any other backend is not the authority for stock and is refused with the reason.
   */
  async pollOnDemand(backendId: string): Promise<{ polled: Awaited<ReturnType<ErpStockPoller['poll']>> } | { compared: number } | { refused: string }> {
    const route = await inTransaction(this.pool, (tx) => this.queries.execute(new ErpRouteQuery('inventory', tx)));
    if (!route || route.primary === backendId) return { polled: await this.poll(backendId) };
    if (route.mode === 'shadow' && route.shadow === backendId) return { compared: await this.compareShadow(route.primary, backendId) };
    return { refused: `ERP backend ${backendId} is not the authority for stock (${route.primary} is, for inventory): its levels would be counted twice` };
  }

  /** One poll of one backend now; undefined when another instance is polling it. */
  async poll(backendId: string): Promise<(IntakeCounts & { through: Date | undefined }) | undefined> {
    return withSessionLock(this.pool, POLL_LOCK + backendId, async (client) => {
      const { rows: [state] } = await client.query<{ through: Date | null }>('select polled_through as through from stock_poll where erp_backend_id = $1', [backendId]);
      const since = state?.through ? new Date(state.through) : undefined;
      const source = `erp:${backendId}`;
      const { rows: held } = await client.query<{ sku: string; warehouse: string; reserved: number }>(
        'select sku, warehouse, reserved::float8 as reserved from stock_position where source = $1 and reserved > 0', [source],
      );
      const lastReserved = new Map<string, Record<string, number>>();
      for (const row of held) lastReserved.set(row.sku, { ...lastReserved.get(row.sku), [row.warehouse]: row.reserved });
      // The figures are as of the start of the read: an order confirmed before it is in them.
      const { rows: [{ now }] } = (await client.query<{ now: string }>(`select to_char(clock_timestamp() at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') as now`)) as { rows: Array<{ now: string }> };
      const { levels, through } = await this.erp.stockSince(backendId, since, lastReserved);
      const counts: IntakeCounts = { accepted: 0, duplicate: 0, stale: 0, errors: [] };
      const items = levels.map((level, index) => ({ ...level, occurredAt: now, index, eventId: `${level.sku}|${level.warehouse}|${now}` }));
      await inTransaction(this.pool, async (tx) => {
        for (let i = 0; i < items.length; i += 1000) await this.intake.applyLevels(tx, source, items.slice(i, i + 1000), counts);
        await tx.query(
          `insert into stock_poll (erp_backend_id, polled_through, polled_at) values ($1, $2, clock_timestamp())
           on conflict (erp_backend_id) do update set polled_through = coalesce(excluded.polled_through, stock_poll.polled_through), polled_at = excluded.polled_at`,
          [backendId, through ?? null],
        );
      });
      if (counts.accepted > 0) this.logger.info({ backendId, accepted: counts.accepted, stale: counts.stale }, 'stock polled from the ERP');
      return { ...counts, through };
    });
  }
}
