import { Module, type DynamicModule } from '@nestjs/common';
import { CustomerSyncController } from './api/customer-sync.controller.js';
import { CustomerDirectory } from './customer-directory.js';
import { CustomerStandingHandler } from './queries/customer-standing/customer-standing.js';
import { CUSTOMER_SYNC_SETTINGS, CustomerSyncSchedule, type CustomerSyncSettings } from './customer-sync.schedule.js';

/** The customer read model, pulled from the ERP: credit status for the order intake. */
@Module({})
export class CustomersModule {
  static register(settings: CustomerSyncSettings & { serveApi: boolean }): DynamicModule {
    return {
      module: CustomersModule,
      providers: [CustomerDirectory, CustomerSyncSchedule, CustomerStandingHandler, { provide: CUSTOMER_SYNC_SETTINGS, useValue: settings }],
      controllers: settings.serveApi ? [CustomerSyncController] : [],
    };
  }
}
