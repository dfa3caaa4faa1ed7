import { Module, type DynamicModule } from '@nestjs/common';
import { ConfigurationModule } from '../configuration/index.js';
import { CustomerSyncController } from './api/customer-sync.controller.js';
import { CustomerDirectory } from './customer-directory.js';
import { CUSTOMER_SYNC_SETTINGS, CustomerSyncSchedule, type CustomerSyncSettings } from './customer-sync.schedule.js';

/** The customer read model, pulled from the ERP: credit status for the order intake. */
@Module({})
export class CustomersModule {
  static register(settings: CustomerSyncSettings & { serveApi: boolean }): DynamicModule {
    return {
      module: CustomersModule,
      global: true,
      imports: [ConfigurationModule],
      providers: [CustomerDirectory, CustomerSyncSchedule, { provide: CUSTOMER_SYNC_SETTINGS, useValue: settings }],
      controllers: settings.serveApi ? [CustomerSyncController] : [],
      exports: [CustomerDirectory],
    };
  }
}
