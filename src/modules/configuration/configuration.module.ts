import { Global, Module } from '@nestjs/common';
import { TargetDirectory } from '../../platform/delivery/target-directory.js';
import { AuditController } from './api/audit.controller.js';
import { RESOURCE_CONTROLLERS } from './api/resource.controller.js';
import { RoutingController } from './api/routing.controller.js';
import { ConfigurationSeeder } from './configuration.seeder.js';
import { ConfigurationService } from './configuration.service.js';
import { ChannelDirectory } from './channel-directory.js';
import { ConfiguredTargets } from './configured-targets.js';

/** The stored configuration, and the targets' settings for the connectors: in every role. */
@Global()
@Module({
  providers: [ConfigurationService, ConfigurationSeeder, ChannelDirectory, { provide: TargetDirectory, useClass: ConfiguredTargets }],
  exports: [ConfigurationService, ConfigurationSeeder, ChannelDirectory, TargetDirectory],
})
export class ConfigurationModule {}

/** The admin API over it: in the api and all roles. */
@Module({
  imports: [ConfigurationModule],
  controllers: [...RESOURCE_CONTROLLERS, RoutingController, AuditController],
})
export class ConfigurationApiModule {}
