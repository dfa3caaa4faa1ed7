import { Module, type DynamicModule } from '@nestjs/common';
import { CONSOLE_SETTINGS, type ConsoleSettings } from './console/console-settings.js';
import { ConsoleApi } from './console/console-api.js';
import { ConsoleController } from './console/console.controller.js';
import { OpsController } from './api/ops.controller.js';
import { ExceptionsController } from './api/exceptions.controller.js';
import { ReconciliationController } from './api/reconciliation.controller.js';
import { SloController } from './api/slo.controller.js';
import { SLO_ALERTING } from './slo-alerting.js';

/** The operations API, the console, and the check of the delay objectives. */
@Module({})
export class OpsModule {
  static register(console: ConsoleSettings): DynamicModule {
    return {
      module: OpsModule,
      controllers: [ConsoleController, OpsController, ExceptionsController, SloController, ReconciliationController],
      providers: [ConsoleApi, ...SLO_ALERTING, { provide: CONSOLE_SETTINGS, useValue: console }],
    };
  }
}
