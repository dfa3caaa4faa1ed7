import { Module } from '@nestjs/common';
import { ConsoleApi } from './console/console-api.js';
import { ConsoleController } from './console/console.controller.js';
import { OpsController } from './api/ops.controller.js';
import { ExceptionsController } from './api/exceptions.controller.js';

@Module({ controllers: [ConsoleController, OpsController, ExceptionsController], providers: [ConsoleApi] })
export class OpsModule {}
