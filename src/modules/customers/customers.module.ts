import { Module, type DynamicModule } from '@nestjs/common';
import { ShopifyCustomerReads } from '../../connectors/channels/shopify/shopify-customer-reads.js';
import { CustomerSyncController } from './api/customer-sync.controller.js';
import { CustomersController } from './api/customers.controller.js';
import { ErpWebhooksController } from './api/erp-webhooks.controller.js';
import { ERP_NOTIFICATION_SETTINGS, ErpCustomerNotifications, type ErpNotificationSettings } from './erp-customer-notifications.js';
import { ChangeCustomerHandler } from './commands/change-customer.js';
import { CustomerExceptions } from './commands/customer-exceptions.js';
import { CustomerRecords } from './commands/customer-records.js';
import { CustomerDirectory } from './customer-directory.js';
import { CustomerStandingHandler } from './queries/customer-standing/customer-standing.js';
import { CUSTOMER_SYNC_SETTINGS, CustomerSyncSchedule, type CustomerSyncSettings } from './customer-sync.schedule.js';
import { CustomerSearch } from './queries/customer-search.js';
import { ErpCustomersReconciler } from './reconcile/erp-customers-reconciler.js';
import { StoreCustomersReconciler } from './reconcile/store-customers-reconciler.js';
import { SubscriberCustomersReconciler } from './reconcile/subscriber-customers-reconciler.js';

/** The canonical customer, changed by the ERP, channels and a CRM under field ownership; and the intake's read model of credit status. */
@Module({})
export class CustomersModule {
  static register(settings: CustomerSyncSettings & { serveApi: boolean; notifications: ErpNotificationSettings }): DynamicModule {
    return {
      module: CustomersModule,
      providers: [CustomerDirectory, CustomerRecords, CustomerExceptions, CustomerSearch, ChangeCustomerHandler, CustomerSyncSchedule, CustomerStandingHandler, ErpCustomerNotifications, ErpCustomersReconciler, StoreCustomersReconciler, SubscriberCustomersReconciler, ShopifyCustomerReads,
        { provide: CUSTOMER_SYNC_SETTINGS, useValue: settings }, { provide: ERP_NOTIFICATION_SETTINGS, useValue: settings.notifications }],
      controllers: settings.serveApi ? [CustomerSyncController, CustomersController, ErpWebhooksController] : [],
    };
  }
}
