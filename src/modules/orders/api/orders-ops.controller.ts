import { Body, Controller, Get, HttpCode, Param, ParseUUIDPipe, Post, Query } from '@nestjs/common';
import { QueryBus } from '@nestjs/cqrs';
import { ApiBearerAuth, ApiOperation, ApiPropertyOptional, ApiTags, IntersectionType } from '@nestjs/swagger';
import { IsIn, IsOptional, IsString, MaxLength } from 'class-validator';
import { PageQueryDto } from '../../../platform/http/page-query.dto.js';
import { problems } from '../../../platform/http/problem.js';
import { Access, actorOf, CurrentPrincipal, type Principal } from '../../../platform/security/principal.js';
import { ShipmentsOfOrderQuery } from '../../shipments/index.js';
import { ReleaseOrder } from '../commands/release-order/release-order.js';
import { ORDER_STATUSES } from '../domain/order-status.js';
import { OrderQuery } from '../queries/order-query.js';

const uuid = new ParseUUIDPipe({ exceptionFactory: () => problems.validation([{ field: 'orderId', message: 'orderId must be a UUID' }]) });

class OrderFilterDto {
  @ApiPropertyOptional({ enum: ORDER_STATUSES })
  @IsOptional() @IsIn(ORDER_STATUSES)
  status?: string;

  @ApiPropertyOptional({ description: "Only this channel's orders" })
  @IsOptional() @IsString() @MaxLength(64)
  channelId?: string;
}

class OrderListQueryDto extends IntersectionType(OrderFilterDto, PageQueryDto) {}

class ReleaseDto {
  @ApiPropertyOptional({ description: 'Why: kept in the order history and the audit log', maxLength: 500 })
  @IsOptional() @IsString() @MaxLength(500)
  reason?: string;
}

/** Orders as operators see them: any channel's, newest first, filtered by status; an order with its shipments; a hold released. */
@ApiTags('ops')
@ApiBearerAuth('adminToken')
@Controller('v1/ops/orders')
export class OrdersOpsController {
  constructor(
    private readonly orders: OrderQuery,
    private readonly queries: QueryBus,
    private readonly releaseOrder: ReleaseOrder,
  ) {}

  @Get()
  @Access({ scopes: ['ops:read'], orAdmin: true })
  @ApiOperation({ summary: 'Orders of every channel, newest first, optionally of one status and channel; `cursor` pages on' })
  list(@Query() query: OrderListQueryDto) {
    const { limit, cursor, ...filter } = query;
    return this.orders.list(filter, limit ?? 50, cursor);
  }

  @Get(':orderId')
  @Access({ scopes: ['ops:read'], orAdmin: true })
  @ApiOperation({ summary: 'An order of any channel, with its history, lines and shipments' })
  async get(@Param('orderId', uuid) orderId: string) {
    const order = await this.orders.byId(orderId);
    if (!order) throw problems.notFound(`Order ${orderId}`);
    return { ...order, shipments: await this.queries.execute(new ShipmentsOfOrderQuery(orderId)) };
  }

  @Post(':orderId/release')
  @HttpCode(200)
  @Access({ scopes: ['ops:write'], orAdmin: true })
  @ApiOperation({ summary: 'Release an order held for credit or price: it goes to the ERP now (audited, with the reason)' })
  async release(@Param('orderId', uuid) orderId: string, @Body() body: ReleaseDto, @CurrentPrincipal() principal: Principal) {
    await this.releaseOrder.release(orderId, actorOf(principal), body?.reason);
    const order = await this.orders.byId(orderId);
    return { orderId, status: order!.status };
  }
}
