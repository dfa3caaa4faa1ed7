import { expectShape, type Shape } from '../../answer-shape.js';
import type { ErpOrderFacts } from '../erp-contract.js';
import type { BcSalesOrder } from './business-central.client.js';
import { BLANK_GUID } from './business-central.customers.js';
import { mapped } from './business-central.prices.js';

/**
 * A sales order as Business Central holds it, in Crossdock's words, pure: what two ERPs are compared on while one
 * shadows the other (docs/COEXISTENCE.md).
 */
const SYSTEM = 'Business Central';
const ORDER_FACTS: Shape = {
  customerNumber: 'string', currencyCode: 'string?', totalAmountExcludingTax: 'number', totalTaxAmount: 'number', totalAmountIncludingTax: 'number', salesOrderLines: 'array',
};
const LINE_FACTS: Shape = {
  sequence: 'number?', lineType: 'string', lineObjectNumber: 'string?', quantity: 'number', unitPrice: 'number', amountExcludingTax: 'number', locationId: 'string?',
};
const ISO_CODE = /^[A-Z]{3}$/;

interface BcOrderTotals {
  customerNumber: string;
  currencyCode?: string | null;
  totalAmountExcludingTax: number;
  totalTaxAmount: number;
  totalAmountIncludingTax: number;
  salesOrderLines: unknown[];
}

interface BcLineFacts {
  sequence?: number;
  lineType: string;
  lineObjectNumber?: string;
  quantity: number;
  unitPrice: number;
  amountExcludingTax: number;
  locationId?: string | null;
}

/**
 * The facts of an order read with its lines (`$expand=salesOrderLines`): its totals as Business Central computed
 * them, its currency (blank: the company's local currency, `localCurrency`), and its item lines in their order, each
 * with the unitPrice Business Central applied, its amountExcludingTax (after the line's discount, before the order's
 * invoice discount, as SAP Business One's LineTotal) and its location mapped back through `locations` (Crossdock
 * warehouse to location id; null for none, or for one the map lacks). A string: why the order cannot be read so.
 */
export function bcOrderFacts(order: BcSalesOrder, localCurrency: string, locations: Readonly<Record<string, string>>): ErpOrderFacts | string {
  return mapped(() => {
    const what = `sales order ${order.number}`;
    const read = expectShape<BcOrderTotals>(SYSTEM, what, order, ORDER_FACTS);
    // Business Central's currency codes are the company's own; most name theirs as ISO does, and only those are taken.
    const currency = read.currencyCode || localCurrency;
    if (!ISO_CODE.test(currency)) return `${what} is in currency ${JSON.stringify(currency)}, which is not an ISO 4217 code`;
    const warehouseOf = new Map(Object.entries(locations).map(([warehouse, id]) => [id.toLowerCase(), warehouse]));
    const lines = read.salesOrderLines
      .map((line) => expectShape<BcLineFacts>(SYSTEM, `a line of ${what}`, line, LINE_FACTS))
      .filter((line) => line.lineType === 'Item' && line.lineObjectNumber)
      .toSorted((a, b) => (a.sequence ?? 0) - (b.sequence ?? 0));
    return {
      customerNumber: read.customerNumber,
      currency,
      lines: lines.map((line) => ({
        sku: line.lineObjectNumber!,
        quantity: line.quantity,
        unitPrice: line.unitPrice,
        warehouse: line.locationId && line.locationId !== BLANK_GUID ? (warehouseOf.get(line.locationId.toLowerCase()) ?? null) : null,
        amount: line.amountExcludingTax,
      })),
      totalExcludingTax: read.totalAmountExcludingTax,
      totalTax: read.totalTaxAmount,
      totalIncludingTax: read.totalAmountIncludingTax,
    };
  });
}
