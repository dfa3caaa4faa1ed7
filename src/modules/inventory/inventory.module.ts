import { Module, type DynamicModule } from '@nestjs/common';
import { ShopifyInventoryReads } from '../../connectors/channels/shopify/shopify-inventory-reads.js';
import { InventoryController } from './api/inventory.controller.js';
import { AvailabilityPublisher } from './commands/availability-publisher.js';
import { CheckStoreLevelHandler } from './commands/check-store-level/check-store-level.js';
import { ErpStockPoller, STOCK_POLL_SETTINGS, type StockPollSettings } from './commands/erp-stock-poller.js';
import {
  ConfirmStockReservationHandler, EndStockReservationHandler, ReserveStockHandler, SellableStockHandler, ShipStockReservationHandler, StockReservations,
} from './commands/reserve-stock/stock-reservations.js';
import { StockIntake } from './commands/stock-intake.js';
import { InventoryQuery } from './queries/inventory-query.js';
import { SkuSearch } from './queries/sku-search.js';
import { ErpStockReconciler } from './reconcile/erp-stock-reconciler.js';
import { InventoryReconciler } from './reconcile/inventory-reconciler.js';
import { StoreLevelChecks } from './reconcile/store-level-checks.js';

/** Stock positions to each channel's available-to-sell, published within a second, never stale. */
@Module({})
export class InventoryModule {
  static register(settings: { serveApi: boolean; poll: StockPollSettings }): DynamicModule {
    return {
      module: InventoryModule,
      providers: [
        AvailabilityPublisher, StockIntake, StockReservations, InventoryQuery, ErpStockPoller, SkuSearch, { provide: STOCK_POLL_SETTINGS, useValue: settings.poll },
        SellableStockHandler, ReserveStockHandler, EndStockReservationHandler, ConfirmStockReservationHandler, ShipStockReservationHandler,
        // Reconciliation with the stores and the ERP, in every role: on demand anywhere, on schedule on workers (docs/INVENTORY.md).
        InventoryReconciler, StoreLevelChecks, CheckStoreLevelHandler, ShopifyInventoryReads, ErpStockReconciler,
      ],
      controllers: settings.serveApi ? [InventoryController] : [],
    };
  }
}
