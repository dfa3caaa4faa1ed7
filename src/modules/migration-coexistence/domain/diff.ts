/**
 * What two ERPs answered for the same transaction, compared field by field (docs/COEXISTENCE.md, "Shadow answers
 * and diffs"). Pure: ids, references and times are noise and are never compared; amounts agree within a tolerance.
 */

/** An order as an ERP holds it (the connectors' ErpOrderFacts, in this module's words). */
export interface OrderFacts {
  customerNumber: string;
  currency: string;
  lines: Array<{ sku: string; quantity: number; unitPrice: number; amount: number; warehouse?: string | null }>;
  totalExcludingTax: number;
  totalTax: number;
  totalIncludingTax: number;
}

/** What an ERP holds as shipped of an order once a shipment is posted, per item (the connectors' ErpShipmentFacts). */
export interface ShipmentFacts {
  lines: Array<{ sku: string; quantity: number }>;
}

/** A snapshot's record, field by field (a customer, a stock position, a price). */
export type RecordFacts = Record<string, unknown>;

export const MISMATCH_CATEGORIES = ['missing', 'line', 'quantity', 'price', 'total', 'tax', 'field', 'stock'] as const;
export type MismatchCategory = (typeof MISMATCH_CATEGORIES)[number];

export interface Mismatch {
  category: MismatchCategory;
  /** The field, in canonical words (`lines[1896-S].unitPrice`, `totalTax`, `blocked`). */
  field: string;
  primary: unknown;
  shadow: unknown;
}

/** Amounts that differ by no more than this are the same (rounding). */
export const DEFAULT_AMOUNT_TOLERANCE = 0.01;

const near = (a: number, b: number, tolerance: number) => Math.abs(a - b) <= tolerance + 1e-9;

/**
 * The mismatches of two ERPs' answers to one order: a line only one has (`line`), a line's quantity (`quantity`) or
 * unit price (`price`), the line amounts and total before tax (`total`), the tax (`tax`), and the customer or currency
 * (`field`). Lines are matched by SKU, and warehouse where both name it; a SKU on several lines is compared on its sums.
 */
export function compareOrders(primary: OrderFacts, shadow: OrderFacts, tolerance = DEFAULT_AMOUNT_TOLERANCE): Mismatch[] {
  const out: Mismatch[] = [];
  for (const field of ['customerNumber', 'currency'] as const) {
    if (primary[field].trim().toUpperCase() !== shadow[field].trim().toUpperCase()) out.push({ category: 'field', field, primary: primary[field], shadow: shadow[field] });
  }
  // Lines are told apart by warehouse only where both ERPs name every line's (a backend without a location map does not).
  const byWarehouse = [...primary.lines, ...shadow.lines].every((line) => line.warehouse);
  const a = linesByKey(primary.lines, byWarehouse);
  const b = linesByKey(shadow.lines, byWarehouse);
  for (const key of [...new Set([...a.keys(), ...b.keys()])].sort()) {
    const left = a.get(key);
    const right = b.get(key);
    if (!left || !right) {
      out.push({ category: 'line', field: `lines[${key}]`, primary: left ?? null, shadow: right ?? null });
      continue;
    }
    if (!near(left.quantity, right.quantity, 1e-6)) out.push({ category: 'quantity', field: `lines[${key}].quantity`, primary: left.quantity, shadow: right.quantity });
    if (!near(left.unitPrice, right.unitPrice, tolerance)) out.push({ category: 'price', field: `lines[${key}].unitPrice`, primary: left.unitPrice, shadow: right.unitPrice });
    else if (!near(left.amount, right.amount, tolerance)) out.push({ category: 'total', field: `lines[${key}].amount`, primary: left.amount, shadow: right.amount });
  }
  if (!near(primary.totalExcludingTax, shadow.totalExcludingTax, tolerance)) out.push({ category: 'total', field: 'totalExcludingTax', primary: primary.totalExcludingTax, shadow: shadow.totalExcludingTax });
  if (!near(primary.totalTax, shadow.totalTax, tolerance)) out.push({ category: 'tax', field: 'totalTax', primary: primary.totalTax, shadow: shadow.totalTax });
  return out;
}

/** Per line key (SKU, and warehouse where both sides name it): the summed quantity and amount, the unit price weighted by quantity. */
function linesByKey(lines: OrderFacts['lines'], byWarehouse: boolean): Map<string, { quantity: number; unitPrice: number; amount: number }> {
  const byKey = new Map<string, { quantity: number; value: number; amount: number }>();
  for (const line of lines) {
    const key = byWarehouse ? `${line.sku}@${line.warehouse}` : line.sku;
    const sum = byKey.get(key) ?? { quantity: 0, value: 0, amount: 0 };
    sum.quantity += line.quantity;
    sum.value += line.quantity * line.unitPrice;
    sum.amount += line.amount;
    byKey.set(key, sum);
  }
  return new Map([...byKey].map(([key, s]) => [key, { quantity: s.quantity, unitPrice: s.quantity === 0 ? 0 : s.value / s.quantity, amount: s.amount }]));
}

/**
 * The mismatches of two ERPs' answers to one shipment's posting: an item one holds as shipped and the other not
 * (`line`), or in another quantity (`quantity`). Lines are matched by SKU, their quantities summed; nothing shipped
 * is the same as no line.
 */
export function compareShipments(primary: ShipmentFacts, shadow: ShipmentFacts): Mismatch[] {
  const a = shippedBySku(primary.lines);
  const b = shippedBySku(shadow.lines);
  const out: Mismatch[] = [];
  for (const sku of [...new Set([...a.keys(), ...b.keys()])].sort()) {
    const left = a.get(sku);
    const right = b.get(sku);
    if (left === undefined || right === undefined) {
      out.push({ category: 'line', field: `lines[${sku}]`, primary: left === undefined ? null : { quantity: left }, shadow: right === undefined ? null : { quantity: right } });
    } else if (!near(left, right, 1e-6)) out.push({ category: 'quantity', field: `lines[${sku}].quantity`, primary: left, shadow: right });
  }
  return out;
}

function shippedBySku(lines: ShipmentFacts['lines']): Map<string, number> {
  const sums = new Map<string, number>();
  for (const line of lines) sums.set(line.sku, (sums.get(line.sku) ?? 0) + line.quantity);
  return new Map([...sums].filter(([, quantity]) => !near(quantity, 0, 1e-6)));
}

/**
 * The mismatches of two ERPs' records of one thing (a customer's fields, a stock position, a price): each field
 * either side names, compared as values (numbers within the tolerance, text trimmed; null and blank alike). A stock
 * figure's mismatch is `stock`; any other, `field`.
 */
export function compareRecords(primary: RecordFacts, shadow: RecordFacts, options: { category?: MismatchCategory; tolerance?: number } = {}): Mismatch[] {
  const tolerance = options.tolerance ?? DEFAULT_AMOUNT_TOLERANCE;
  const out: Mismatch[] = [];
  for (const field of [...new Set([...Object.keys(primary), ...Object.keys(shadow)])].sort()) {
    const left = primary[field];
    const right = shadow[field];
    if (!sameValue(left, right, tolerance)) out.push({ category: options.category ?? 'field', field, primary: left ?? null, shadow: right ?? null });
  }
  return out;
}

function sameValue(a: unknown, b: unknown, tolerance: number): boolean {
  const blank = (v: unknown) => v === null || v === undefined || (typeof v === 'string' && v.trim() === '');
  if (blank(a) || blank(b)) return blank(a) && blank(b);
  if (typeof a === 'number' && typeof b === 'number') return near(a, b, tolerance);
  if (typeof a === 'string' && typeof b === 'string') return a.trim() === b.trim();
  if (typeof a === 'object' && typeof b === 'object') {
    const keys = new Set([...Object.keys(a as object), ...Object.keys(b as object)]);
    return [...keys].every((k) => sameValue((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], tolerance));
  }
  return a === b;
}

/** The readiness verdict of a domain: enough transactions compared in the window, and enough of them matching. */
export interface Readiness {
  threshold: number;
  windowHours: number;
  minTransactions: number;
}

export function readinessVerdict(rule: Readiness, compared: number, matched: number): { ready: boolean; matchRate: number | null; reason: string } {
  const matchRate = compared === 0 ? null : matched / compared;
  if (compared < rule.minTransactions) {
    return { ready: false, matchRate, reason: `${compared} transactions compared in the last ${rule.windowHours} h; at least ${rule.minTransactions} are needed` };
  }
  const ready = (matchRate ?? 0) >= rule.threshold;
  const rate = `${((matchRate ?? 0) * 100).toFixed(1)}%`;
  return { ready, matchRate, reason: ready ? `match rate ${rate} meets ${rule.threshold * 100}%` : `match rate ${rate} is below ${rule.threshold * 100}%` };
}
