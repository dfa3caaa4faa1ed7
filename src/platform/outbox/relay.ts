import { Inject, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import type pg from 'pg';
import { PG_POOL } from '../database/pg-pool.js';
import { inTransaction, type Tx } from '../database/transaction.js';
import { BossService } from '../delivery/boss.service.js';
import { enqueue, tryLockChains, unfinished, type QueueRow } from '../delivery/chain.js';
import { DeliveryQueues } from '../delivery/delivery-queues.js';
import { DELIVERY_SETTINGS, type DeliverySettings } from '../delivery/delivery-settings.js';
import { LOGGER } from '../observability/observability.module.js';
import type { Logger } from '../observability/logger.js';
import { Metrics } from '../observability/metrics.js';
import { isTracing, recordRelaySpan } from '../observability/tracing.js';
import { OutboxSignals } from './outbox-signals.js';

interface UnrelayedRow {
  id: string;
  delivery_id: string;
  destination: string;
  key: string;
  trace_context: string | null;
  age_ms: number;
}

/**
 * Moves committed outbox rows into pg-boss jobs, exactly once: rows are claimed with FOR UPDATE SKIP LOCKED,
 * placed in their chain, and their jobs inserted in the same transaction. Woken after producers' commits
 * (OutboxSignals); polls as a fallback.
 */
@Injectable()
export class Relay implements OnModuleInit, OnApplicationBootstrap, OnApplicationShutdown {
  private pollTimer?: NodeJS.Timeout;
  private running?: Promise<void>;
  private again = false;
  private stopped = false;

  constructor(
    @Inject(PG_POOL) private readonly pool: pg.Pool,
    private readonly boss: BossService,
    private readonly queues: DeliveryQueues,
    @Inject(DELIVERY_SETTINGS) private readonly settings: DeliverySettings,
    private readonly signals: OutboxSignals,
    @Inject(LOGGER) private readonly logger: Logger,
    private readonly metrics: Metrics,
  ) {}

  onModuleInit(): void {
    if (this.settings.work) this.signals.on('outbox', () => this.wake());
  }

  async onApplicationBootstrap(): Promise<void> {
    if (!this.settings.work) return;
    this.pollTimer = setInterval(() => this.wake(), this.settings.relayPollMs);
    this.wake();
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopped = true;
    clearInterval(this.pollTimer);
    await this.running;
  }

  /** Relays until nothing is left; concurrent wake-ups coalesce into one more pass. */
  wake(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = (async () => {
      try {
        do {
          this.again = false;
          let pass: RelayPass;
          do {
            pass = await this.relayBatch();
            if (pass.deferred > 0) this.again = true;
          } while (!this.stopped && pass.claimed === this.settings.relayBatchSize);
          // Rows deferred behind a worker settling their chain: that worker commits within milliseconds.
          if (pass.deferred > 0 && pass.claimed === pass.deferred) await sleep(DEFERRED_RETRY_MS);
        } while (this.again && !this.stopped);
      } catch (error) {
        // Two relays, or a relay and a worker finishing a chain, can deadlock on one chain's rows; PostgreSQL
        // aborts one of them and nothing is lost: the pass is simply run again.
        if ((error as { code?: string }).code === '40P01') {
          this.logger.debug('relay pass hit a deadlock; running it again');
          this.again = true;
        } else this.logger.warn({ err: error }, 'relay pass failed; the next wake-up retries');
      } finally {
        this.running = undefined;
        if (this.again && !this.stopped) {
          this.again = false;
          this.wake();
        }
      }
    })();
  }

  /** Relays one batch; returns how many rows it claimed and how many of them it left for the next pass. */
  async relayBatch(): Promise<RelayPass> {
    const claimedAt = Date.now();
    return inTransaction(this.pool, async (tx) => {
      let { rows } = await tx.query<UnrelayedRow>(
        `select id, delivery_id, destination, key, trace_context,
                extract(epoch from clock_timestamp() - created_at) * 1000 as age_ms
           from outbox where relayed_at is null order by id limit $1 for update skip locked`,
        [this.settings.relayBatchSize],
      );
      if (rows.length === 0) return { claimed: 0, deferred: 0 };
      for (const destination of new Set(rows.map((r) => r.destination))) await this.queues.ensureFor(destination);

      const claimed = rows.length;
      const { busy, locked } = await this.busyCommandChains(tx, rows);
      rows = rows.filter((r) => locked.has(chainOf(r)));
      if (rows.length === 0) return { claimed, deferred: claimed };
      const placements = new Map<string, Placement>();
      for (const row of rows) {
        const chain = chainOf(row);
        placements.set(row.id, busy.has(chain) ? 'waiting' : 'queued');
        busy.add(chain);
      }

      // The row keeps its placement: its `relayed` step is read from it (TraceQuery), with relayed_at.
      const ids = rows.map((r) => r.id);
      await tx.query(
        `update outbox o set relayed_at = clock_timestamp(), relayed_as = v.placement, status = case when v.placement = 'waiting' then 'waiting' else 'pending' end
           from unnest($1::bigint[], $2::text[]) as v(id, placement) where o.id = v.id`,
        [ids, ids.map((id) => placements.get(id)!)],
      );
      const toQueue: QueueRow[] = rows.filter((r) => placements.get(r.id) === 'queued').map((r) => ({ id: r.id, destination: r.destination }));
      await enqueue(tx, this.boss.boss, toQueue);
      if (isTracing()) {
        for (const r of rows) {
          if (r.trace_context) recordRelaySpan(r.trace_context, claimedAt, { destination: r.destination, deliveryId: r.delivery_id, placement: placements.get(r.id)!, waitMs: Number(r.age_ms) });
        }
      }
      for (const row of rows) this.metrics.relayLag.observe(Number(row.age_ms) / 1000);
      return { claimed, deferred: claimed - rows.length };
    }, { synchronousCommit: false }); // lost in a database crash, the rows are simply relayed again
  }

  /**
   * The chains of the batch this pass may place (their locks taken without waiting: tryLockChains) and, of those,
   * the command chains with an earlier row unfinished, read under the locks: whoever is finishing an earlier row
   * has committed, or will see this batch's rows.
   */
  private async busyCommandChains(tx: Tx, rows: UnrelayedRow[]): Promise<{ busy: Set<string>; locked: Set<string> }> {
    const first = new Map<string, UnrelayedRow>();
    for (const row of rows) if (!first.has(chainOf(row))) first.set(chainOf(row), row);
    const byDestination = new Map<string, string[]>();
    for (const head of first.values()) byDestination.set(head.destination, [...(byDestination.get(head.destination) ?? []), head.key]);
    const locked = new Set<string>();
    for (const [destination, keys] of byDestination) {
      for (const key of await tryLockChains(tx, destination, keys)) locked.add(chainOf({ destination, key }));
    }
    const heads = [...first.values()].filter((r) => locked.has(chainOf(r)));
    const busy = await tx.query<{ destination: string; key: string }>(
      `select c.destination, c.key from unnest($1::text[], $2::text[], $3::bigint[]) as c(destination, key, first_id)
        cross join lateral (
          select 1 from outbox o where o.destination = c.destination and o.key = c.key and o.kind = 'command' and o.id < c.first_id
             and ${unfinished('o')}
           limit 1) earlier`,
      [heads.map((r) => r.destination), heads.map((r) => r.key), heads.map((r) => r.id)],
    );
    return { busy: new Set(busy.rows.map((r) => chainOf(r))), locked };
  }
}

interface RelayPass {
  claimed: number;
  deferred: number;
}

const DEFERRED_RETRY_MS = 2;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

type Placement = 'queued' | 'waiting';

function chainOf(row: Pick<UnrelayedRow, 'destination' | 'key'>): string {
  return `${row.destination}\u0000${row.key}`;
}
