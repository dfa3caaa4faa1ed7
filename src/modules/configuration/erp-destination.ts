import { Injectable, type OnModuleInit } from '@nestjs/common';
import { MikroORM } from '@mikro-orm/postgresql';
import type { Sql } from '../../platform/database/transaction.js';
import { BusinessCentralClient, type SalesOrderInput } from '../../connectors/erp/business-central/business-central.client.js';
import type { BusinessCentralConfig } from '../../connectors/erp/business-central/business-central.config.js';
import { Destinations, type DestinationHandler } from '../../platform/delivery/destinations.js';
import { TargetError } from '../../platform/delivery/outcome.js';
import { Governor } from '../../platform/governor/governor.js';
import type { TargetLimits } from '../../platform/governor/decide.js';
import type { MaintenanceWindow } from '../../platform/governor/maintenance-window.js';
import type { Delivery } from '../../platform/outbox/message.js';
import type { RoutingDomain } from './domain/routing.js';
import { ErpBackendEntity } from './entities/erp-backend.entity.js';

/**
 * The ERP operations a message type asks for. `erp.sales-order.create` carries an ErpSalesOrder;
 * `erp.sales-order.cancel` carries `{externalDocumentNumber}`.
 */
export const ERP_MESSAGE_TYPES = { createSalesOrder: 'erp.sales-order.create', cancelSalesOrder: 'erp.sales-order.cancel' } as const;

/** A sales order as Crossdock sends it to any ERP: lines name Crossdock's warehouse, mapped per backend. */
export interface ErpSalesOrder {
  /** Crossdock's order reference, the ERP's idempotency key (Business Central's externalDocumentNumber). */
  externalDocumentNumber: string;
  customerNumber: string;
  orderDate?: string;
  lines: Array<{ lineObjectNumber: string; quantity: number; unitPrice: number; warehouse?: string | null }>;
}

/** What the ERP answered to a create: its own number and id for the order. */
export interface ErpCreateResult {
  erpOrderRef: string;
  erpOrderId: string;
  /** false when the order was already there (a retry after a lost answer, or a replay). */
  created: boolean;
  [key: string]: unknown;
}

export interface ErpCancelResult {
  /** false when the ERP had no such order. */
  deleted: boolean;
  [key: string]: unknown;
}



const CONFIG_CACHE_MS = 5_000;
const CALL_TIMEOUT_MS = 15_000;

/** Stock of one SKU in one Crossdock warehouse, as the ERP reports it. */
export interface ErpStockLevel {
  sku: string;
  warehouse: string;
  onHand: number;
  /** What the ERP's open orders hold. */
  reserved: number;
  /** When the ERP's figure last changed (its newest posting or record change). */
  occurredAt: string;
}

/** A customer as the ERP keeps it, in Crossdock's words. */
export interface ErpCustomer {
  erpId: string;
  number: string;
  name: string;
  blocked: string;
  creditLimit: number;
  balanceDue: number;
}

function toBusinessCentral(order: ErpSalesOrder, backend: ErpBackendEntity): SalesOrderInput {
  const locations = (backend.config as unknown as BusinessCentralConfig).locations ?? {};
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

/**
 * Delivers to ERP backends (`erp:<id>`) through the connector of the backend's kind, governed by the
 * backend's limits and maintenance windows. Clients are kept per backend so that tokens are reused.
 */
@Injectable()
export class ErpDestination implements DestinationHandler, OnModuleInit {
  private readonly backends = new Map<string, { backend: ErpBackendEntity | null; until: number; client?: BusinessCentralClient }>();

  constructor(
    private readonly orm: MikroORM,
    private readonly destinations: Destinations,
    private readonly governor: Governor,
  ) {}

  onModuleInit(): void {
    this.destinations.register('erp', this);
  }

  async limits(backendId: string): Promise<TargetLimits> {
    const { backend } = await this.backend(backendId);
    return { ...backend.limits, maintenanceWindows: backend.maintenanceWindows as unknown as MaintenanceWindow[] };
  }

  async deliver(delivery: Delivery, signal: AbortSignal): Promise<ErpCreateResult | ErpCancelResult> {
    const backendId = delivery.destination.slice('erp:'.length);
    const { backend, client } = await this.backend(backendId);
    if (!client) throw new TargetError('permanent', `ERP backend ${backendId} of kind ${backend.kind} has no connector in this version`);
    if (delivery.type === ERP_MESSAGE_TYPES.createSalesOrder) {
      const { order, created } = await client.ensureSalesOrder(toBusinessCentral(delivery.payload as unknown as ErpSalesOrder, backend), signal);
      return { erpOrderRef: order.number, erpOrderId: order.id, created };
    }
    if (delivery.type === ERP_MESSAGE_TYPES.cancelSalesOrder) {
      const order = await client.findSalesOrder(String(delivery.payload.externalDocumentNumber), signal);
      if (!order) return { deleted: false };
      await client.deleteSalesOrder(order.id, order['@odata.etag'] ?? '*', signal);
      return { deleted: true, erpOrderRef: order.number };
    }
    throw new TargetError('permanent', `ERP backend ${backendId} does not take ${delivery.type} messages`);
  }

  /**
   * The backend's customers, read through the governor: every customer, with the balance due fetched for
   * those with a credit limit (the only ones whose balance matters to the intake).
   */
  async customers(backendId: string): Promise<ErpCustomer[]> {
    const { backend, client } = await this.backend(backendId);
    if (!client) throw new Error(`ERP backend ${backendId} of kind ${backend.kind} has no connector in this version`);
    const call = await this.governed(backendId);
    const { value } = await call((signal) => client.listCustomers(signal));
    const customers: ErpCustomer[] = [];
    for (const customer of value) {
      const balanceDue = customer.creditLimit > 0 ? await call((signal) => client.balanceDue(customer.id, signal)) : undefined;
      customers.push({ erpId: customer.id, number: customer.number, name: customer.displayName, blocked: customer.blocked ?? '', creditLimit: customer.creditLimit ?? 0, balanceDue: balanceDue ?? 0 });
    }
    return customers;
  }

  /**
   * Stock positions that changed in the backend since `since` (all when undefined), for the warehouses its
   * configuration maps to locations, read through the governor: on-hand from the ledger, and reserved as what
   * its open sales orders hold, so that a figure includes every order the ERP has. An item is read when it
   * changed or was posted since, or when what its open orders hold differs from `lastReserved` (what the last
   * reads found held, per warehouse: an order created, changed, shipped or deleted). `through` is the newest change seen: the next poll starts there.
   */
  async stockSince(
    backendId: string,
    since: Date | undefined,
    lastReserved: ReadonlyMap<string, Readonly<Record<string, number>>>,
  ): Promise<{ levels: Array<Omit<ErpStockLevel, 'occurredAt'>>; through: Date | undefined }> {
    const { backend, client } = await this.backend(backendId);
    if (!client) throw new Error(`ERP backend ${backendId} of kind ${backend.kind} has no connector in this version`);
    const mapped = Object.entries((backend.config as unknown as BusinessCentralConfig).locationCodes ?? {});
    if (mapped.length === 0) return { levels: [], through: since };
    const call = await this.governed(backendId);
    let through = since?.getTime() ?? 0;
    const toRead = new Set<string>();
    const seen = (number: string, at: string | undefined) => {
      toRead.add(number);
      if (at) through = Math.max(through, Date.parse(at));
    };
    for (const item of await call((signal) => client.itemsChangedSince(since, signal))) seen(item.number, item.lastModifiedDateTime);
    if (since) for (const [number, at] of await call((signal) => client.itemsPostedSince(since, signal))) seen(number, at);
    // Open orders, by Crossdock warehouse: a line's location id, through the location's code.
    const codeOf = new Map((await call((signal) => client.listLocations(signal))).map((l) => [l.id, l.code]));
    const warehouseOf = new Map(mapped.map(([warehouse, code]) => [code, warehouse]));
    const open = await call((signal) => client.openOrderQuantities(signal));
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
    return { levels: await this.levelsOf(call, client, [...toRead], mapped, reserved), through: through > 0 ? new Date(through) : undefined };
  }

  private async levelsOf(
    call: <T>(work: (signal: AbortSignal) => Promise<T>) => Promise<T>,
    client: BusinessCentralClient,
    numbers: string[],
    mapped: Array<[string, string]>,
    reserved: Map<string, Record<string, number>>,
  ): Promise<Array<Omit<ErpStockLevel, 'occurredAt'>>> {
    if (numbers.length === 0) return [];
    const onHand = await call((signal) => client.inventoryByLocation(numbers, signal));
    return numbers.flatMap((number) => mapped.map(([warehouse, code]) => ({
      sku: number, warehouse, onHand: onHand.get(number)?.get(code) ?? 0, reserved: reserved.get(number)?.[warehouse] ?? 0,
    })));
  }

  /** Calls to the backend outside the queues, each admitted by its governor and bounded in time. */
  private async governed(backendId: string): Promise<<T>(work: (signal: AbortSignal) => Promise<T>) => Promise<T>> {
    const limits = await this.limits(backendId);
    return (work) => this.governor.call(`erp:${backendId}`, limits, () => work(AbortSignal.timeout(CALL_TIMEOUT_MS)));
  }

  private async backend(id: string): Promise<{ backend: ErpBackendEntity; client?: BusinessCentralClient }> {
    let cached = this.backends.get(id);
    if (!cached || cached.until <= Date.now()) {
      const backend = await this.orm.em.fork().findOne(ErpBackendEntity, { id });
      const sameConfig = cached?.backend && backend && JSON.stringify(cached.backend.config) === JSON.stringify(backend.config);
      const client = backend?.kind === 'business-central'
        ? (sameConfig && cached?.client) || new BusinessCentralClient(backend.config as unknown as BusinessCentralConfig)
        : undefined;
      cached = { backend, until: Date.now() + CONFIG_CACHE_MS, client };
      this.backends.set(id, cached);
    }
    if (!cached.backend) throw new TargetError('permanent', `ERP backend ${id} does not exist`);
    return { backend: cached.backend, client: cached.client };
  }
}

/**
 * A subscription resolver: the ERP backend that the routing of `domain` names, and in shadow mode the shadow
 * backend too. Read in the producer's transaction, so a message goes where routing pointed when it was made.
 */
export function routedErpBackends(domain: RoutingDomain) {
  return async (sql: Sql): Promise<string[]> => {
    const { rows: [rule] } = await sql.query<{ mode: string; primary: string; shadow: string | null }>(
      'select mode, primary_backend_id as "primary", shadow_backend_id as shadow from routing where domain = $1', [domain],
    );
    if (!rule) throw new Error(`no routing is configured for domain ${domain}`);
    return [`erp:${rule.primary}`, ...(rule.mode === 'shadow' && rule.shadow ? [`erp:${rule.shadow}`] : [])];
  };
}
