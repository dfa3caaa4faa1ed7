import { Module } from '@nestjs/common';
import { ConsoleApi } from './console/console-api.js';
import { ConsoleController } from './console/console.controller.js';
import { OpsController } from './api/ops.controller.js';
import { ExceptionsController } from './api/exceptions.controller.js';
import { ReconciliationController } from './api/reconciliation.controller.js';
import { SloController } from './api/slo.controller.js';
import { SLO_ALERTING } from './slo-alerting.js';

@Module({ controllers: [ConsoleController, OpsController, ExceptionsController, SloController, ReconciliationController], providers: [ConsoleApi, ...SLO_ALERTING] })
export class OpsModule {}
