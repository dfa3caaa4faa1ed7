export { ChannelQuery, ChannelsQuery } from './queries/channels/channels.js';
export { ErpBackendQuery, ErpBackendsQuery, type ErpBackend } from './queries/erp-backend/erp-backend.js';
export { SourceQuery, type Source } from './queries/source/source.js';
export type { Channel } from './channel-directory.js';
export type { ConfigurationDocument } from './configuration.seeder.js';
export type { ChannelPricing } from './entities/channel.entity.js';
