import { Module } from '@nestjs/common';
import { AuditController } from './api/audit.controller.js';
import { RESOURCE_CONTROLLERS } from './api/resource.controller.js';
import { RoutingController } from './api/routing.controller.js';
import { ConfigurationSeeder } from './configuration.seeder.js';
import { ConfigurationService } from './configuration.service.js';
import { ChannelDestination } from './channel-destination.js';
import { ChannelDirectory } from './channel-directory.js';
import { ErpDestination } from './erp-destination.js';

/** The stored configuration and the channel and ERP destinations: in every role. */
@Module({
  providers: [ConfigurationService, ConfigurationSeeder, ChannelDirectory, ChannelDestination, ErpDestination],
  exports: [ConfigurationService, ConfigurationSeeder, ChannelDirectory, ErpDestination],
})
export class ConfigurationModule {}

/** The admin API over it: in the api and all roles. */
@Module({
  imports: [ConfigurationModule],
  controllers: [...RESOURCE_CONTROLLERS, RoutingController, AuditController],
})
export class ConfigurationApiModule {}
