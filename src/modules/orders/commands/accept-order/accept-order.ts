import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { CommandBus, QueryBus } from '@nestjs/cqrs';
import type { ItemResult } from '../../../../platform/database/group-commit.js';
import { plannedPerCall } from '../../../../platform/database/prepared-statements.js';
import { together, type Sql } from '../../../../platform/database/transaction.js';
import { ProblemException, problems } from '../../../../platform/http/problem.js';
import { currentCorrelationId } from '../../../../platform/observability/correlation.js';
import type { Channel } from '../../../configuration/index.js';
import { CustomerStandingQuery } from '../../../customers/index.js';
import { ReserveStockCommand, SellableStockQuery, type ReservedLine } from '../../../inventory/index.js';
import { PriceMismatchesQuery, type PriceMismatch } from '../../../pricing/index.js';
import { allocateLines, orderTotal, type AllocatedLine } from '../../domain/allocation.js';
import { checkCustomer } from '../../domain/customer-check.js';
import type { OrderStatus } from '../../domain/order-status.js';
import type { CreateOrderDto } from '../../api/order.dto.js';
import { ErpSubmission } from '../submit-to-erp/erp-submission.js';

export interface AcceptedOrder {
  orderId: string;
  status: OrderStatus;
  correlationId: string;
}

export interface AcceptOptions {
  source: 'api' | 'shopify';
  /** The channel-side time of the event that created it (Shopify's X-Shopify-Triggered-At). */
  channelEventAt?: Date;
}

/** One order to take, with the channel that sent it and the correlation id of its request. */
export interface OrderIntake {
  channel: Channel;
  request: CreateOrderDto;
  options: AcceptOptions;
  correlationId: string;
}

/** An order that passed its checks, ready to be stored. */
interface PlacedOrder {
  index: number;
  orderId: string;
  intake: OrderIntake;
  status: OrderStatus;
  verified: boolean;
  hold: { kind: 'credit-limit' | 'price-mismatch'; reason: string } | null;
  priceMismatch: PriceMismatch[] | null;
  total: number;
  lines: AllocatedLine[];
  reserved: ReservedLine[];
  history: Array<{ status: string; reason: string | null }>;
}

/**
 * The order intake, in the caller's transaction (with the Idempotency-Keys or the inbox record that make each
 * order happen once): checks each customer against the read model, places each line in a warehouse, stores
 * the orders with their lines and history, and queues them for the ERP unless held. Several orders are taken
 * with one set of statements; each is placed against the stock the ones before it left, as if they had come
 * one after the other.
 */
@Injectable()
export class AcceptOrder {
  constructor(
    private readonly submission: ErpSubmission,
    private readonly commands: CommandBus,
    private readonly queries: QueryBus,
  ) {}

  async accept(sql: Sql, channel: Channel, request: CreateOrderDto, options: AcceptOptions): Promise<AcceptedOrder> {
    const [result] = await this.acceptMany(sql, [{ channel, request, options, correlationId: currentCorrelationId() ?? randomUUID() }]);
    if (!result!.ok) throw result!.error;
    return result!.value;
  }

  /**
   * One result per intake, in order. A refused order (customer blocked, not enough stock, its channel order id
   * taken) writes nothing; the others are stored. Throws when an order of several meets a conflict only the
   * insert could see (another transaction took its channel order id meanwhile): run each alone then.
   */
  async acceptMany(sql: Sql, intakes: readonly OrderIntake[]): Promise<Array<ItemResult<AcceptedOrder>>> {
    if (intakes.length === 0) return [];
    const destinations = await this.submission.destinations(sql);
    const backend = destinations[0]!.slice('erp:'.length);
    const [standings, taken, mismatches, stock] = await together(
      this.queries.execute(new CustomerStandingQuery(backend, intakes.map((i) => i.request.customer.accountNumber), sql)),
      this.takenChannelOrders(sql, intakes),
      this.priceMismatches(sql, intakes),
      // What the channels may sell; the SKUs stay locked until the reservations below commit.
      this.queries.execute(new SellableStockQuery(sql, intakes.flatMap((i) => i.request.lines.map((l) => l.sku)))),
    );
    const results: Array<ItemResult<AcceptedOrder>> = new Array(intakes.length);
    const placed: PlacedOrder[] = [];
    intakes.forEach((intake, index) => {
      const { channel, request } = intake;
      const orderKey = `${channel.id}\u0000${request.channelOrderId}`;
      const existing = taken.get(orderKey);
      if (existing) {
        results[index] = { ok: false, error: problems.conflict(`Channel ${channel.id} already sent order ${request.channelOrderId}: it is order ${existing}`, { orderId: existing, channelOrderId: request.channelOrderId }) };
        return;
      }
      const accountNumber = request.customer.accountNumber;
      const total = orderTotal(request.lines);
      const verdict = checkCustomer(accountNumber, standings.get(accountNumber), total);
      if (verdict.verdict === 'refuse') {
        results[index] = { ok: false, error: new ProblemException(422, 'customer-blocked', 'Customer blocked', verdict.reason, { accountNumber }) };
        return;
      }
      const mismatch = mismatches[index]!;
      const onMismatch = mismatch.length > 0 ? channel.pricing!.onMismatch : undefined;
      if (onMismatch === 'refuse') {
        results[index] = { ok: false, error: new ProblemException(422, 'price-mismatch', 'Prices differ', mismatchReason(mismatch), { lines: mismatch }) };
        return;
      }
      const figures = new Map<string, Record<string, number> | undefined>();
      const sellable = (sku: string, warehouse: string) => {
        if (!figures.has(sku)) figures.set(sku, stock.forChannel(channel.inventory, sku));
        const figure = figures.get(sku);
        return figure ? (figure[warehouse] ?? 0) : undefined;
      };
      const allocation = allocateLines(request.lines, { warehouses: channel.inventory.warehouses, oversell: channel.oversell }, sellable);
      if (!allocation.ok) {
        results[index] = { ok: false, error: new ProblemException(422, 'insufficient-stock', 'Not enough stock', `Not enough stock for ${allocation.shortSkus.join(', ')} in the channel's warehouses`, { skus: allocation.shortSkus }) };
        return;
      }
      const reserved = allocation.lines.filter((l) => !l.backordered && l.warehouse !== null).map((l) => ({ sku: l.sku, warehouse: l.warehouse!, quantity: l.quantity }));
      stock.take(reserved);
      const orderId = randomUUID();
      taken.set(orderKey, orderId);
      // A credit hold first: releasing it is the ERP's figures' doing, a price hold an operator's.
      const hold = verdict.verdict === 'hold' ? { kind: 'credit-limit' as const, reason: verdict.reason }
        : onMismatch === 'hold' ? { kind: 'price-mismatch' as const, reason: mismatchReason(mismatch) } : null;
      const notes = [
        verdict.verified ? null : `customer ${accountNumber} is not in the read model; left for the ERP to verify`,
        onMismatch === 'flag' ? `flagged: ${mismatchReason(mismatch)}` : null,
        // Held for credit first; once that lifts, the order is held for its prices (ReleaseOrder.reviewHolds).
        onMismatch === 'hold' && hold?.kind === 'credit-limit' ? `to be held for its prices too: ${mismatchReason(mismatch)}` : null,
      ].filter(Boolean);
      const history = [{ status: 'accepted', reason: notes.length > 0 ? notes.join('; ') : null }];
      if (hold) history.push({ status: 'on_hold', reason: hold.reason });
      placed.push({
        index, orderId, intake, status: hold ? 'on_hold' : 'accepted', verified: verdict.verified, hold, priceMismatch: mismatch.length > 0 && onMismatch ? mismatch : null,
        total, lines: allocation.lines, reserved, history,
      });
    });
    if (placed.length === 0) return results;
    const stored = await this.store(sql, placed, backend);
    if (stored.size < placed.length) {
      if (intakes.length > 1) throw new Error('an order of the batch had its channel order id taken meanwhile; each order goes again alone');
      const { intake } = placed[0]!;
      const { rows: [existing] } = await sql.query<{ id: string }>('select id from sales_order where channel_id = $1 and channel_order_id = $2', [intake.channel.id, intake.request.channelOrderId]);
      results[placed[0]!.index] = { ok: false, error: problems.conflict(`Channel ${intake.channel.id} already sent order ${intake.request.channelOrderId}: it is order ${existing?.id}`, { orderId: existing?.id, channelOrderId: intake.request.channelOrderId }) };
      return results;
    }
    const going = placed.filter((o) => o.status !== 'on_hold');
    await together(
      this.commands.execute(new ReserveStockCommand(sql, placed.map((o) => ({ orderId: o.orderId, lines: o.reserved })), stock.knownSkus)),
      going.length === 0 ? Promise.resolve() : this.submission.submit(sql, going.map((o) => {
        const { reference, orderDate } = stored.get(o.orderId)!;
        return { id: o.orderId, reference, customerAccount: o.intake.request.customer.accountNumber, orderDate, lines: o.lines, correlationId: o.intake.correlationId };
      }), destinations),
    );
    for (const o of placed) results[o.index] = { ok: true, value: { orderId: o.orderId, status: o.status, correlationId: o.intake.correlationId } };
    return results;
  }

  /** Per intake, its lines priced differently from the effective price, where its channel checks prices (none elsewhere). */
  private async priceMismatches(sql: Sql, intakes: readonly OrderIntake[]): Promise<PriceMismatch[][]> {
    const checked = intakes.map((intake, i) => ({ intake, i })).filter(({ intake }) => (intake.channel.pricing?.onMismatch ?? 'ignore') !== 'ignore');
    const found: PriceMismatch[][] = intakes.map(() => []);
    if (checked.length === 0) return found;
    const orders = checked.map(({ intake: { channel, request } }) => ({ pricing: channel.pricing!, customer: request.customer.accountNumber, currency: request.currency, lines: request.lines }));
    const answers = await this.queries.execute(new PriceMismatchesQuery(orders, sql));
    checked.forEach(({ i }, n) => (found[i] = answers[n]!));
    return found;
  }

  /** Orders the channels sent before under these channel order ids: by channel and channel order id, the order id. */
  private async takenChannelOrders(sql: Sql, intakes: readonly OrderIntake[]): Promise<Map<string, string>> {
    const { rows } = await sql.query<{ channel_id: string; channel_order_id: string; id: string }>(
      plannedPerCall(`select o.channel_id, o.channel_order_id, o.id from sales_order o
         join unnest($1::text[], $2::text[]) as x(c, n) on o.channel_id = x.c and o.channel_order_id = x.n`),
      [intakes.map((i) => i.channel.id), intakes.map((i) => i.request.channelOrderId)],
    );
    return new Map(rows.map((r) => [`${r.channel_id}\u0000${r.channel_order_id}`, r.id]));
  }

  /**
   * One statement for the orders, their lines and their history; answers the stored ones' reference and date.
   * The orders go in by channel order id, so that two batches holding the same ones (sent again under other
   * Idempotency-Keys) wait for each other in one order instead of deadlocking.
   */
  private async store(sql: Sql, placed: readonly PlacedOrder[], backend: string): Promise<Map<string, { reference: string; orderDate: string }>> {
    const orders = placed.map((o, n) => {
      const { channel, request, options, correlationId } = o.intake;
      return {
        n, id: o.orderId, channel_id: channel.id, channel_order_id: request.channelOrderId, source: options.source, customer_account: request.customer.accountNumber,
        customer_verified: o.verified, erp_backend_id: backend, currency: request.currency, total: o.total, ship_to: request.shipTo,
        requested_ship_date: request.requestedShipDate ?? null, notes: request.notes ?? null, status: o.status, status_reason: o.hold?.reason ?? null,
        hold_reason: o.hold?.kind ?? null, price_mismatch: o.priceMismatch, channel_event_at: options.channelEventAt ?? null, correlation_id: correlationId,
      };
    });
    const lines = placed.flatMap((o) => o.lines.map((line, position) => ({
      order_id: o.orderId, position, line_id: line.lineId, sku: line.sku, warehouse: line.warehouse, quantity: line.quantity, unit_price: line.unitPrice,
      backordered: line.backordered, metadata: { channelId: o.intake.channel.id, channelKind: o.intake.channel.kind },
    })));
    const history = placed.flatMap((o) => o.history.map((h) => ({ order_id: o.orderId, ...h })));
    const { rows } = await sql.query<{ id: string; reference: string; order_date: string }>(
      `with o as (
         insert into sales_order (id, channel_id, channel_order_id, source, customer_account, customer_verified, erp_backend_id, currency, total,
                                  ship_to, requested_ship_date, notes, status, status_reason, hold_reason, price_mismatch, channel_event_at, correlation_id)
         select id, channel_id, channel_order_id, source, customer_account, customer_verified, erp_backend_id, currency, total,
                ship_to, requested_ship_date, notes, status, status_reason, hold_reason, price_mismatch, channel_event_at, correlation_id
           from jsonb_to_recordset($1::jsonb) as x(n int, id uuid, channel_id text, channel_order_id text, source text, customer_account text,
                customer_verified boolean, erp_backend_id text, currency text, total numeric, ship_to jsonb, requested_ship_date date, notes text,
                status text, status_reason text, hold_reason text, price_mismatch jsonb, channel_event_at timestamptz, correlation_id text)
          order by channel_id, channel_order_id
         on conflict (channel_id, channel_order_id) do nothing
         returning id, reference, created_at::date::text as order_date),
       l as (
         insert into sales_order_line (order_id, position, line_id, sku, warehouse, quantity, unit_price, backordered, metadata)
         select x.order_id, x.position, x.line_id, x.sku, x.warehouse, x.quantity, x.unit_price, x.backordered, x.metadata
           from jsonb_to_recordset($2::jsonb) as x(order_id uuid, position int, line_id text, sku text, warehouse text, quantity numeric, unit_price numeric, backordered boolean, metadata jsonb)
           join o on o.id = x.order_id),
       h as (
         insert into sales_order_status (order_id, status, reason)
         select x.order_id, x.status, x.reason
           from rows from (jsonb_to_recordset($3::jsonb) as (order_id uuid, status text, reason text)) with ordinality as x(order_id, status, reason, n)
           join o on o.id = x.order_id
          order by x.n)
       select id, reference, order_date from o`,
      [JSON.stringify(orders), JSON.stringify(lines), JSON.stringify(history)],
    );
    return new Map(rows.map((r) => [r.id, { reference: r.reference, orderDate: r.order_date }]));
  }
}

function mismatchReason(lines: readonly PriceMismatch[]): string {
  return `price differs from the effective price on line${lines.length > 1 ? 's' : ''} ${lines.map((l) => `${l.lineId} (${l.sku}: ${l.unitPrice}, effective ${l.effectivePrice} from ${l.priceList})`).join(', ')}`;
}
