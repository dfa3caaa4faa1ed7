import { Controller, Headers, HttpCode, Inject, Param, Post, Req } from '@nestjs/common';
import type { RawBodyRequest } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import type { FastifyRequest } from 'fastify';
import type pg from 'pg';
import { parseShopifyJson, readInventoryLevelWebhook, shopifyDelivery, verifyShopifyHmac } from '../../../connectors/channels/shopify/shopify-webhooks.js';
import { toStoreCustomer, type ShopifyCustomer } from '../../../connectors/channels/shopify/shopify-customer.js';
import { COMPANY_TOPICS, readCompanyWebhook } from '../../../connectors/channels/shopify/shopify-companies.js';
import { DEFAULT_ACCOUNT_SOURCE, toOrderRequest } from '../../../connectors/channels/shopify/shopify-order.js';
import type { ShopifyConfig } from '../../../connectors/channels/shopify/shopify.config.js';
import { PG_POOL } from '../../../platform/database/pg-pool.js';
import { inTransaction, type Tx } from '../../../platform/database/transaction.js';
import { validatePlain } from '../../../platform/http/field-errors.js';
import { ProblemException, problems } from '../../../platform/http/problem.js';
import { Inbox } from '../../../platform/inbox/inbox.js';
import { recordTrace } from '../../../platform/observability/trace.js';
import { currentCorrelationId } from '../../../platform/observability/correlation.js';
import { LOGGER } from '../../../platform/observability/observability.module.js';
import type { Logger } from '../../../platform/observability/logger.js';
import { Access } from '../../../platform/security/principal.js';
import { CommandBus, QueryBus } from '@nestjs/cqrs';
import { ResourceIdPipe } from '../../../platform/http/resource-id.js';
import { ChannelQuery, type Channel } from '../../configuration/index.js';
import { ChangeCustomerCommand, type CustomerFields } from '../../customers/index.js';
import { CheckStoreLevelCommand } from '../../inventory/index.js';
import { AcceptOrder } from '../commands/accept-order/accept-order.js';
import { CancelOrder } from '../commands/cancel-order/cancel-order.js';
import { ChannelFulfillmentReported } from '../events/channel-fulfillment-reported.js';
import { IntegrationEvents } from '../../../platform/outbox/integration-events.js';
import { CreateOrderDto } from './order.dto.js';

type Outcome = 'created' | 'cancelled' | 'cancel-requested' | 'duplicate' | 'stale' | 'ignored' | 'refused' | 'unknown-order' | 'recorded' | 'customer';

/**
 * Shopify's webhooks for a channel of kind `shopify`. The signature is checked over the raw bytes before
 * anything is read or stored. Each event is applied once (X-Shopify-Event-Id, else X-Shopify-Webhook-Id), in
 * the transaction of its effect. An order Crossdock cannot take (invalid, blocked customer) is answered 200
 * and recorded as refused: Shopify would retry a non-2xx answer for two days and then drop the subscription.
 */
@ApiTags('webhooks')
@Controller('v1/webhooks/shopify')
export class ShopifyWebhooksController {
  constructor(
    @Inject(PG_POOL) private readonly pool: pg.Pool,
    private readonly queries: QueryBus,
    private readonly commands: CommandBus,
    private readonly inbox: Inbox,
    private readonly acceptOrder: AcceptOrder,
    private readonly cancelOrder: CancelOrder,
    private readonly events: IntegrationEvents,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  @Post(':channelId')
  @HttpCode(200)
  @Access('public')
  @ApiOperation({ summary: "Shopify's webhooks (orders/create, orders/cancelled, fulfillments/create|update, customers/create|update, companies/create|update, company_locations/create|update, inventory_levels/update), verified by X-Shopify-Hmac-Sha256" })
  async receive(
    @Param('channelId', ResourceIdPipe) channelId: string,
    @Headers() headers: Record<string, string | string[] | undefined>,
    @Req() request: RawBodyRequest<FastifyRequest>,
  ): Promise<{ outcome: Outcome; orderId?: string; errors?: unknown; [detail: string]: unknown }> {
    const channel = await this.queries.execute(new ChannelQuery(channelId));
    if (!channel || channel.kind !== 'shopify') throw problems.notFound(`Shopify channel ${channelId}`);
    const config = channel.config as unknown as ShopifyConfig;
    const delivery = shopifyDelivery(headers);
    if (!request.rawBody || !verifyShopifyHmac(config.webhookSecret, request.rawBody, delivery.hmac)) {
      throw problems.unauthorized('X-Shopify-Hmac-Sha256 does not match the body');
    }
    if (!delivery.eventId) throw problems.validation([{ field: 'X-Shopify-Event-Id', message: 'X-Shopify-Event-Id or X-Shopify-Webhook-Id is required' }]);
    if (!delivery.topic) throw problems.validation([{ field: 'X-Shopify-Topic', message: 'X-Shopify-Topic is required' }]);
    const payload = parseShopifyJson(request.rawBody) as Record<string, any>;
    const source = `shopify:${channelId}`;
    const result = await inTransaction(this.pool, async (tx) => {
      if (!(await this.inbox.accept(tx, source, delivery.eventId!))) return { outcome: 'duplicate' as const };
      const outcome = await this.apply(tx, channel, delivery.topic!, payload, delivery.triggeredAt, config);
      await recordTrace(tx, [{ correlationId: currentCorrelationId() ?? delivery.eventId!, step: 'received', detail: { source, topic: delivery.topic, eventId: delivery.eventId, ...outcome } }]);
      return outcome;
    });
    if (result.outcome === 'refused') this.logger.warn({ channelId, topic: delivery.topic, eventId: delivery.eventId, errors: result.errors }, `Shopify ${delivery.topic} refused`);
    return result;
  }

  private async apply(tx: Tx, channel: Channel, topic: string, payload: Record<string, any>, triggeredAt: Date | undefined, config: ShopifyConfig) {
    const channelId = channel.id;
    if (topic === 'orders/create') {
      const { value, errors } = validatePlain(CreateOrderDto, toOrderRequest(payload as never, config.customerAccount ?? DEFAULT_ACCOUNT_SOURCE));
      if (errors.length > 0) return { outcome: 'refused' as const, errors };
      try {
        // A savepoint: a refusal must not undo the inbox record, or every retry would be refused again.
        await tx.query('savepoint intake');
        const accepted = await this.acceptOrder.accept(tx, channel, value, { source: 'shopify', channelEventAt: triggeredAt });
        return { outcome: 'created' as const, orderId: accepted.orderId };
      } catch (error) {
        if (!(error instanceof ProblemException) || error.getStatus() >= 500) throw error;
        await tx.query('rollback to savepoint intake');
        // The same order again under a new event id (a second subscription, say) is not a refusal.
        if (error.getStatus() === 409) return { outcome: 'duplicate' as const, orderId: error.problem.orderId as string };
        return { outcome: 'refused' as const, errors: [{ type: error.problem.type, detail: error.problem.detail }] };
      }
    }
    if (topic === 'orders/cancelled') {
      const { rows: [order] } = await tx.query<{ id: string; stale: boolean }>(
        `select id, coalesce(channel_event_at > $3, false) as stale from sales_order where channel_id = $1 and channel_order_id = $2`,
        [channelId, String(payload.id), triggeredAt ?? null],
      );
      if (!order) return { outcome: 'unknown-order' as const };
      if (order.stale) return { outcome: 'stale' as const, orderId: order.id };
      if (triggeredAt) await tx.query('update sales_order set channel_event_at = $2 where id = $1', [order.id, triggeredAt]);
      const done = await this.cancelOrder.requestIn(tx, order.id, channelId, `shopify:${channelId}`);
      return { outcome: done === 'cancelled' ? ('cancelled' as const) : ('cancel-requested' as const), orderId: order.id };
    }
    if (topic === 'fulfillments/create' || topic === 'fulfillments/update') {
      // Ours coming back, or a merchant's: the shipments module tells them apart, once the event is stored.
      const f = payload as ShopifyFulfillment;
      const lines = (f.line_items ?? []).map((l) => ({ lineId: String(l.id), sku: l.sku ?? '', quantity: Number(l.quantity) }));
      const reported = new ChannelFulfillmentReported(
        channelId, String(f.order_id), String(f.admin_graphql_api_id ?? `gid://shopify/Fulfillment/${f.id}`), String(f.status ?? 'success'),
        f.tracking_company ?? null, f.tracking_number ?? null, f.tracking_url ?? null, lines, (triggeredAt ?? new Date(f.updated_at ?? f.created_at ?? Date.now())).toISOString(),
      );
      await this.events.publish(tx, reported, `${channelId}|${reported.channelOrderId}`);
      return { outcome: 'recorded' as const };
    }
    if (topic === 'customers/create' || topic === 'customers/update') {
      // A B2B customer's contact details, as the customers module judges them (a field the store does not own is
      // left out, with a trace); a web shopper with no account of its own is nothing to keep.
      const customer = toStoreCustomer(payload as ShopifyCustomer, config.customerAccount ?? DEFAULT_ACCOUNT_SOURCE);
      if (!customer) return { outcome: 'ignored' as const, reason: 'no account number' };
      const source = `shopify:${channelId}`;
      return this.changeCustomer(tx, customer.accountNumber, customer.fields, source, [{ key: source, id: customer.customerId }], eventTime(payload.updated_at) ?? triggeredAt);
    }
    if (COMPANY_TOPICS.has(topic)) {
      // A B2B company (its name) or one of its locations (phone, addresses, tax id), for the account its external id
      // names; the first location recorded for an account speaks for it.
      const company = readCompanyWebhook(topic, payload);
      if (company === null) return { outcome: 'ignored' as const, reason: 'the company has no external id (account number)' };
      if (typeof company === 'string') return { outcome: 'refused' as const, errors: [company] };
      const ids = [{ key: `shopify-company:${channelId}`, id: company.companyId }, ...(company.locationId ? [{ key: `shopify-location:${channelId}`, id: company.locationId }] : [])];
      // A company and its location change apart, each ordered by its own updated_at.
      const source = `shopify:${channelId}/${company.locationId ? 'location' : 'company'}`;
      return this.changeCustomer(tx, company.accountNumber, company.fields, source, ids, eventTime(payload.updated_at) ?? triggeredAt);
    }
    if (topic === 'inventory_levels/update') {
      // A store's quantity changed (a merchant's edit, or Crossdock's own coming back): inventory checks it against what the store was last sent.
      const level = readInventoryLevelWebhook(payload);
      if (!level) return { outcome: 'ignored' as const, reason: 'no inventory item or location' };
      await this.commands.execute(new CheckStoreLevelCommand(tx, channelId, level));
      return { outcome: 'recorded' as const };
    }
    return { outcome: 'ignored' as const };
  }

  /**
   * A store's change of an account, judged by the customers module as the channel's (a field the store does not own
   * is left out, with a trace); Shopify does not promise order, so a change older than the source's newest is stale.
   */
  private async changeCustomer(tx: Tx, accountNumber: string, fields: Partial<CustomerFields>, source: string, ids: Array<{ key: string; id: string }>, occurredAt: Date | undefined) {
    const outcome = await this.commands.execute(new ChangeCustomerCommand(tx, accountNumber, { system: 'channel', fields }, 'webhook', source, ids, occurredAt));
    if (outcome.stale) return { outcome: 'stale' as const, accountNumber };
    if (outcome.foreign) return { outcome: 'ignored' as const, reason: `account ${accountNumber} is the store's ${outcome.foreign}` };
    if (outcome.unknownAccount) return { outcome: 'ignored' as const, reason: `account ${accountNumber} is not known: ${outcome.unknownAccount}` };
    if (outcome.violations.length > 0) return { outcome: 'refused' as const, accountNumber, errors: outcome.violations, exceptionId: outcome.exceptionId };
    const { merge } = outcome;
    return { outcome: 'customer' as const, accountNumber, applied: Object.keys(merge.applied), echoes: merge.echoes, refused: merge.refused, conflicts: merge.conflicts.length };
  }
}

/** A webhook body's timestamp, when it is one. */
function eventTime(value: unknown): Date | undefined {
  const at = typeof value === 'string' ? Date.parse(value) : Number.NaN;
  return Number.isNaN(at) ? undefined : new Date(at);
}

/** The fields of Shopify's fulfillment webhook body that a shipment needs. */
interface ShopifyFulfillment {
  id: string;
  admin_graphql_api_id?: string;
  order_id: string;
  status?: string;
  tracking_company?: string | null;
  tracking_number?: string | null;
  tracking_url?: string | null;
  created_at?: string;
  updated_at?: string;
  line_items?: Array<{ id: string; sku?: string | null; quantity: number }>;
}
