export { CustomersModule } from './customers.module.js';
export { CustomerDirectory, type CustomerRecord } from './customer-directory.js';
export { CustomersSynced } from './events/customers-synced.js';
