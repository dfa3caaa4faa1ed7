import { Injectable, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { Destinations, type DestinationHandler } from '../../platform/delivery/destinations.js';
import { TargetError } from '../../platform/delivery/outcome.js';
import { TargetDirectory, type Target } from '../../platform/delivery/target-directory.js';
import type { TargetLimits } from '../../platform/governor/decide.js';
import { Governor } from '../../platform/governor/governor.js';
import type { Delivery } from '../../platform/outbox/message.js';
import { BusinessCentralErp } from './business-central/business-central.delivery.js';
import type { BusinessCentralConfig } from './business-central/business-central.config.js';
import { SapB1Erp } from './sap-b1/sap-b1.delivery.js';
import type { SapB1Config } from './sap-b1/sap-b1.config.js';
import {
  ERP_MESSAGE_TYPES, type CustomerPull, type ErpCancelResult, type ErpChangeNotifications, type ErpConnector, type ErpCreateResult, type ErpCustomer, type ErpCustomerCreate,
  type ErpCustomerUpdate, type ErpCustomerUpdateResult, type ErpOrdersByReference, type KnownErpOrder, type ErpSalesOrder, type ErpShipment, type ErpShipmentResult, type GovernedCall, type PricePull, type ShipmentChanges, type StockChanges,
} from './erp-contract.js';

const CALL_TIMEOUT_MS = 15_000;
const DEFAULT_ERP_LIMITS = { ratePerSecond: 5, burst: 10, concurrency: 2 };

/** The connector of each ERP kind that has one in this version. */
const CONNECTORS: Record<string, (config: Record<string, unknown>) => ErpConnector> = {
  'business-central': (config) => new BusinessCentralErp(config as unknown as BusinessCentralConfig),
  'sap-b1': (config) => new SapB1Erp(config as unknown as SapB1Config),
};

/**
 * The `erp:<backend>` destinations: each message goes to the connector of the backend's kind, governed by the
 * backend's limits and maintenance windows. A connector is kept per backend while its settings are unchanged,
 * so that its session or token is reused, and closed when its settings change and at shutdown (a SAP Business
 * One session is logged out). Reads outside the queues (customers, stock) go through here too.
 */
@Injectable()
export class ErpDestination implements DestinationHandler, OnModuleInit, OnApplicationShutdown {
  private readonly connectors = new Map<string, { config: string; connector: ErpConnector }>();

  constructor(
    private readonly targets: TargetDirectory,
    private readonly destinations: Destinations,
    private readonly governor: Governor,
  ) {}

  onModuleInit(): void {
    this.destinations.register('erp', this);
  }

  async onApplicationShutdown(): Promise<void> {
    const open = [...this.connectors.values()];
    this.connectors.clear();
    await Promise.all(open.map(({ connector }) => connector.close?.().catch(() => undefined)));
  }

  async limits(backendId: string): Promise<TargetLimits> {
    const backend = await this.backend(backendId);
    return { ...(backend.limits ?? DEFAULT_ERP_LIMITS), maintenanceWindows: backend.maintenanceWindows };
  }

  async deliver(delivery: Delivery, signal: AbortSignal): Promise<ErpCreateResult | ErpCancelResult | ErpShipmentResult | ErpCustomerUpdateResult> {
    const backendId = delivery.destination.slice('erp:'.length);
    const connector = this.connector(await this.backend(backendId));
    if (delivery.type === ERP_MESSAGE_TYPES.createSalesOrder) return connector.createSalesOrder(delivery.payload as unknown as ErpSalesOrder, signal);
    if (delivery.type === ERP_MESSAGE_TYPES.cancelSalesOrder) {
      // The order's id in this backend, where the cross-reference had it when the cancel was asked.
      const known = (delivery.payload.erpOrders as Record<string, KnownErpOrder> | undefined)?.[backendId];
      return connector.cancelSalesOrder(String(delivery.payload.externalDocumentNumber), signal, known);
    }
    if (delivery.type === ERP_MESSAGE_TYPES.postShipment && connector.postShipment) return connector.postShipment(delivery.payload as unknown as ErpShipment, signal);
    if (delivery.type === ERP_MESSAGE_TYPES.updateCustomer && connector.updateCustomer) return connector.updateCustomer(delivery.payload as unknown as ErpCustomerUpdate, signal);
    if (delivery.type === ERP_MESSAGE_TYPES.createCustomer && connector.createCustomer) return connector.createCustomer(delivery.payload as unknown as ErpCustomerCreate, signal);
    throw new TargetError('permanent', `ERP backend ${backendId} does not take ${delivery.type} messages`);
  }

  /** The backend's customers, read through its governor. */
  async customers(backendId: string): Promise<CustomerPull> {
    const backend = await this.backend(backendId);
    return this.connector(backend).customers(await this.governed(backend));
  }

  /** One customer, read through the backend's governor by the resource a change notification named; null when gone. */
  async customerAt(backendId: string, resource: string): Promise<ErpCustomer | null> {
    const backend = await this.backend(backendId);
    const connector = this.connector(backend);
    if (!connector.customerAt) throw new TargetError('permanent', `ERP backend ${backendId} of kind ${backend.kind} sends no change notifications to read back`);
    return connector.customerAt(await this.governed(backend), resource);
  }

  /** The backend's change notifications and the governed call to manage them with; undefined where it pushes none. */
  async changeNotifications(backendId: string): Promise<{ notifications: ErpChangeNotifications; call: GovernedCall } | undefined> {
    const backend = await this.backend(backendId);
    const notifications = this.connector(backend).changeNotifications;
    return notifications ? { notifications, call: await this.governed(backend) } : undefined;
  }

  /** The orders the backend holds under Crossdock's references, read in batches through its governor. */
  async ordersByReference(backendId: string, references: readonly string[]): Promise<ErpOrdersByReference> {
    const backend = await this.backend(backendId);
    return this.connector(backend).ordersByReference(await this.governed(backend), references);
  }

  /** Stock positions that changed in the backend since `since` (all when undefined), read through its governor. */
  async stockSince(backendId: string, since: Date | undefined, lastReserved: ReadonlyMap<string, Readonly<Record<string, number>>>): Promise<StockChanges> {
    const backend = await this.backend(backendId);
    return this.connector(backend).stockSince(await this.governed(backend), since, lastReserved);
  }

  /** Shipment documents that changed in the backend since `since` (all when undefined), read through its governor. */
  async shipmentsSince(backendId: string, since: Date | undefined): Promise<ShipmentChanges> {
    const backend = await this.backend(backendId);
    const connector = this.connector(backend);
    if (!connector.shipmentsSince) throw new TargetError('permanent', `ERP backend ${backendId} of kind ${backend.kind} has no shipment documents to read in this version`);
    return connector.shipmentsSince(await this.governed(backend), since);
  }

  /** Every price the backend holds, read through its governor. */
  async prices(backendId: string): Promise<PricePull> {
    const backend = await this.backend(backendId);
    const connector = this.connector(backend);
    if (!connector.prices) throw new TargetError('permanent', `ERP backend ${backendId} of kind ${backend.kind} has no prices to read in this version`);
    return connector.prices(await this.governed(backend));
  }

  private async governed(backend: Target): Promise<GovernedCall> {
    const limits = await this.limits(backend.id);
    return (work) => this.governor.call(`erp:${backend.id}`, limits, () => work(AbortSignal.timeout(CALL_TIMEOUT_MS)));
  }

  private connector(backend: Target): ErpConnector {
    const create = CONNECTORS[backend.kind];
    if (!create) throw new TargetError('permanent', `ERP backend ${backend.id} of kind ${backend.kind} has no connector in this version`);
    const config = JSON.stringify(backend.config);
    const kept = this.connectors.get(backend.id);
    if (kept && kept.config === config) return kept.connector;
    const connector = create(backend.config);
    this.connectors.set(backend.id, { config, connector });
    void kept?.connector.close?.().catch(() => undefined);
    return connector;
  }

  private async backend(id: string): Promise<Target> {
    const backend = await this.targets.erpBackend(id);
    if (!backend) throw new TargetError('permanent', `ERP backend ${id} does not exist`);
    return backend;
  }
}
