export {
  ConfirmStockReservationCommand, EndStockReservationCommand, ReserveStockCommand, ShipStockReservationCommand, type OrderReservation,
} from './commands/reserve-stock/stock-reservations.js';
export { CheckStoreLevelCommand, type StoreLevel } from './commands/check-store-level/check-store-level.js';
export { SellableStockQuery, type ReservedLine, type SellableStock } from './queries/sellable-stock/sellable-stock.js';
export { AVAILABILITY_CHANGED, type AvailabilityChanged } from './events/availability-changed.js';
