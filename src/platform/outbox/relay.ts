import { Inject, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import pg from 'pg';
import { DATABASE_URL, PG_POOL } from '../database/pg-pool.js';
import { inTransaction, type Tx } from '../database/transaction.js';
import { BossService } from '../delivery/boss.service.js';
import { enqueue, type QueueRow } from '../delivery/chain.js';
import { DeliveryQueues } from '../delivery/delivery-queues.js';
import { DELIVERY_SETTINGS, type DeliverySettings } from '../delivery/delivery-settings.js';
import { LOGGER } from '../observability/observability.module.js';
import type { Logger } from '../observability/logger.js';
import { Metrics } from '../observability/metrics.js';
import { recordTrace, type TraceStep } from '../observability/trace.js';

interface UnrelayedRow {
  id: string;
  message_id: string;
  delivery_id: string;
  destination: string;
  key: string;
  kind: 'command' | 'state';
  version: string | null;
  correlation_id: string;
  age_ms: number;
}

type Placement = 'queued' | 'waiting' | 'superseded';

/**
 * Moves committed outbox rows into pg-boss jobs, exactly once: rows are claimed with FOR UPDATE SKIP LOCKED,
 * placed in their chain, and their jobs inserted in the same transaction. Woken by NOTIFY; polls as a fallback.
 */
@Injectable()
export class Relay implements OnApplicationBootstrap, OnApplicationShutdown {
  private listener?: pg.Client;
  private pollTimer?: NodeJS.Timeout;
  private running?: Promise<void>;
  private again = false;
  private stopped = false;

  constructor(
    @Inject(PG_POOL) private readonly pool: pg.Pool,
    private readonly boss: BossService,
    private readonly queues: DeliveryQueues,
    @Inject(DELIVERY_SETTINGS) private readonly settings: DeliverySettings,
    @Inject(DATABASE_URL) private readonly databaseUrl: string,
    @Inject(LOGGER) private readonly logger: Logger,
    private readonly metrics: Metrics,
  ) {}

  /** A dedicated connection LISTENs for inserts; when it drops, polling carries on until it is back. */
  private async listen(): Promise<void> {
    if (this.stopped) return;
    const client = new pg.Client({ connectionString: this.databaseUrl, application_name: 'crossdock-relay' });
    const reconnect = () => {
      if (this.listener !== client) return;
      this.listener = undefined;
      client.end().catch(() => undefined);
      if (!this.stopped) setTimeout(() => void this.listen(), 1_000).unref();
    };
    client.on('error', reconnect);
    client.on('end', reconnect);
    client.on('notification', () => this.wake());
    try {
      await client.connect();
      await client.query('listen crossdock_outbox');
      this.listener = client;
      this.wake();
    } catch (error) {
      this.logger.warn({ err: error }, 'relay cannot listen for outbox inserts; polling until it can');
      await client.end().catch(() => undefined);
      if (!this.stopped) setTimeout(() => void this.listen(), 1_000).unref();
    }
  }

  async onApplicationBootstrap(): Promise<void> {
    if (!this.settings.work) return;
    await this.listen();
    this.pollTimer = setInterval(() => this.wake(), this.settings.relayPollMs);
    this.wake();
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopped = true;
    clearInterval(this.pollTimer);
    const listener = this.listener;
    this.listener = undefined;
    await listener?.end().catch(() => undefined);
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
          while (!this.stopped && (await this.relayBatch()) === this.settings.relayBatchSize);
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

  /** Relays one batch; returns how many rows it claimed. */
  async relayBatch(): Promise<number> {
    return inTransaction(this.pool, async (tx) => {
      const { rows } = await tx.query<UnrelayedRow>(
        `select id, message_id, delivery_id, destination, key, kind, version, correlation_id,
                extract(epoch from clock_timestamp() - created_at) * 1000 as age_ms
           from outbox where relayed_at is null order by id limit $1 for update skip locked`,
        [this.settings.relayBatchSize],
      );
      if (rows.length === 0) return 0;
      for (const destination of new Set(rows.map((r) => r.destination))) await this.queues.ensureFor(destination);

      const placements = new Map<string, Placement>();
      const chains = new Map([...(await this.busyCommandChains(tx, rows)), ...(await this.stateChains(tx, rows))]);
      for (const row of rows) {
        const chain = chains.get(chainOf(row))!;
        placements.set(row.id, row.kind === 'command' ? placeCommand(chain) : await this.placeState(tx, chain, row, placements));
      }

      const ids = rows.map((r) => r.id);
      await tx.query(
        `update outbox o set relayed_at = clock_timestamp(), status = v.status,
                finished_at = case when v.status = 'superseded' then clock_timestamp() end
           from unnest($1::bigint[], $2::text[]) as v(id, status) where o.id = v.id`,
        [ids, ids.map((id) => (placements.get(id) === 'queued' ? 'pending' : placements.get(id)!))],
      );
      const toQueue: QueueRow[] = rows.filter((r) => placements.get(r.id) === 'queued').map((r) => ({ id: r.id, destination: r.destination }));
      await enqueue(tx, this.boss.boss, toQueue);
      const steps: TraceStep[] = rows.map((r) => ({
        correlationId: r.correlation_id,
        messageId: r.message_id,
        deliveryId: r.delivery_id,
        destination: r.destination,
        step: placements.get(r.id) === 'superseded' ? 'superseded' : 'relayed',
        latencyMs: Number(r.age_ms),
        detail: { placement: placements.get(r.id) },
      }));
      await recordTrace(tx, steps);
      for (const row of rows) this.metrics.relayLag.observe(Number(row.age_ms) / 1000);
      return rows.length;
    }, { synchronousCommit: false }); // lost in a database crash, the rows are simply relayed again
  }

  /**
   * For every command chain of the batch, in one statement: is an earlier row of it unfinished? FOR SHARE
   * waits for whoever is finishing that row, so that a chain's next row is never left waiting unseen.
   */
  private async busyCommandChains(tx: Tx, rows: UnrelayedRow[]): Promise<Map<string, ChainView>> {
    const first = new Map<string, UnrelayedRow>();
    for (const row of rows) if (row.kind === 'command' && !first.has(chainOf(row))) first.set(chainOf(row), row);
    const chains = new Map<string, ChainView>();
    if (first.size === 0) return chains;
    const heads = [...first.values()];
    const busy = await tx.query<{ destination: string; key: string }>(
      `select c.destination, c.key from unnest($1::text[], $2::text[], $3::bigint[]) as c(destination, key, first_id)
        cross join lateral (
          select 1 from outbox o where o.destination = c.destination and o.key = c.key and o.kind = 'command' and o.id < c.first_id
             and o.status in ('pending', 'waiting', 'queued', 'sending', 'dead')
           limit 1 for share of o) earlier`,
      [heads.map((r) => r.destination), heads.map((r) => r.key), heads.map((r) => r.id)],
    );
    const busyKeys = new Set(busy.rows.map((r) => chainOf({ destination: r.destination, kind: 'command', key: r.key })));
    for (const [key] of first) chains.set(key, { kind: 'command', busy: busyKeys.has(key), live: [], delivered: null });
    return chains;
  }

  /** Every state chain of the batch, in two statements: its live rows (locked) and its delivered version. */
  private async stateChains(tx: Tx, rows: UnrelayedRow[]): Promise<Map<string, ChainView>> {
    const heads = new Map<string, UnrelayedRow>();
    for (const row of rows) if (row.kind === 'state' && !heads.has(chainOf(row))) heads.set(chainOf(row), row);
    const chains = new Map<string, ChainView>();
    if (heads.size === 0) return chains;
    const destinations = [...heads.values()].map((r) => r.destination);
    const keys = [...heads.values()].map((r) => r.key);
    for (const [chainKey] of heads) chains.set(chainKey, { kind: 'state', busy: false, live: [], delivered: null });
    const live = await tx.query<{ id: string; destination: string; key: string; status: string; version: string }>(
      `select o.id, o.destination, o.key, o.status, coalesce(o.version, o.id) as version
         from unnest($1::text[], $2::text[]) as c(destination, key)
         join outbox o on o.destination = c.destination and o.key = c.key and o.kind = 'state'
                      and o.status in ('waiting', 'queued', 'sending') and o.relayed_at is not null
        order by o.id for update of o`,
      [destinations, keys],
    );
    for (const r of live.rows) {
      chains.get(chainOf({ destination: r.destination, kind: 'state', key: r.key }))!.live.push({ id: r.id, status: r.status as LiveRow['status'], version: BigInt(r.version), inBatch: false });
    }
    const delivered = await tx.query<{ destination: string; key: string; version: string }>(
      `select dv.destination, dv.key, dv.version from unnest($1::text[], $2::text[]) as c(destination, key)
         join delivered_version dv on dv.destination = c.destination and dv.key = c.key`,
      [destinations, keys],
    );
    for (const r of delivered.rows) chains.get(chainOf({ destination: r.destination, kind: 'state', key: r.key }))!.delivered = BigInt(r.version);
    return chains;
  }

  /**
   * The newest state wins: a row not newer than what is live or delivered is superseded; a newer one
   * supersedes the waiting and queued rows before it and waits only behind one being sent.
   */
  private async placeState(tx: Tx, chain: ChainView, row: UnrelayedRow, placements: Map<string, Placement>): Promise<Placement> {
    const version = BigInt(row.version ?? row.id);
    const newestLive = chain.live.reduce<bigint | null>((max, r) => (max === null || r.version > max ? r.version : max), null);
    if ((chain.delivered !== null && version <= chain.delivered) || (newestLive !== null && version <= newestLive)) return 'superseded';
    const replaced = chain.live.filter((r) => r.status !== 'sending');
    const stored = replaced.filter((r) => !r.inBatch).map((r) => r.id);
    if (stored.length > 0) {
      await tx.query(`update outbox set status = 'superseded', finished_at = clock_timestamp() where id = any($1::bigint[]) and status in ('waiting', 'queued')`, [stored]);
    }
    for (const r of replaced.filter((r) => r.inBatch)) placements.set(r.id, 'superseded');
    const sending = chain.live.some((r) => r.status === 'sending');
    const placement: Placement = sending ? 'waiting' : 'queued';
    chain.live = [...chain.live.filter((r) => r.status === 'sending'), { id: row.id, status: placement, version, inBatch: true }];
    return placement;
  }
}

interface LiveRow {
  id: string;
  status: 'waiting' | 'queued' | 'sending';
  version: bigint;
  inBatch: boolean;
}

interface ChainView {
  kind: 'command' | 'state';
  /** command: an earlier row of the chain is unfinished, or one of this batch was placed before. */
  busy: boolean;
  live: LiveRow[];
  delivered: bigint | null;
}

function chainOf(row: Pick<UnrelayedRow, 'destination' | 'kind' | 'key'>): string {
  return `${row.destination}\u0000${row.kind}\u0000${row.key}`;
}

function placeCommand(chain: ChainView): Placement {
  const placement: Placement = chain.busy ? 'waiting' : 'queued';
  chain.busy = true;
  return placement;
}

