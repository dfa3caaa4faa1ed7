export { ORDER_STATUS_CHANGED, type OrderStatusChanged } from './events/order-status-changed.js';
export type { OrderStatus } from './domain/order-status.js';
