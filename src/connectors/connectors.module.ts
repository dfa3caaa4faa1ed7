import { Global, Module } from '@nestjs/common';
import { ChannelDestination } from './channels/channel-destination.js';
import { ShopifyStoreReads } from './channels/shopify/shopify-store-reads.js';
import { ErpDestination } from './erp/erp-destination.js';

/**
 * The destination handlers of every connector, in every role, and the governed reads of Shopify stores outside the
 * queues (reconciliation); targets' settings come through TargetDirectory.
 */
@Global()
@Module({
  providers: [ErpDestination, ChannelDestination, ShopifyStoreReads],
  exports: [ErpDestination, ShopifyStoreReads],
})
export class ConnectorsModule {}
