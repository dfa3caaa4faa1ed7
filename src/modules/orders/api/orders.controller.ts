import { randomUUID } from 'node:crypto';
import { Body, Controller, Get, Headers, HttpCode, Param, ParseUUIDPipe, Post, Query, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiHeader, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { problems } from '../../../platform/http/problem.js';
import { IdempotencyKeys } from '../../../platform/inbox/idempotency.js';
import { currentCorrelationId } from '../../../platform/observability/correlation.js';
import { Access, actorOf, CurrentPrincipal, type Principal } from '../../../platform/security/principal.js';
import { QueryBus } from '@nestjs/cqrs';
import { ShipmentsOfOrderQuery } from '../../shipments/index.js';
import { ApiOrderIntake } from '../commands/accept-order/api-order-intake.js';
import { CancelOrder } from '../commands/cancel-order/cancel-order.js';
import { ReleaseOrder } from '../commands/release-order/release-order.js';
import { OrderQuery } from '../queries/order-query.js';
import { CreateOrderDto, OrderAcceptedDto, OrderQueryDto } from './order.dto.js';

const uuid = new ParseUUIDPipe({ exceptionFactory: () => problems.validation([{ field: 'orderId', message: 'orderId must be a UUID' }]) });

@ApiTags('orders')
@ApiBearerAuth('apiKey')
@Controller('v1/orders')
export class OrdersController {
  constructor(
    private readonly idempotency: IdempotencyKeys,
    private readonly queries: QueryBus,
    private readonly intake: ApiOrderIntake,
    private readonly cancelOrder: CancelOrder,
    private readonly releaseOrder: ReleaseOrder,
    private readonly orders: OrderQuery,
  ) {}

  @Post()
  @HttpCode(202)
  @Access({ scopes: ['orders:write'] })
  @ApiOperation({ summary: 'Submit an order: stored at once, sent to the ERP at its pace' })
  @ApiHeader({ name: 'Idempotency-Key', required: true, description: 'The same key and body answer the same result; another body, 409' })
  @ApiResponse({ status: 202, type: OrderAcceptedDto })
  async create(
    @Body() body: CreateOrderDto,
    @Headers('idempotency-key') key: string | undefined,
    @CurrentPrincipal() principal: Principal,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    const channelId = channelOf(principal);
    const keyed = this.idempotency.request(actorOf(principal), key, body);
    const result = await this.intake.submit({ ...keyed, channelId, request: body, correlationId: currentCorrelationId() ?? randomUUID() });
    void reply.status(result.status).header('idempotent-replayed', String(result.replayed));
    return result.body;
  }

  @Get()
  @Access({ scopes: ['orders:read'], orAdmin: true })
  @ApiOperation({ summary: "Find an order by the channel's order id" })
  async find(@Query() query: OrderQueryDto, @CurrentPrincipal() principal: Principal) {
    if (!query.channelOrderId) throw problems.validation([{ field: 'channelOrderId', message: 'channelOrderId is required' }]);
    const channelId = principal.type === 'admin' ? query.channelId : channelOf(principal);
    if (!channelId) throw problems.validation([{ field: 'channelId', message: 'channelId is required with the admin token' }]);
    const order = await this.orders.byChannelOrderId(channelId, query.channelOrderId);
    if (!order) throw problems.notFound(`Order ${query.channelOrderId} of channel ${channelId}`);
    return order;
  }

  @Get(':orderId')
  @Access({ scopes: ['orders:read'], orAdmin: true })
  @ApiOperation({ summary: 'An order: status and its history, ERP reference, lines with their warehouse, shipments' })
  async get(@Param('orderId', uuid) orderId: string, @CurrentPrincipal() principal: Principal) {
    const order = await this.orders.byId(orderId, principal.type === 'admin' ? undefined : channelOf(principal));
    if (!order) throw problems.notFound(`Order ${orderId}`);
    return { ...order, shipments: await this.queries.execute(new ShipmentsOfOrderQuery(orderId)) };
  }

  @Post(':orderId/cancel')
  @Access({ scopes: ['orders:write'], orAdmin: true })
  @ApiOperation({ summary: 'Cancel an order; once the ERP has it, the ERP order is deleted (409 with its reason if it refuses)' })
  async cancel(@Param('orderId', uuid) orderId: string, @CurrentPrincipal() principal: Principal, @Res({ passthrough: true }) reply: FastifyReply) {
    const result = await this.cancelOrder.cancel(orderId, principal.type === 'admin' ? undefined : channelOf(principal), actorOf(principal));
    const order = await this.orders.byId(orderId);
    void reply.status(result.outcome === 'cancelled' ? 200 : 202);
    return { orderId, status: order!.status, cancellation: result.outcome === 'cancelled' ? 'done' : 'pending' };
  }

  @Post(':orderId/release')
  @HttpCode(200)
  @Access('admin')
  @ApiOperation({ summary: 'Release an order held for credit: it goes to the ERP now' })
  async release(@Param('orderId', uuid) orderId: string, @CurrentPrincipal() principal: Principal) {
    await this.releaseOrder.release(orderId, actorOf(principal));
    const order = await this.orders.byId(orderId);
    return { orderId, status: order!.status };
  }
}

function channelOf(principal: Principal): string {
  if (principal.type !== 'channel') throw problems.forbidden('Orders are submitted and read with a channel API key');
  return principal.id;
}
