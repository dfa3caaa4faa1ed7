import { expectShape, type Shape } from '../../answer-shape.js';
import type { ErpOrderFacts } from '../erp-contract.js';
import type { SapOrder } from './sap-b1.client.js';
import { isoCurrency, type CurrencyTable } from './sap-b1.currencies.js';
import { mapped } from './sap-b1.prices.js';

/**
 * A sales order as SAP Business One holds it, in Crossdock's words, pure: what two ERPs are compared on while one
 * shadows the other (docs/COEXISTENCE.md).
 */
const SYSTEM = 'SAP Business One';
const ORDER_FACTS: Shape = { CardCode: 'string', DocCurrency: 'string', DocTotal: 'number', VatSum: 'number', DocumentLines: 'array' };
const LINE_FACTS: Shape = { ItemCode: 'string', Quantity: 'number', UnitPrice: 'number', LineTotal: 'number', WarehouseCode: 'string?' };

interface SapOrderTotals {
  DocNum: number;
  CardCode: string;
  DocCurrency: string;
  DocTotal: number;
  VatSum: number;
  DocumentLines: unknown[];
}

interface SapLineFacts {
  ItemCode: string;
  Quantity: number;
  UnitPrice: number;
  LineTotal: number;
  WarehouseCode?: string | null;
}

/**
 * The facts of an order read with its currency, totals and lines: DocTotal (tax included) and VatSum as SAP computed
 * them, the total before tax their difference; DocCurrency through the backend's table (`currencies`) to ISO; each
 * line's UnitPrice (the price before the line's discount, as Business Central's unitPrice) and LineTotal (after it,
 * before the document's discount), and its WarehouseCode mapped back through `warehouseCodes` (Crossdock warehouse to
 * SAP code; null for one the map lacks). A string: why the order cannot be read so, a currency the table cannot name among them.
 */
export function sapOrderFacts(order: SapOrder, currencies: CurrencyTable, warehouseCodes: Readonly<Record<string, string>>): ErpOrderFacts | string {
  return mapped(() => {
    const read = expectShape<SapOrderTotals>(SYSTEM, `order ${order.DocNum}`, order, ORDER_FACTS);
    const currency = isoCurrency(currencies, read.DocCurrency);
    if (!currency) return `order ${read.DocNum} is in currency ${JSON.stringify(read.DocCurrency)}, which the currency table cannot name`;
    const warehouseOf = new Map(Object.entries(warehouseCodes).map(([warehouse, code]) => [code, warehouse]));
    const lines = read.DocumentLines.map((line) => expectShape<SapLineFacts>(SYSTEM, `a line of order ${read.DocNum}`, line, LINE_FACTS));
    return {
      customerNumber: read.CardCode,
      currency,
      lines: lines.map((line) => ({
        sku: line.ItemCode,
        quantity: line.Quantity,
        unitPrice: line.UnitPrice,
        warehouse: (line.WarehouseCode ? warehouseOf.get(line.WarehouseCode) : undefined) ?? null,
        amount: line.LineTotal,
      })),
      // Amounts are in cents: keep a binary fraction of the difference from showing.
      totalExcludingTax: Math.round((read.DocTotal - read.VatSum) * 100) / 100,
      totalTax: read.VatSum,
      totalIncludingTax: read.DocTotal,
    };
  });
}
