import { Global, Module } from '@nestjs/common';
import { ChannelDestination } from './channels/channel-destination.js';
import { ErpDestination } from './erp/erp-destination.js';

/** The destination handlers of every connector, in every role; targets' settings come through TargetDirectory. */
@Global()
@Module({
  providers: [ErpDestination, ChannelDestination],
  exports: [ErpDestination],
})
export class ConnectorsModule {}
