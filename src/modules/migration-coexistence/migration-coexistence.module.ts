import { Module, type DynamicModule } from '@nestjs/common';
import { CoexistenceController } from './api/coexistence.controller.js';
import { MappingsController, ValueMapsController } from './api/mappings.controller.js';
import { RoutingController } from './api/routing.controller.js';
import { RecordErpAnswerHandler } from './commands/record-answer/record-answer.js';
import { RecordXrefHandler } from './commands/record-xref/record-xref.js';
import { SetRoutingHandler } from './commands/set-routing/set-routing.js';
import { SetValueMapsHandler } from './commands/set-value-maps/set-value-maps.js';
import { BackendRoutesHandler } from './queries/backend-routes/backend-routes.js';
import { ErpRouteHandler } from './queries/erp-route/erp-route.js';
import { CoexistenceReport } from './queries/report/coexistence-report.js';
import { EntityIdsHandler } from './queries/xref/xref.js';
import { ValueMapsHandler } from './queries/value-maps/value-maps.js';

// What the composition root needs to check a configuration file before the service starts.
export { ROUTING_DOMAINS, routingProblems } from './domain/routing.js';
export { RoutingDto } from './api/routing.dto.js';
export { RoutingEntity } from './entities/routing.entity.js';

/**
 * Routing of each domain's ERP traffic (legacy, cloud, shadow), the mappings side by side, the shadow runs' answers
 * compared and the cutover readiness (docs/COEXISTENCE.md), with their API in the api and all roles.
 */
@Module({})
export class MigrationCoexistenceModule {
  static register(settings: { serveApi: boolean }): DynamicModule {
    return {
      module: MigrationCoexistenceModule,
      providers: [SetRoutingHandler, ErpRouteHandler, BackendRoutesHandler, SetValueMapsHandler, ValueMapsHandler, RecordErpAnswerHandler, CoexistenceReport, RecordXrefHandler, EntityIdsHandler],
      controllers: settings.serveApi ? [RoutingController, MappingsController, ValueMapsController, CoexistenceController] : [],
    };
  }
}
