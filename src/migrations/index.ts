import { Migration20261127000000Foundation } from './Migration20261127000000Foundation.js';
import { Migration20261127010000Messaging } from './Migration20261127010000Messaging.js';
import { Migration20261127020000Orders } from './Migration20261127020000Orders.js';
import { Migration20261127030000Inventory } from './Migration20261127030000Inventory.js';
import { Migration20261201000000StateQueue } from './Migration20261201000000StateQueue.js';
import { Migration20261202000000DeliveredStates } from './Migration20261202000000DeliveredStates.js';
import { Migration20261202010000Instances } from './Migration20261202010000Instances.js';
import { Migration20261202020000Shipments } from './Migration20261202020000Shipments.js';
import { Migration20261205000000ReservedTotals } from './Migration20261205000000ReservedTotals.js';
import { Migration20261205010000ShippedReservations } from './Migration20261205010000ShippedReservations.js';
import { Migration20261205020000ShipmentSync } from './Migration20261205020000ShipmentSync.js';
import { Migration20261205030000Pricing } from './Migration20261205030000Pricing.js';
import { Migration20261205040000Customers } from './Migration20261205040000Customers.js';
import { Migration20261205050000CustomerExceptions } from './Migration20261205050000CustomerExceptions.js';
import { Migration20261205060000CoexistenceValueMaps } from './Migration20261205060000CoexistenceValueMaps.js';
import { Migration20261205070000CoexistenceDiffs } from './Migration20261205070000CoexistenceDiffs.js';
import { Migration20261205080000EntityXref } from './Migration20261205080000EntityXref.js';
import { Migration20261205090000Operators } from './Migration20261205090000Operators.js';
import { Migration20261206010000TraceContext } from './Migration20261206010000TraceContext.js';
import { Migration20261206020000SloBreaches } from './Migration20261206020000SloBreaches.js';
import { Migration20261206030000ShipmentXref } from './Migration20261206030000ShipmentXref.js';
import { Migration20261206040000ConsoleSessions } from './Migration20261206040000ConsoleSessions.js';

/** Every migration, in order. Listed explicitly so that the compiled service needs no file discovery. */
export const MIGRATIONS = [
  { name: 'Migration20261127000000Foundation', class: Migration20261127000000Foundation },
  { name: 'Migration20261127010000Messaging', class: Migration20261127010000Messaging },
  { name: 'Migration20261127020000Orders', class: Migration20261127020000Orders },
  { name: 'Migration20261127030000Inventory', class: Migration20261127030000Inventory },
  { name: 'Migration20261201000000StateQueue', class: Migration20261201000000StateQueue },
  { name: 'Migration20261202000000DeliveredStates', class: Migration20261202000000DeliveredStates },
  { name: 'Migration20261202010000Instances', class: Migration20261202010000Instances },
  { name: 'Migration20261202020000Shipments', class: Migration20261202020000Shipments },
  { name: 'Migration20261205000000ReservedTotals', class: Migration20261205000000ReservedTotals },
  { name: 'Migration20261205010000ShippedReservations', class: Migration20261205010000ShippedReservations },
  { name: 'Migration20261205020000ShipmentSync', class: Migration20261205020000ShipmentSync },
  { name: 'Migration20261205030000Pricing', class: Migration20261205030000Pricing },
  { name: 'Migration20261205040000Customers', class: Migration20261205040000Customers },
  { name: 'Migration20261205050000CustomerExceptions', class: Migration20261205050000CustomerExceptions },
  { name: 'Migration20261205060000CoexistenceValueMaps', class: Migration20261205060000CoexistenceValueMaps },
  { name: 'Migration20261205070000CoexistenceDiffs', class: Migration20261205070000CoexistenceDiffs },
  { name: 'Migration20261205080000EntityXref', class: Migration20261205080000EntityXref },
  { name: 'Migration20261205090000Operators', class: Migration20261205090000Operators },
  { name: 'Migration20261206010000TraceContext', class: Migration20261206010000TraceContext },
  { name: 'Migration20261206020000SloBreaches', class: Migration20261206020000SloBreaches },
  { name: 'Migration20261206030000ShipmentXref', class: Migration20261206030000ShipmentXref },
  { name: 'Migration20261206040000ConsoleSessions', class: Migration20261206040000ConsoleSessions },
];
