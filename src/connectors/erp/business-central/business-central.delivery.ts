import type { CustomerPull, ErpCancelResult, ErpConnector, ErpCreateResult, ErpSalesOrder, GovernedCall, StockChanges } from '../erp-contract.js';
import { BusinessCentralClient, type SalesOrderInput } from './business-central.client.js';
import type { BusinessCentralConfig } from './business-central.config.js';

/** Crossdock's ERP contract on Business Central API v2.0: the delivery adapter of kind `business-central`. */
export class BusinessCentralErp implements ErpConnector {
  private readonly client: BusinessCentralClient;

  constructor(private readonly config: BusinessCentralConfig) {
    this.client = new BusinessCentralClient(config);
  }

  async createSalesOrder(order: ErpSalesOrder, signal: AbortSignal): Promise<ErpCreateResult> {
    const { order: stored, created } = await this.client.ensureSalesOrder(this.toSalesOrder(order), signal);
    return { erpOrderRef: stored.number, erpOrderId: stored.id, created };
  }

  async cancelSalesOrder(externalDocumentNumber: string, signal: AbortSignal): Promise<ErpCancelResult> {
    const order = await this.client.findSalesOrder(externalDocumentNumber, signal);
    if (!order) return { deleted: false };
    await this.client.deleteSalesOrder(order.id, order['@odata.etag'] ?? '*', signal);
    return { deleted: true, erpOrderRef: order.number };
  }

  /**
   * Every customer with its balance, read with the list (`$expand=customerFinancialDetail`), one request a page.
   * A customer with a credit limit whose balance cannot be read is left out, its last figures kept, and said.
   */
  async customers(call: GovernedCall): Promise<CustomerPull> {
    const { value } = await call((signal) => this.client.listCustomers(signal));
    const pull: CustomerPull = { customers: [], rejected: [] };
    for (const customer of value) {
      const creditLimit = customer.creditLimit ?? 0;
      const balance = customer.customerFinancialDetail?.balance;
      if (creditLimit > 0 && typeof balance !== 'number') {
        pull.rejected.push({ number: customer.number, problem: `its credit limit needs a balance, and customerFinancialDetail had ${balance === undefined ? 'none' : JSON.stringify(balance)}` });
        continue;
      }
      pull.customers.push({ erpId: customer.id, number: customer.number, name: customer.displayName ?? customer.number, blocked: customer.blocked ?? '', creditLimit, balanceDue: typeof balance === 'number' ? balance : 0 });
    }
    return pull;
  }

  /**
   * For the warehouses the configuration maps to locations: on-hand from the ledger, and reserved as what the
   * open sales orders hold, so that a figure includes every order the ERP has. An item is read when it changed
   * or was posted since, or when what its open orders hold differs from `lastReserved`.
   */
  async stockSince(call: GovernedCall, since: Date | undefined, lastReserved: ReadonlyMap<string, Readonly<Record<string, number>>>): Promise<StockChanges> {
    const mapped = Object.entries(this.config.locationCodes ?? {});
    if (mapped.length === 0) return { levels: [], through: since };
    let through = since?.getTime() ?? 0;
    const toRead = new Set<string>();
    const seen = (number: string, at: string | undefined) => {
      toRead.add(number);
      if (at) through = Math.max(through, Date.parse(at));
    };
    for (const item of await call((signal) => this.client.itemsChangedSince(since, signal))) seen(item.number, item.lastModifiedDateTime);
    if (since) for (const [number, at] of await call((signal) => this.client.itemsPostedSince(since, signal))) seen(number, at);
    // Open orders, by Crossdock warehouse: a line's location id, through the location's code.
    const codeOf = new Map((await call((signal) => this.client.listLocations(signal))).map((l) => [l.id, l.code]));
    const warehouseOf = new Map(mapped.map(([warehouse, code]) => [code, warehouse]));
    const open = await call((signal) => this.client.openOrderQuantities(signal));
    if (open.newestChange) through = Math.max(through, Date.parse(open.newestChange));
    const reserved = new Map<string, Record<string, number>>();
    for (const [number, byLocation] of open.quantities) {
      for (const [locationId, quantity] of byLocation) {
        const warehouse = warehouseOf.get(locationId === '' ? '' : (codeOf.get(locationId) ?? '\u0000'));
        if (warehouse === undefined) continue;
        reserved.set(number, { ...reserved.get(number), [warehouse]: (reserved.get(number)?.[warehouse] ?? 0) + quantity });
      }
    }
    for (const number of new Set([...reserved.keys(), ...lastReserved.keys()])) {
      if (mapped.some(([warehouse]) => (reserved.get(number)?.[warehouse] ?? 0) !== (lastReserved.get(number)?.[warehouse] ?? 0))) toRead.add(number);
    }
    const numbers = [...toRead];
    if (numbers.length === 0) return { levels: [], through: through > 0 ? new Date(through) : undefined };
    const onHand = await call((signal) => this.client.inventoryByLocation(numbers, signal));
    const levels = numbers.flatMap((number) => mapped.map(([warehouse, code]) => ({
      sku: number, warehouse, onHand: onHand.get(number)?.get(code) ?? 0, reserved: reserved.get(number)?.[warehouse] ?? 0,
    })));
    return { levels, through: through > 0 ? new Date(through) : undefined };
  }

  private toSalesOrder(order: ErpSalesOrder): SalesOrderInput {
    const locations = this.config.locations ?? {};
    return {
      externalDocumentNumber: order.externalDocumentNumber,
      customerNumber: order.customerNumber,
      orderDate: order.orderDate,
      lines: order.lines.map((line) => ({
        lineObjectNumber: line.lineObjectNumber,
        quantity: line.quantity,
        unitPrice: line.unitPrice,
        ...(line.warehouse && locations[line.warehouse] ? { locationId: locations[line.warehouse] } : {}),
      })),
    };
  }
}
