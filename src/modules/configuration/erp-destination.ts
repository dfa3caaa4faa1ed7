import { Injectable, type OnModuleInit } from '@nestjs/common';
import { MikroORM, type EntityManager } from '@mikro-orm/postgresql';
import { BusinessCentralClient, type SalesOrderInput } from '../../connectors/erp/business-central/business-central.client.js';
import type { BusinessCentralConfig } from '../../connectors/erp/business-central/business-central.config.js';
import { Destinations, type DestinationHandler } from '../../platform/delivery/destinations.js';
import { TargetError } from '../../platform/delivery/outcome.js';
import type { TargetLimits } from '../../platform/governor/decide.js';
import type { MaintenanceWindow } from '../../platform/governor/maintenance-window.js';
import type { Delivery } from '../../platform/outbox/message.js';
import type { RoutingDomain } from './domain/routing.js';
import { ErpBackendEntity } from './entities/erp-backend.entity.js';
import { RoutingEntity } from './entities/routing.entity.js';

/** The ERP operations a message type asks for; the payload of `erp.sales-order.create` is a SalesOrderInput. */
export const ERP_MESSAGE_TYPES = { createSalesOrder: 'erp.sales-order.create' } as const;

const CONFIG_CACHE_MS = 5_000;

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
  ) {}

  onModuleInit(): void {
    this.destinations.register('erp', this);
  }

  async limits(backendId: string): Promise<TargetLimits> {
    const { backend } = await this.backend(backendId);
    return { ...backend.limits, maintenanceWindows: backend.maintenanceWindows as unknown as MaintenanceWindow[] };
  }

  async deliver(delivery: Delivery, signal: AbortSignal): Promise<void> {
    const backendId = delivery.destination.slice('erp:'.length);
    const { backend, client } = await this.backend(backendId);
    if (!client) throw new TargetError('permanent', `ERP backend ${backendId} of kind ${backend.kind} has no connector in this version`);
    if (delivery.type === ERP_MESSAGE_TYPES.createSalesOrder) {
      await client.ensureSalesOrder(delivery.payload as unknown as SalesOrderInput, signal);
      return;
    }
    throw new TargetError('permanent', `ERP backend ${backendId} does not take ${delivery.type} messages`);
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
    if (!cached.backend) throw new Error(`ERP backend ${id} does not exist`);
    return { backend: cached.backend, client: cached.client };
  }
}

/**
 * A subscription resolver: the ERP backend that the routing of `domain` names, and in shadow mode the shadow
 * backend too. Read in the producer's transaction, so a message goes where routing pointed when it was made.
 */
export function routedErpBackends(domain: RoutingDomain) {
  return async (em: EntityManager): Promise<string[]> => {
    const rule = await em.findOne(RoutingEntity, { domain });
    if (!rule) throw new Error(`no routing is configured for domain ${domain}`);
    return [`erp:${rule.primary}`, ...(rule.mode === 'shadow' && rule.shadow ? [`erp:${rule.shadow}`] : [])];
  };
}
