import { Module, type DynamicModule } from '@nestjs/common';
import { RoutingController } from './api/routing.controller.js';
import { SetRoutingHandler } from './commands/set-routing/set-routing.js';
import { BackendRoutesHandler } from './queries/backend-routes/backend-routes.js';
import { ErpRouteHandler } from './queries/erp-route/erp-route.js';

// What the composition root needs to check a configuration file before the service starts.
export { ROUTING_DOMAINS, routingProblems } from './domain/routing.js';
export { RoutingDto } from './api/routing.dto.js';
export { RoutingEntity } from './entities/routing.entity.js';

/** Routing of each domain's ERP traffic (legacy, cloud, shadow), with its admin API in the api and all roles. */
@Module({})
export class MigrationCoexistenceModule {
  static register(settings: { serveApi: boolean }): DynamicModule {
    return {
      module: MigrationCoexistenceModule,
      providers: [SetRoutingHandler, ErpRouteHandler, BackendRoutesHandler],
      controllers: settings.serveApi ? [RoutingController] : [],
    };
  }
}
