import { Module } from '@nestjs/common';
import { ConsoleController } from './console/console.controller.js';
import { OpsController } from './api/ops.controller.js';

@Module({ controllers: [ConsoleController, OpsController] })
export class OpsModule {}
