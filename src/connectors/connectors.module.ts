import { Global, Module } from '@nestjs/common';
import { ChannelDestination } from './channels/channel-destination.js';
import { ShopifyStoreReads } from './channels/shopify/shopify-store-reads.js';
import { WebhookReads } from './channels/webhook/webhook-reads.js';
import { ErpDestination } from './erp/erp-destination.js';

/**
 * The destination handlers of every connector, in every role, and the governed reads of Shopify stores and webhook
 * subscribers outside the queues (reconciliation); targets' settings come through TargetDirectory.
 */
@Global()
@Module({
  providers: [ErpDestination, ChannelDestination, ShopifyStoreReads, WebhookReads],
  exports: [ErpDestination, ShopifyStoreReads, WebhookReads],
})
export class ConnectorsModule {}
