export { OrdersModule } from './orders.module.js';
export { ORDER_STATUS_CHANGED, type OrderStatusChanged } from './events/order-status-changed.js';
export { ORDER_STATUSES, type OrderStatus } from './domain/order-status.js';
