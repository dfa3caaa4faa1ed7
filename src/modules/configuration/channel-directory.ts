import { Inject, Injectable } from '@nestjs/common';
import type pg from 'pg';
import { PG_POOL } from '../../platform/database/pg-pool.js';
import type { Sql } from '../../platform/database/transaction.js';
import { SecretBox } from '../../platform/security/secret-box.js';
import { transformSecrets } from './domain/secrets.js';
import type { ChannelEntity } from './entities/channel.entity.js';
import { secretsOf } from './resource-validation.js';

const CACHE_MS = 5_000;
const COLUMNS = 'id, name, kind, config, inventory, oversell, pricing, limits, reconcile, created_at as "createdAt", updated_at as "updatedAt"';

/** A channel as configured. */
export type Channel = Pick<ChannelEntity, 'id' | 'name' | 'kind' | 'config' | 'inventory' | 'oversell' | 'pricing' | 'limits' | 'reconcile' | 'createdAt' | 'updatedAt'>;

/**
 * Channels as configured, read through a short cache: a change is seen everywhere within 5 s. Inside a
 * transaction, pass it: a read that took a second pooled connection while the transaction holds one (and
 * perhaps a lock others wait on) could leave every connection waiting.
 */
@Injectable()
export class ChannelDirectory {
  private readonly cache = new Map<string, { channel: Channel | null; until: number }>();
  private everyChannel?: { channels: Channel[]; until: number };

  constructor(
    @Inject(PG_POOL) private readonly pool: pg.Pool,
    private readonly box: SecretBox,
  ) {}

  async find(id: string, sql?: Sql): Promise<Channel | null> {
    const cached = this.cache.get(id);
    if (cached && cached.until > Date.now()) return cached.channel;
    const { rows: [channel] } = await this.query(sql, `select ${COLUMNS} from channel where id = $1`, [id]);
    this.cache.set(id, { channel: channel ?? null, until: Date.now() + CACHE_MS });
    return channel ?? null;
  }

  async get(id: string, sql?: Sql): Promise<Channel> {
    const channel = await this.find(id, sql);
    if (!channel) throw new Error(`channel ${id} does not exist`);
    return channel;
  }

  /** Every channel, through the same cache. */
  async all(sql?: Sql): Promise<Channel[]> {
    if (this.everyChannel && this.everyChannel.until > Date.now()) return this.everyChannel.channels;
    const { rows } = await this.query(sql, `select ${COLUMNS} from channel order by id`, []);
    this.everyChannel = { channels: rows, until: Date.now() + CACHE_MS };
    return rows;
  }

  /** Drops what is cached of a channel (after a change here: other instances see it within the cache's 5 s). */
  forget(id: string): void {
    this.cache.delete(id);
    this.everyChannel = undefined;
  }

  /** Channels with their secrets opened: the connectors and the webhook checks need them in the clear. */
  private async query(sql: Sql | undefined, text: string, values: unknown[]): Promise<{ rows: Channel[] }> {
    const { rows } = await (sql ? sql.query<Channel>(text, values) : this.pool.query<Channel>(text, values));
    const open = (value: string) => this.box.open(value);
    return { rows: rows.map((channel) => ({ ...channel, config: transformSecrets(channel.config, secretsOf('channel', channel.kind), open) })) };
  }
}
