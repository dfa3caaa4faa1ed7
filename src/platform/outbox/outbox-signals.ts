import { Inject, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import pg from 'pg';
import { DATABASE_QUERY_TIMEOUT_MS, DATABASE_URL, PG_POOL } from '../database/pg-pool.js';
import { LOGGER } from '../observability/observability.module.js';
import type { Logger } from '../observability/logger.js';
import { outsideTraces } from '../observability/tracing.js';

/** `outbox`: command rows to relay; `state`: last-value rows to dispatch; `keys`: API keys revoked; `prices`: SKUs repriced. */
export type SignalChannel = 'outbox' | 'state' | 'keys' | 'prices';
const CHANNELS: Record<SignalChannel, string> = { outbox: 'crossdock_outbox', state: 'crossdock_state', keys: 'crossdock_keys', prices: 'crossdock_prices' };
// NOTIFY payloads are limited to 8,000 bytes; a longer list of destinations is sent as "any".
const MAX_PAYLOAD = 7_000;
// Commits within this window share one NOTIFY to the other instances.
const DEBOUNCE_MS = 5;
// The listening connection is asked to answer this often: one that went silent (a failover's vanished
// primary) is replaced instead of waiting, deaf, for notifications that never come.
const HEARTBEAT_MS = 5_000;

/**
 * Wake-ups after a producer's commit. This process's consumers are woken at once; other instances hear one
 * NOTIFY per channel per few milliseconds, sent outside any producer's transaction, so that committing
 * producers never queue behind PostgreSQL's notification lock. Consumers poll too: a lost wake-up only delays.
 */
@Injectable()
export class OutboxSignals implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly handlers = new Map<SignalChannel, Array<(destinations: string[] | undefined) => void>>();
  private readonly unsent = new Map<SignalChannel, Set<string> | 'any'>();
  private flushTimer?: NodeJS.Timeout;
  private listener?: pg.Client;
  private stopped = false;

  constructor(
    @Inject(PG_POOL) private readonly pool: pg.Pool,
    @Inject(DATABASE_URL) private readonly databaseUrl: string,
    @Inject(DATABASE_QUERY_TIMEOUT_MS) private readonly queryTimeoutMs: number,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  /** `handler` hears the destinations that have new rows (undefined: any of them may). */
  on(channel: SignalChannel, handler: (destinations: string[] | undefined) => void): void {
    this.handlers.set(channel, [...(this.handlers.get(channel) ?? []), handler]);
  }

  /** Whether this instance hears the others now: while it does not, what it caches of theirs may be outdated. */
  get listening(): boolean {
    return this.listener !== undefined;
  }

  /** Called after a commit that wrote rows for these destinations. */
  committed(channel: SignalChannel, destinations: Iterable<string>): void {
    const list = [...new Set(destinations)];
    this.emit(channel, list);
    const unsent = this.unsent.get(channel);
    if (unsent !== 'any') {
      const set = unsent ?? new Set<string>();
      for (const d of list) set.add(d);
      this.unsent.set(channel, set);
    }
    this.flushTimer ??= setTimeout(() => void this.flush(), DEBOUNCE_MS);
  }

  async onApplicationBootstrap(): Promise<void> {
    if (this.handlers.size > 0) await this.listen();
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.flushTimer);
    const listener = this.listener;
    this.listener = undefined;
    await listener?.end().catch(() => undefined);
  }

  // What a wake-up starts (a relay pass, a dispatch) serves many producers: it is no part of this one's trace.
  private emit(channel: SignalChannel, destinations: string[] | undefined): void {
    outsideTraces(() => {
      for (const handler of this.handlers.get(channel) ?? []) handler(destinations);
    });
  }

  private async flush(): Promise<void> {
    this.flushTimer = undefined;
    const batches = [...this.unsent];
    this.unsent.clear();
    for (const [channel, destinations] of batches) {
      let payload = destinations === 'any' ? '' : [...destinations].join('\n');
      if (Buffer.byteLength(payload) > MAX_PAYLOAD) payload = '';
      await this.pool.query('select pg_notify($1, $2)', [CHANNELS[channel], payload]).catch(() => undefined);
    }
  }

  /** A dedicated connection LISTENs; when it drops, polling carries on until it is back. */
  private async listen(): Promise<void> {
    if (this.stopped) return;
    const client = new pg.Client({ connectionString: this.databaseUrl, application_name: 'crossdock-signals', keepAlive: true, query_timeout: Math.min(this.queryTimeoutMs, HEARTBEAT_MS) });
    let heartbeat: NodeJS.Timeout | undefined;
    const reconnect = () => {
      if (this.listener !== client) return;
      clearInterval(heartbeat);
      this.listener = undefined;
      client.end().catch(() => undefined);
      if (!this.stopped) setTimeout(() => void this.listen(), 1_000).unref();
    };
    client.on('error', reconnect);
    client.on('end', reconnect);
    client.on('notification', (message) => {
      const channel = (Object.keys(CHANNELS) as SignalChannel[]).find((c) => CHANNELS[c] === message.channel);
      if (channel) this.emit(channel, message.payload ? message.payload.split('\n') : undefined);
    });
    try {
      await client.connect();
      for (const channel of this.handlers.keys()) await client.query(`listen ${CHANNELS[channel]}`);
      this.listener = client;
      heartbeat = setInterval(() => {
        if (this.listener === client) void client.query('select 1').catch(reconnect);
        else clearInterval(heartbeat);
      }, HEARTBEAT_MS).unref();
      // What was committed while nobody listened is found now.
      for (const channel of this.handlers.keys()) this.emit(channel, undefined);
    } catch (error) {
      this.logger.warn({ err: error }, 'cannot listen for outbox signals; polling until it can');
      await client.end().catch(() => undefined);
      if (!this.stopped) setTimeout(() => void this.listen(), 1_000).unref();
    }
  }
}
