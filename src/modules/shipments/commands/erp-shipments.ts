import { Inject, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { CommandBus, QueryBus } from '@nestjs/cqrs';
import type pg from 'pg';
import { ERP_MESSAGE_TYPES, type ErpShipmentRecord, type ErpShipmentResult } from '../../../connectors/erp/erp-contract.js';
import { ErpDestination } from '../../../connectors/erp/erp-destination.js';
import { PG_POOL } from '../../../platform/database/pg-pool.js';
import { withSessionLock } from '../../../platform/database/session-lock.js';
import { inTransaction, type Sql } from '../../../platform/database/transaction.js';
import { unfinished } from '../../../platform/delivery/chain.js';
import { Destinations, type DeliveryOutcome } from '../../../platform/delivery/destinations.js';
import { LOGGER } from '../../../platform/observability/observability.module.js';
import type { Logger } from '../../../platform/observability/logger.js';
import { startRecurring } from '../../../platform/recurring.js';
import { EntityIdsQuery, ErpRouteQuery, RecordErpAnswerCommand, RecordXrefCommand } from '../../migration-coexistence/index.js';
import { ShipmentIntake, type ShipmentOutcome } from './shipment-intake.js';

export const SHIPMENT_POLL_SETTINGS = Symbol('SHIPMENT_POLL_SETTINGS');
export interface ShipmentPollSettings {
  intervalMs: number;
  /** Poll on this instance (the worker and all roles). */
  enabled: boolean;
}

export interface ShipmentPoll {
  read: number;
  /** Outcomes of the documents applied as shipments. */
  outcomes: Record<ShipmentOutcome['outcome'], number>;
  /** Documents Crossdock posted itself, recognised. */
  ours: number;
  /** Documents of orders whose own posting has not settled yet: read again next time. */
  deferred: number;
  through: Date | undefined;
}

/** The first scheduled poll, after start (the configuration seeded at start in place); then every interval. */
export const FIRST_POLL_AFTER_MS = 2_000;
const POLL_LOCK = 'shipment-poll:';

/**
 * Shipments and the ERP. A posting (`erp.shipment.post`) that settles is recorded on its shipment (`erp_posting`,
 * the ERP's document number) and its document in the cross-reference; a shadow's posting in the cross-reference and
 * the coexistence report alone, with the real one's answer beside it. The backend routed for `shipments` is polled
 * for its shipment documents (Business Central's posted sales shipments, SAP Business One's delivery notes) changed
 * since the last poll; each becomes a shipment event of source `erp:<backend>`, applied like any other (so a shipment
 * shipped in the ERP reaches the order's channel), except the documents Crossdock posted itself: the cross-reference
 * has them, or they carry its shipment id (SAP) or the number its posting recorded. While an order's own posting has
 * not settled, its documents are read again next time rather than be taken for the ERP's own.
 */
@Injectable()
export class ErpShipments implements OnModuleInit, OnApplicationBootstrap, OnApplicationShutdown {
  private recurring?: ReturnType<typeof startRecurring>;

  constructor(
    @Inject(PG_POOL) private readonly pool: pg.Pool,
    private readonly destinations: Destinations,
    private readonly erp: ErpDestination,
    private readonly intake: ShipmentIntake,
    private readonly queries: QueryBus,
    private readonly commands: CommandBus,
    @Inject(SHIPMENT_POLL_SETTINGS) private readonly settings: ShipmentPollSettings,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  onModuleInit(): void {
    this.destinations.onOutcome(ERP_MESSAGE_TYPES.postShipment, (tx, outcome) => this.settled(tx, outcome));
  }

  onApplicationBootstrap(): void {
    if (!this.settings.enabled) return;
    this.recurring = startRecurring(() => this.pollRouted(), {
      firstAfterMs: FIRST_POLL_AFTER_MS,
      everyMs: this.settings.intervalMs,
      onError: (error) => this.logger.warn({ err: error }, 'shipment poll failed; the next one retries'),
    });
  }

  async onApplicationShutdown(): Promise<void> {
    await this.recurring?.stop();
  }

  private async settled(tx: Sql, outcome: DeliveryOutcome): Promise<void> {
    if (outcome.event !== 'delivered' && outcome.event !== 'dead') return;
    const { rows: [posting] } = await tx.query<{ shipment_id: string; role: 'primary' | 'shadow' | null }>(
      `select payload->>'shipmentId' as shipment_id, payload->>'coexistenceRole' as role from outbox where delivery_id = $1`, [outcome.delivery.deliveryId],
    );
    if (!posting?.shipment_id) return;
    const backendId = outcome.delivery.destination.slice('erp:'.length);
    const result = outcome.event === 'delivered' ? (outcome.result as ErpShipmentResult | undefined) : undefined;
    if (result?.erpShipmentRef) {
      const erpId = typeof result.erpShipmentId === 'string' ? result.erpShipmentId : result.erpShipmentRef;
      await this.commands.execute(new RecordXrefCommand(tx, 'shipment', backendId, [{ canonicalId: posting.shipment_id, erpId, erpRef: result.erpShipmentRef }]));
    }
    if (posting.role) {
      const answer = result ? { facts: result.facts ?? null } : { failure: outcome.failure?.message ?? 'the ERP did not post the shipment' };
      await this.commands.execute(new RecordErpAnswerCommand(tx, 'shipments', posting.shipment_id, backendId, posting.role, answer));
    }
    // Nothing the shadow answers reaches the shipment (nor, through it, the order).
    if (posting.role === 'shadow') return;
    await tx.query('update shipment set erp_posting = $2, erp_shipment_ref = coalesce($3, erp_shipment_ref) where id = $1', [
      posting.shipment_id, outcome.event === 'delivered' ? 'posted' : 'dead', result?.erpShipmentRef ?? null,
    ]);
  }

  private async pollRouted(): Promise<void> {
    const route = await inTransaction(this.pool, (tx) => this.queries.execute(new ErpRouteQuery('shipments', tx)));
    if (route) await this.poll(route.primary);
  }

  /** One poll of one backend now; undefined when another instance is polling it. */
  async poll(backendId: string): Promise<ShipmentPoll | undefined> {
    return withSessionLock(this.pool, POLL_LOCK + backendId, async (client) => {
      const { rows: [state] } = await client.query<{ through: Date | null }>('select polled_through as through from shipment_poll where erp_backend_id = $1', [backendId]);
      const since = state?.through ? new Date(state.through) : undefined;
      const { shipments, through } = await this.erp.shipmentsSince(backendId, since);
      const poll: ShipmentPoll = { read: shipments.length, outcomes: { applied: 0, duplicate: 0, stale: 0, parked: 0 }, ours: 0, deferred: 0, through };
      for (const [i, document] of shipments.entries()) {
        const orderId = document.erpOrderRef ? await this.orderKnownAs(backendId, document.erpOrderRef) : undefined;
        const mine = await this.ours(backendId, document, orderId);
        if (mine === 'unsettled') {
          // Read again from here next time: the order's own posting will have settled.
          poll.deferred = shipments.length - i;
          poll.through = new Date(new Date(document.changedAt).getTime() - 1);
          break;
        }
        if (mine) {
          poll.ours++;
          continue;
        }
        const outcome = await this.intake.receive(`erp:${backendId}`, {
          eventId: `${backendId}|${document.documentId}|${document.changedAt}`,
          ...(orderId ? { orderId } : document.erpOrderRef ? { erpOrderRef: document.erpOrderRef } : { orderId: await this.orderOfReference(document.externalDocumentNumber) }),
          shipmentId: `erp:${backendId}:${document.number}`,
          status: document.cancelled ? 'cancelled' : 'shipped',
          ...(document.carrier ? { carrier: document.carrier } : {}),
          ...(document.trackingNumber ? { trackingNumber: document.trackingNumber } : {}),
          lines: document.lines.map((l) => ({ sku: l.sku, quantity: l.quantity })),
          occurredAt: document.changedAt,
        });
        poll.outcomes[outcome.outcome]++;
      }
      await client.query(
        `insert into shipment_poll (erp_backend_id, polled_through, polled_at) values ($1, $2, clock_timestamp())
         on conflict (erp_backend_id) do update set polled_through = coalesce(excluded.polled_through, shipment_poll.polled_through), polled_at = excluded.polled_at`,
        [backendId, poll.through ?? null],
      );
      if (poll.read > 0) this.logger.info({ backendId, ...poll }, 'shipments polled from the ERP');
      return poll;
    });
  }

  /**
   * Whether Crossdock posted this document itself: the cross-reference has it (a posting's document, a shadow's
   * included), or it names our shipment, or its number is the one our posting recorded, or (a posting whose number
   * could not be read back) a posted shipment of ours has exactly its lines. `unsettled` while a posting of its order
   * to this backend is still on its way. `orderId`: its order, where the cross-reference knows the ERP's number of it.
   */
  private async ours(backendId: string, document: ErpShipmentRecord, orderId: string | undefined): Promise<boolean | 'unsettled'> {
    const known = await inTransaction(this.pool, (tx) => this.queries.execute(new EntityIdsQuery(tx, 'shipment', { backendId, erpRef: document.number })));
    if (known) return true;
    const { rows } = await this.pool.query<{ id: string; erp_posting: string | null; erp_shipment_ref: string | null; lines: string[] | null }>(
      `select s.id, s.erp_posting, s.erp_shipment_ref,
              (select array_agg(l.sku || ':' || (l.quantity::float8)::text) from shipment_line l where l.shipment_id = s.id) as lines
         from shipment s join sales_order o on o.id = s.order_id
        where (s.order_id = $5::uuid or (o.erp_backend_id = $1 and (o.erp_order_ref = $2 or o.reference = $3))) and s.source <> $4`,
      [backendId, document.erpOrderRef, document.externalDocumentNumber, `erp:${backendId}`, orderId ?? null],
    );
    const lines = document.lines.map((l) => `${l.sku}:${Number(l.quantity)}`).sort().join(',');
    const mine = rows.find((s) => s.id === document.crossdockShipmentId || (s.erp_shipment_ref !== null && s.erp_shipment_ref === document.number))
      ?? rows.find((s) => s.erp_posting === 'posted' && s.erp_shipment_ref === null && [...(s.lines ?? [])].sort().join(',') === lines);
    if (mine) {
      await this.pool.query('update shipment set erp_shipment_ref = $2 where id = $1 and erp_shipment_ref is null', [mine.id, document.number]);
      return true;
    }
    if (rows.some((s) => s.erp_posting === 'pending')) return 'unsettled';
    // A shadow's posting to this backend (before a switch made it the primary) on its way; not one held behind a
    // dead letter of its chain, which would hold the poll up until a person saw to it.
    if (!orderId) return false;
    const { rows: [pending] } = await this.pool.query(
      `select 1 from outbox o where o.destination = $1 and o.key = $2 and o.type = $3 and ${unfinished('o')} and o.status in ('pending', 'queued', 'sending') limit 1`,
      [`erp:${backendId}`, orderId, ERP_MESSAGE_TYPES.postShipment],
    );
    return pending ? 'unsettled' : false;
  }

  /** The order the ERP numbers `erpOrderRef`, where the cross-reference knows it (the ERP was its primary or its shadow). */
  private async orderKnownAs(backendId: string, erpOrderRef: string): Promise<string | undefined> {
    const ids = await inTransaction(this.pool, (tx) => this.queries.execute(new EntityIdsQuery(tx, 'order', { backendId, erpRef: erpOrderRef })));
    return ids?.canonicalId;
  }

  /** The order whose Crossdock reference the ERP document carries (a shipment of an order the ERP knows by it). */
  private async orderOfReference(reference: string | null): Promise<string | undefined> {
    if (!reference) return undefined;
    const { rows: [order] } = await this.pool.query<{ id: string }>('select id from sales_order where reference = $1', [reference]);
    return order?.id ?? `reference ${reference}`;
  }
}
