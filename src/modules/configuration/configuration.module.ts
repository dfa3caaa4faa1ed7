import { Global, Module } from '@nestjs/common';
import { DelayObjectives } from '../../platform/delivery/delay-objectives.js';
import { TargetDirectory } from '../../platform/delivery/target-directory.js';
import { AuditController } from './api/audit.controller.js';
import { RESOURCE_CONTROLLERS } from './api/resource.controller.js';
import { SecretsController } from './api/secrets.controller.js';
import { ConfigurationSeeder } from './configuration.seeder.js';
import { ConfigurationService } from './configuration.service.js';
import { ChannelDirectory } from './channel-directory.js';
import { ConfiguredObjectives } from './configured-objectives.js';
import { ConfiguredTargets } from './configured-targets.js';
import { ChannelEntity } from './entities/channel.entity.js';
import { ErpBackendEntity } from './entities/erp-backend.entity.js';
import { SourceSystemEntity } from './entities/source-system.entity.js';
import { OperatorEntity } from './entities/operator.entity.js';
import { ChannelHandler, ChannelsHandler } from './queries/channels/channels.js';
import { ErpBackendHandler, ErpBackendsHandler } from './queries/erp-backend/erp-backend.js';
import { SourceHandler } from './queries/source/source.js';

// What the composition root needs to boot: the entities to register, the seeder, the file's checks.
export { ConfigurationSeeder } from './configuration.seeder.js';
export { validateResource, type ResourceType } from './resource-validation.js';
export const CONFIGURATION_ENTITIES = [ErpBackendEntity, ChannelEntity, SourceSystemEntity, OperatorEntity];

/** The stored configuration, its queries, the targets' settings for the connectors and their delay objectives: in every role. */
@Global()
@Module({
  providers: [
    ConfigurationService, ConfigurationSeeder, ChannelDirectory, { provide: TargetDirectory, useClass: ConfiguredTargets }, { provide: DelayObjectives, useClass: ConfiguredObjectives },
    ChannelHandler, ChannelsHandler, ErpBackendHandler, ErpBackendsHandler, SourceHandler,
  ],
  exports: [ConfigurationService, ConfigurationSeeder, TargetDirectory, DelayObjectives],
})
export class ConfigurationModule {}

/** The admin API over it: in the api and all roles. */
@Module({
  imports: [ConfigurationModule],
  controllers: [...RESOURCE_CONTROLLERS, AuditController, SecretsController],
})
export class ConfigurationApiModule {}
