import { Module, type DynamicModule } from '@nestjs/common';
import { OrdersOpsController } from './api/orders-ops.controller.js';
import { OrdersController } from './api/orders.controller.js';
import { ShopifyWebhooksController } from './api/shopify-webhooks.controller.js';
import { AcceptOrder } from './commands/accept-order/accept-order.js';
import { ApiOrderIntake } from './commands/accept-order/api-order-intake.js';
import { CancelOrder, ORDERS_SETTINGS, type OrdersSettings } from './commands/cancel-order/cancel-order.js';
import { OrderStatusLog } from './commands/order-status-log.js';
import { LiftCreditHolds, ReleaseOrder } from './commands/release-order/release-order.js';
import { ErpSubmission } from './commands/submit-to-erp/erp-submission.js';
import { OrderQuery } from './queries/order-query.js';
import { OrderForShipmentHandler } from './queries/order-for-shipment/order-for-shipment.js';
import { RecordShippingHandler } from './commands/record-shipping/record-shipping.js';
import { OrderSearch } from './queries/order-search.js';
import { ErpOrdersReconciler } from './reconcile/erp-orders-reconciler.js';

/** Orders from the channels to the ERP: intake, customer check, warehouse split, submission, status, cancel, reconciliation with the ERP. */
@Module({})
export class OrdersModule {
  static register(settings: OrdersSettings & { serveApi: boolean }): DynamicModule {
    return {
      module: OrdersModule,
      providers: [
        { provide: ORDERS_SETTINGS, useValue: settings },
        OrderStatusLog, ErpSubmission, AcceptOrder, ApiOrderIntake, CancelOrder, ReleaseOrder, LiftCreditHolds, OrderQuery, OrderForShipmentHandler, RecordShippingHandler, OrderSearch, ErpOrdersReconciler,
      ],
      controllers: settings.serveApi ? [OrdersController, OrdersOpsController, ShopifyWebhooksController] : [],
      exports: [AcceptOrder, CancelOrder, OrderQuery],
    };
  }
}
