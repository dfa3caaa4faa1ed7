import { Module, type DynamicModule } from '@nestjs/common';
import { ConfigurationModule } from '../configuration/index.js';
import { InventoryController } from './api/inventory.controller.js';
import { AvailabilityPublisher } from './commands/availability-publisher.js';
import { StockIntake } from './commands/stock-intake.js';
import { StockReservations } from './commands/stock-reservations.js';
import { InventoryQuery } from './queries/inventory-query.js';

/** Stock positions to each channel's available-to-sell, published within a second, never stale. */
@Module({})
export class InventoryModule {
  static register(settings: { serveApi: boolean }): DynamicModule {
    return {
      module: InventoryModule,
      global: true,
      imports: [ConfigurationModule],
      providers: [AvailabilityPublisher, StockIntake, StockReservations, InventoryQuery],
      controllers: settings.serveApi ? [InventoryController] : [],
      exports: [StockReservations, StockIntake],
    };
  }
}
