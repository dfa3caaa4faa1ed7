export { ChannelFulfillmentReported } from './events/channel-fulfillment-reported.js';
export { ORDER_STATUS_CHANGED, type OrderStatusChanged } from './events/order-status-changed.js';
export type { OrderStatus } from './domain/order-status.js';
export { RecordShippingCommand } from './commands/record-shipping/record-shipping.js';
export { OrderForShipmentQuery, type OrderForShipment, type OrderReference } from './queries/order-for-shipment/order-for-shipment.js';
