export { SHIPMENT_CREATED, SHIPMENT_UPDATED, type ShipmentChanged } from './events/shipment-changed.js';
export { ShipmentsOfOrderQuery, type ShipmentView } from './queries/shipments.js';
