import { Module, type DynamicModule } from '@nestjs/common';
import { InventoryController } from './api/inventory.controller.js';
import { AvailabilityPublisher } from './commands/availability-publisher.js';
import { ErpStockPoller, STOCK_POLL_SETTINGS, type StockPollSettings } from './commands/erp-stock-poller.js';
import {
  ConfirmStockReservationHandler, EndStockReservationHandler, ReserveStockHandler, SellableStockHandler, ShipStockReservationHandler, StockReservations,
} from './commands/reserve-stock/stock-reservations.js';
import { StockIntake } from './commands/stock-intake.js';
import { InventoryQuery } from './queries/inventory-query.js';
import { SkuSearch } from './queries/sku-search.js';

/** Stock positions to each channel's available-to-sell, published within a second, never stale. */
@Module({})
export class InventoryModule {
  static register(settings: { serveApi: boolean; poll: StockPollSettings }): DynamicModule {
    return {
      module: InventoryModule,
      providers: [
        AvailabilityPublisher, StockIntake, StockReservations, InventoryQuery, ErpStockPoller, SkuSearch, { provide: STOCK_POLL_SETTINGS, useValue: settings.poll },
        SellableStockHandler, ReserveStockHandler, EndStockReservationHandler, ConfirmStockReservationHandler, ShipStockReservationHandler,
      ],
      controllers: settings.serveApi ? [InventoryController] : [],
    };
  }
}
