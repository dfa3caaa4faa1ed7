import { Query, QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import type { Sql } from '../../../../platform/database/transaction.js';
import { ChannelDirectory, type Channel } from '../../channel-directory.js';

/**
 * A channel as configured (null when there is none), through a 5-second cache. Inside a transaction, pass
 * it: a read that took a second pooled connection while the transaction holds one could leave every
 * connection waiting.
 */
export class ChannelQuery extends Query<Channel | null> {
  constructor(
    readonly channelId: string,
    readonly sql?: Sql,
  ) {
    super();
  }
}

/** Every channel as configured, through the same cache. */
export class ChannelsQuery extends Query<Channel[]> {
  constructor(readonly sql?: Sql) {
    super();
  }
}

@QueryHandler(ChannelQuery)
export class ChannelHandler implements IQueryHandler<ChannelQuery, Channel | null> {
  constructor(private readonly channels: ChannelDirectory) {}

  execute({ channelId, sql }: ChannelQuery): Promise<Channel | null> {
    return this.channels.find(channelId, sql);
  }
}

@QueryHandler(ChannelsQuery)
export class ChannelsHandler implements IQueryHandler<ChannelsQuery, Channel[]> {
  constructor(private readonly channels: ChannelDirectory) {}

  execute({ sql }: ChannelsQuery): Promise<Channel[]> {
    return this.channels.all(sql);
  }
}
