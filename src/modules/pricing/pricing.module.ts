import { Module, type DynamicModule } from '@nestjs/common';
import { ShopifyPriceReads } from '../../connectors/channels/shopify/shopify-price-reads.js';
import { PricingController } from './api/pricing.controller.js';
import { PriceIntake } from './commands/price-intake.js';
import { PricePublisher } from './commands/price-publisher.js';
import { PRICE_SETTINGS, PriceSchedules, type PriceSettings } from './commands/price-schedules.js';
import { EffectivePricesHandler, PriceLookup, PriceMismatchesHandler } from './queries/price-lookup.js';
import { ErpPricesReconciler } from './reconcile/erp-prices-reconciler.js';
import { StorePricesReconciler } from './reconcile/store-prices-reconciler.js';

/** Prices from the ERP and source systems; one effective price per channel and customer; changes published newest-first. */
@Module({})
export class PricingModule {
  static register(settings: { serveApi: boolean } & PriceSettings): DynamicModule {
    const { serveApi, ...schedules } = settings;
    return {
      module: PricingModule,
      providers: [
        PriceIntake, PricePublisher, PriceSchedules, PriceLookup, EffectivePricesHandler, PriceMismatchesHandler, { provide: PRICE_SETTINGS, useValue: schedules },
        // Reconciliation with the ERP and the stores, in every role: on demand anywhere, on schedule on workers (docs/PRICING.md).
        ErpPricesReconciler, StorePricesReconciler, ShopifyPriceReads,
      ],
      controllers: serveApi ? [PricingController] : [],
    };
  }
}
