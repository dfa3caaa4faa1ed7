import { Inject, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { CommandBus, QueryBus } from '@nestjs/cqrs';
import type { ErpPrice } from '../../../connectors/erp/erp-contract.js';
import type pg from 'pg';
import { ErpDestination } from '../../../connectors/erp/erp-destination.js';
import { PG_POOL } from '../../../platform/database/pg-pool.js';
import { withSessionLock } from '../../../platform/database/session-lock.js';
import { inTransaction } from '../../../platform/database/transaction.js';
import type { IntakeCounts } from '../../../platform/http/batch-items.js';
import { LOGGER } from '../../../platform/observability/observability.module.js';
import type { Logger } from '../../../platform/observability/logger.js';
import { startRecurring } from '../../../platform/recurring.js';
import { ErpRouteQuery, RecordErpAnswerCommand, type ErpAnswer } from '../../migration-coexistence/index.js';
import { lockPrices } from './price-locks.js';
import { PriceIntake } from './price-intake.js';
import { PricePublisher, pricingSettingOf } from './price-publisher.js';
import { ChannelsQuery } from '../../configuration/index.js';

export const PRICE_SETTINGS = Symbol('PRICE_SETTINGS');
export interface PriceSettings {
  pollMs: number;
  clockMs: number;
  /** Pull and keep the clock on this instance (the worker and all roles). */
  enabled: boolean;
}

// After the configuration file has been applied at start.
const FIRST_PULL_AFTER_MS = 2_000;
// One at a time across instances: session locks held for the length of a turn.
const CLOCK_LOCK = 'price-clock';
const CATCH_UP_LOCK = 'price-channels';
const PULL_LOCK = 'price-pull:';
const CHUNK = 1000;

export interface PricePullResult extends IntakeCounts {
  backendId: string;
  read: number;
  withdrawn: number;
  rejected: Array<{ sku: string; problem: string }>;
}

/**
 * The schedules of pricing: the clock that publishes a dated price when it starts and withdraws it when it ends
 * (what has started or ended since the last turn, by the database's clock; the last turn is stored, so a restart
 * or a turn missed while no instance ran catches up), and the pull of every price from the ERP routed for
 * `pricing`. Each runs on one instance at a time.
 */
@Injectable()
export class PriceSchedules implements OnApplicationBootstrap, OnApplicationShutdown {
  private clock?: ReturnType<typeof startRecurring>;
  private pulls?: ReturnType<typeof startRecurring>;

  constructor(
    @Inject(PG_POOL) private readonly pool: pg.Pool,
    private readonly erp: ErpDestination,
    private readonly intake: PriceIntake,
    private readonly publisher: PricePublisher,
    private readonly queries: QueryBus,
    private readonly commands: CommandBus,
    @Inject(PRICE_SETTINGS) private readonly settings: PriceSettings,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  onApplicationBootstrap(): void {
    if (!this.settings.enabled) return;
    this.clock = startRecurring(async () => {
      await this.tick();
      await this.catchUpChannels();
    }, {
      firstAfterMs: Math.min(FIRST_PULL_AFTER_MS, this.settings.clockMs),
      everyMs: this.settings.clockMs,
      onError: (error) => this.logger.warn({ err: error }, 'price clock turn failed; the next one catches up'),
    });
    this.pulls = startRecurring(() => this.pullRouted(), {
      firstAfterMs: FIRST_PULL_AFTER_MS,
      everyMs: this.settings.pollMs,
      onError: (error) => this.logger.warn({ err: error }, 'price pull failed; the next one retries'),
    });
  }

  async onApplicationShutdown(): Promise<void> {
    await Promise.all([this.clock?.stop(), this.pulls?.stop()]);
  }

  /**
   * One turn of the clock: recomputes the SKUs with a price that started or ended since the last turn. Answers
   * how many SKUs it recomputed; undefined when another instance holds the clock.
   */
  async tick(): Promise<number | undefined> {
    return withSessionLock(this.pool, CLOCK_LOCK, () =>
      inTransaction(this.pool, async (tx) => {
        // Up to now, or to the start of the oldest transaction still writing: a price it writes, dated between
        // that start and now, is not visible yet, and must fall in a later turn's window.
        const { rows: [turn] } = await tx.query<{ through: Date | null; now: Date }>(
          `select (select checked_through from price_clock) as through,
                  least(clock_timestamp(), (select min(xact_start) from pg_stat_activity
                                             where datname = current_database() and backend_xid is not null and pid <> pg_backend_pid())) as now`,
        );
        const through = turn!.through ?? turn!.now;
        // Never backwards (a transaction older than the last turn is still open): an empty window then.
        const upTo = turn!.now > through ? turn!.now : through;
        const { rows } = await tx.query<{ sku: string }>(
          `select sku from price_entry where valid_from > $1 and valid_from <= $2
           union select sku from price_entry where valid_to > $1 and valid_to <= $2`,
          [through, upTo],
        );
        if (rows.length > 0) {
          const skus = await lockPrices(tx, rows.map((r) => r.sku));
          await this.publisher.recompute(tx, skus);
          this.logger.info({ skus: skus.length }, 'dated prices started or ended');
        }
        await tx.query(
          `insert into price_clock (id, checked_through) values (1, $1) on conflict (id) do update set checked_through = excluded.checked_through`,
          [upTo],
        );
        return rows.length;
      }),
    );
  }

  /**
   * Gives every SKU's price to each channel whose pricing settings differ from those its prices were last
   * published under (a channel added, or pointed at another list or currency), a chunk of SKUs a transaction; the
   * settings are recorded once all are done, so an interrupted catch-up is run again (what is unchanged is not
   * sent twice). One instance at a time; answers the channels caught up (undefined: another instance is at it).
   */
  async catchUpChannels(): Promise<string[] | undefined> {
    return withSessionLock(this.pool, CATCH_UP_LOCK, () => this.catchUp());
  }

  private async catchUp(): Promise<string[]> {
    const channels = (await this.queries.execute(new ChannelsQuery())).filter((c) => c.pricing);
    if (channels.length === 0) return [];
    const { rows } = await this.pool.query<{ channel_id: string; setting: string }>('select channel_id, setting from channel_price_setting');
    const published = new Map(rows.map((r) => [r.channel_id, r.setting]));
    const behind = channels.filter((c) => published.get(c.id) !== pricingSettingOf(c));
    for (const channel of behind) {
      let after = '';
      for (;;) {
        const { rows: chunk } = await this.pool.query<{ sku: string }>('select distinct sku from price_entry where sku > $1 order by sku limit $2', [after, CHUNK]);
        if (chunk.length === 0) break;
        after = chunk.at(-1)!.sku;
        await inTransaction(this.pool, async (tx) => this.publisher.recompute(tx, await lockPrices(tx, chunk.map((r) => r.sku)), new Set([channel.id])));
      }
      await this.pool.query(
        `insert into channel_price_setting (channel_id, setting) values ($1, $2)
         on conflict (channel_id) do update set setting = excluded.setting, published_at = clock_timestamp()`,
        [channel.id, pricingSettingOf(channel)],
      );
      this.logger.info({ channelId: channel.id }, "every SKU's price given to a channel with new pricing settings");
    }
    return behind.map((c) => c.id);
  }

  private async pullRouted(): Promise<void> {
    const route = await inTransaction(this.pool, (tx) => this.queries.execute(new ErpRouteQuery('pricing', tx)));
    if (!route) return;
    const shadow = route.mode === 'shadow' ? route.shadow : null;
    await this.pull(route.primary, shadow ? (prices) => this.compareShadow(route.primary, prices, shadow) : undefined);
  }

  /**
   * In shadow mode, the shadow's prices are read too and compared with the primary's, price by price (its identity:
   * list, SKU, currency, customer, quantity break, start): recorded for the coexistence report, never applied.
   */
  private async compareShadow(primaryId: string, primaryPrices: readonly ErpPrice[], shadowId: string): Promise<void> {
    const { prices: shadowPrices } = await this.erp.prices(shadowId);
    const byIdentity = (prices: readonly ErpPrice[]) => new Map(prices.map((p) => [priceIdentity(p), p]));
    const primary = byIdentity(primaryPrices);
    const shadow = byIdentity(shadowPrices);
    const answer = (price: ErpPrice | undefined): ErpAnswer => (price ? { facts: { unitPrice: price.unitPrice, validTo: price.validTo } } : { failure: 'no such price' });
    const identities = [...new Set([...primary.keys(), ...shadow.keys()])];
    for (let i = 0; i < identities.length; i += CHUNK) {
      await inTransaction(this.pool, async (tx) => {
        for (const identity of identities.slice(i, i + CHUNK)) {
          await this.commands.execute(new RecordErpAnswerCommand(tx, 'pricing', identity, primaryId, 'primary', answer(primary.get(identity))));
          await this.commands.execute(new RecordErpAnswerCommand(tx, 'pricing', identity, shadowId, 'shadow', answer(shadow.get(identity))));
        }
      });
    }
    this.logger.info({ primary: primaryId, shadow: shadowId, compared: identities.length }, "the shadow ERP's prices compared with the primary's");
  }

  /**
   * Every price the backend holds, applied as prices of source `erp:<backend>` dated by the start of the read, a
   * thousand a transaction; then its prices the read no longer found are withdrawn, except those of SKUs the read
   * could not map (their last prices stand, as a customer's last figures do), and none at all when the read found
   * no price (an empty answer is not taken for the end of every price). Undefined when another instance is
   * pulling the backend.
   */
  async pull(backendId: string, afterRead?: (prices: readonly ErpPrice[]) => Promise<void>): Promise<PricePullResult | undefined> {
    return withSessionLock(this.pool, PULL_LOCK + backendId, async (client) => {
      const { rows: [{ now }] } = (await client.query<{ now: string }>(`select to_char(clock_timestamp() at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') as now`)) as { rows: Array<{ now: string }> };
      const { prices, rejected } = await this.erp.prices(backendId);
      const source = `erp:${backendId}`;
      const counts: IntakeCounts = { accepted: 0, duplicate: 0, stale: 0, errors: [] };
      const items = prices.map((price, index) => ({ ...price, eventId: `pull:${now}:${index}`, occurredAt: now, index }));
      for (let i = 0; i < items.length; i += CHUNK) {
        await inTransaction(this.pool, (tx) => this.intake.apply(tx, source, items.slice(i, i + CHUNK), counts, { dedupe: false }));
      }
      const unread = new Set([...rejected.map((r) => r.sku), ...counts.errors.map((e) => items[e.index]!.sku)]);
      const withdrawn = items.length > 0 ? await this.intake.withdrawUnseen(source, now, unread) : 0;
      if (items.length === 0) this.logger.warn({ backendId }, 'the ERP answered no price at all; the prices held from it stand');
      await this.pool.query(
        `insert into price_poll (erp_backend_id, polled_at, prices) values ($1, clock_timestamp(), $2)
         on conflict (erp_backend_id) do update set polled_at = excluded.polled_at, prices = excluded.prices`,
        [backendId, prices.length],
      );
      if (rejected.length > 0) this.logger.warn({ backendId, rejected: rejected.slice(0, 20), count: rejected.length }, 'prices the ERP holds that could not be read');
      this.logger.info({ backendId, read: prices.length, accepted: counts.accepted, withdrawn }, 'prices pulled from the ERP');
      await afterRead?.(prices);
      return { backendId, read: prices.length, ...counts, withdrawn, rejected };
    });
  }
}

/** A price's identity, as the coexistence report names it: list, SKU, currency, customer, quantity break, start. */
function priceIdentity(price: ErpPrice): string {
  return [price.priceList, price.sku, price.currency, price.customer ?? '*', price.minQuantity, price.validFrom ?? '*'].join('|');
}
