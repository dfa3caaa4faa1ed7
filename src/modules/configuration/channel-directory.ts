import { Injectable } from '@nestjs/common';
import { MikroORM } from '@mikro-orm/postgresql';
import { ChannelEntity } from './entities/channel.entity.js';

const CACHE_MS = 5_000;

/** Channels as configured, read through a short cache: a change is seen everywhere within 5 s. */
@Injectable()
export class ChannelDirectory {
  private readonly cache = new Map<string, { channel: ChannelEntity | null; until: number }>();
  private everyChannel?: { channels: ChannelEntity[]; until: number };

  constructor(private readonly orm: MikroORM) {}

  async find(id: string): Promise<ChannelEntity | null> {
    const cached = this.cache.get(id);
    if (cached && cached.until > Date.now()) return cached.channel;
    const channel = await this.orm.em.fork().findOne(ChannelEntity, { id });
    this.cache.set(id, { channel, until: Date.now() + CACHE_MS });
    return channel;
  }

  async get(id: string): Promise<ChannelEntity> {
    const channel = await this.find(id);
    if (!channel) throw new Error(`channel ${id} does not exist`);
    return channel;
  }

  /** Every channel, through the same cache. */
  async all(): Promise<ChannelEntity[]> {
    if (this.everyChannel && this.everyChannel.until > Date.now()) return this.everyChannel.channels;
    const channels = await this.orm.em.fork().find(ChannelEntity, {}, { orderBy: { id: 'asc' } });
    this.everyChannel = { channels, until: Date.now() + CACHE_MS };
    return channels;
  }
}
