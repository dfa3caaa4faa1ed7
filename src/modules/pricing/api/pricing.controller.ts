import { Body, Controller, Get, HttpCode, Inject, Param, Post, Query } from '@nestjs/common';
import { QueryBus } from '@nestjs/cqrs';
import { ApiBearerAuth, ApiOperation, ApiQuery, ApiTags } from '@nestjs/swagger';
import type pg from 'pg';
import { PG_POOL } from '../../../platform/database/pg-pool.js';
import { inTransaction } from '../../../platform/database/transaction.js';
import { BatchDto, sortedCounts, validateItems, type IntakeCounts } from '../../../platform/http/batch-items.js';
import { problems } from '../../../platform/http/problem.js';
import { ResourceIdPipe } from '../../../platform/http/resource-id.js';
import { Access, CurrentPrincipal, sourceOf, type Principal } from '../../../platform/security/principal.js';
import { ChannelQuery, ErpBackendQuery } from '../../configuration/index.js';
import { PriceIntake } from '../commands/price-intake.js';
import { PriceSchedules } from '../commands/price-schedules.js';
import { PriceLookup } from '../queries/price-lookup.js';
import { PriceItemDto } from './pricing.dto.js';

const MAX_SKUS = 100;
const MAX_QUANTITY = 1e12;

@ApiTags('pricing')
@ApiBearerAuth('apiKey')
@Controller('v1')
export class PricingController {
  constructor(
    @Inject(PG_POOL) private readonly pool: pg.Pool,
    private readonly intake: PriceIntake,
    private readonly lookup: PriceLookup,
    private readonly schedules: PriceSchedules,
    private readonly queries: QueryBus,
  ) {}

  @Post('prices')
  @HttpCode(202)
  @Access({ scopes: ['prices:write'] })
  @ApiOperation({ summary: 'Prices (up to 1,000): list, base and customer-specific, with quantity breaks and validity; duplicates and stale ones are counted and skipped' })
  async prices(@Body() body: BatchDto, @CurrentPrincipal() principal: Principal): Promise<IntakeCounts> {
    const source = sourceOf(principal, 'Prices are reported with a source system API key');
    const { valid, counts } = validateItems(PriceItemDto, body.items);
    await inTransaction(this.pool, (tx) => this.intake.apply(tx, source, valid, counts));
    return sortedCounts(counts);
  }

  @Get('prices')
  @Access({ scopes: ['prices:read'] })
  @ApiQuery({ name: 'sku', description: 'One or more SKUs: repeat the parameter or separate them with commas (at most 100)' })
  @ApiQuery({ name: 'quantity', required: false, description: 'The quantity asked for (quantity breaks); 1 when absent' })
  @ApiQuery({ name: 'customer', required: false, description: "The customer's ERP account number: its own prices and its price list count" })
  @ApiOperation({ summary: "The calling channel's effective unit prices now, with the list, source and validity of each" })
  async lookUp(@Query('sku') sku: string | string[] | undefined, @Query('quantity') quantity: string | undefined, @Query('customer') customer: string | undefined, @CurrentPrincipal() principal: Principal) {
    if (principal.type !== 'channel') throw problems.forbidden('Prices are read with a channel API key');
    const skus = [...new Set((Array.isArray(sku) ? sku : [sku ?? '']).flatMap((s) => s.split(',')).map((s) => s.trim()).filter(Boolean))];
    const errors = [];
    if (skus.length === 0) errors.push({ field: 'sku', message: 'name at least one sku' });
    if (skus.length > MAX_SKUS) errors.push({ field: 'sku', message: `at most ${MAX_SKUS} SKUs per call` });
    if (skus.some((s) => s.length > 64)) errors.push({ field: 'sku', message: 'a sku has at most 64 characters' });
    const amount = quantity === undefined ? 1 : Number(quantity);
    if (!(Number.isFinite(amount) && amount > 0 && amount <= MAX_QUANTITY)) errors.push({ field: 'quantity', message: 'quantity must be a number above 0' });
    if (customer !== undefined && (customer.length === 0 || customer.length > 64)) errors.push({ field: 'customer', message: 'customer must be 1-64 characters' });
    if (errors.length > 0) throw problems.validation(errors);
    const channel = await this.queries.execute(new ChannelQuery(principal.id));
    if (!channel?.pricing) throw problems.conflict(`Channel ${principal.id} has no pricing configured (pricing: {priceList, currency})`);
    const items = await this.lookup.prices(channel.pricing, skus.map((s) => ({ sku: s, quantity: amount, ...(customer ? { customer } : {}) })));
    return { channelId: channel.id, currency: channel.pricing.currency, priceList: channel.pricing.priceList, quantity: amount, customer: customer ?? null, items };
  }

  @Post('admin/erp-backends/:id/sync/prices')
  @HttpCode(200)
  @Access('admin')
  @ApiOperation({ summary: 'Pull every price the backend holds, now: changed ones are published, ones it no longer holds withdrawn' })
  async pull(@Param('id', ResourceIdPipe) id: string) {
    if (!(await this.queries.execute(new ErpBackendQuery(id)))) throw problems.notFound(`ERP backend ${id}`);
    const result = await this.schedules.pull(id);
    if (!result) throw problems.conflict(`Prices of ${id} are being pulled right now; retry shortly`);
    return sortedCounts(result);
  }
}
