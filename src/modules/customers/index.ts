export { CustomerStandingQuery, type CustomerStanding } from './queries/customer-standing/customer-standing.js';
export { CustomersSynced } from './events/customers-synced.js';
export { CUSTOMER_CHANGED, type CustomerChanged } from './events/customer-changed.js';
export { ChangeCustomerCommand } from './commands/change-customer.js';
export type { Address, CustomerFields } from './domain/customer.js';
