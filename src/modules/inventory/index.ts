export { InventoryModule } from './inventory.module.js';
export { StockReservations, type ReservedLine } from './commands/stock-reservations.js';
export { StockIntake, type IntakeCounts, type LevelItem } from './commands/stock-intake.js';
export { AVAILABILITY_CHANGED, type AvailabilityChanged } from './events/availability-changed.js';
export { availableToSell } from './domain/available-to-sell.js';
