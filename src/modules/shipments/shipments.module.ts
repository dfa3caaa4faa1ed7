import { Module, type DynamicModule } from '@nestjs/common';
import { ExceptionsController } from './api/exceptions.controller.js';
import { ShipmentsController } from './api/shipments.controller.js';
import { PARKED_SHIPMENTS_SETTINGS, ParkedShipments } from './commands/parked-shipments.js';
import { ShipmentIntake } from './commands/shipment-intake.js';
import { Shipments, ShipmentsOfOrderHandler } from './queries/shipments.js';

/** Shipments from the warehouse or the ERP: matched to their orders, the order's status moved, the channel told (SHIPMENTS.md). */
@Module({})
export class ShipmentsModule {
  static register(settings: { serveApi: boolean; retryParked: boolean }): DynamicModule {
    return {
      module: ShipmentsModule,
      providers: [ShipmentIntake, ParkedShipments, Shipments, ShipmentsOfOrderHandler, { provide: PARKED_SHIPMENTS_SETTINGS, useValue: { enabled: settings.retryParked } }],
      controllers: settings.serveApi ? [ShipmentsController, ExceptionsController] : [],
    };
  }
}
