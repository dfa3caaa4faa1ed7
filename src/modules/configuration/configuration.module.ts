import { Module } from '@nestjs/common';
import { AuditLog } from '../../platform/audit/audit-log.js';
import { AuditController } from './api/audit.controller.js';
import { RESOURCE_CONTROLLERS } from './api/resource.controller.js';
import { RoutingController } from './api/routing.controller.js';
import { ConfigurationSeeder } from './configuration.seeder.js';
import { ConfigurationService } from './configuration.service.js';

@Module({
  controllers: [...RESOURCE_CONTROLLERS, RoutingController, AuditController],
  providers: [ConfigurationService, ConfigurationSeeder, AuditLog],
  exports: [ConfigurationService, ConfigurationSeeder],
})
export class ConfigurationModule {}
