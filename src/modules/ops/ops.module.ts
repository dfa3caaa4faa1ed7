import { Module } from '@nestjs/common';
import { ConsoleController } from './console/console.controller.js';

@Module({ controllers: [ConsoleController] })
export class OpsModule {}
