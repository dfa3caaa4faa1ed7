import { Module, type DynamicModule } from '@nestjs/common';
import { ChannelFulfillments } from './commands/channel-fulfillments.js';
import { ErpShipments, SHIPMENT_POLL_SETTINGS, type ShipmentPollSettings } from './commands/erp-shipments.js';
import { ShipmentsController } from './api/shipments.controller.js';
import { PARKED_SHIPMENTS_SETTINGS, ParkedShipments } from './commands/parked-shipments.js';
import { ShipmentExceptions } from './commands/shipment-exceptions.js';
import { ShipmentIntake } from './commands/shipment-intake.js';
import { Shipments, ShipmentsOfOrderHandler } from './queries/shipments.js';
import { ShipmentSearch } from './queries/shipment-search.js';

/** Shipments from the warehouse or the ERP: matched to their orders, the order's status moved, the channel told (SHIPMENTS.md). */
@Module({})
export class ShipmentsModule {
  static register(settings: { serveApi: boolean; retryParked: boolean; poll: ShipmentPollSettings }): DynamicModule {
    return {
      module: ShipmentsModule,
      providers: [ShipmentIntake, ShipmentExceptions, ShipmentSearch, ChannelFulfillments, ErpShipments, { provide: SHIPMENT_POLL_SETTINGS, useValue: settings.poll }, ParkedShipments, Shipments, ShipmentsOfOrderHandler, { provide: PARKED_SHIPMENTS_SETTINGS, useValue: { enabled: settings.retryParked } }],
      controllers: settings.serveApi ? [ShipmentsController] : [],
    };
  }
}
