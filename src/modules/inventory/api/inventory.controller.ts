import { Body, Controller, Get, HttpCode, Inject, Param, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import type pg from 'pg';
import { PG_POOL } from '../../../platform/database/pg-pool.js';
import { inTransaction } from '../../../platform/database/transaction.js';
import { BatchDto, sortedCounts, validateItems, type IntakeCounts } from '../../../platform/http/batch-items.js';
import { problems } from '../../../platform/http/problem.js';
import { Access, CurrentPrincipal, sourceOf, type Principal } from '../../../platform/security/principal.js';
import { ErpStockPoller } from '../commands/erp-stock-poller.js';
import { StockIntake } from '../commands/stock-intake.js';
import { compareShadowLevels, refuseAll, stockAuthority } from '../commands/stock-authority.js';
import { CommandBus, QueryBus } from '@nestjs/cqrs';
import { ResourceIdPipe } from '../../../platform/http/resource-id.js';
import { ErpBackendQuery } from '../../configuration/index.js';
import { InventoryQuery } from '../queries/inventory-query.js';
import { StockLevelDto, StockMovementDto } from './inventory.dto.js';

const MAX_SKUS = 100;
const STOCK_FROM_SOURCES = 'Stock is reported with a source system API key';

@ApiTags('inventory')
@ApiBearerAuth('apiKey')
@Controller('v1')
export class InventoryController {
  constructor(
    @Inject(PG_POOL) private readonly pool: pg.Pool,
    private readonly intake: StockIntake,
    private readonly query: InventoryQuery,
    private readonly poller: ErpStockPoller,
    private readonly queries: QueryBus,
    private readonly commands: CommandBus,
  ) {}

  @Post('inventory/levels')
  @HttpCode(202)
  @Access({ scopes: ['inventory:write'] })
  @ApiOperation({ summary: 'Absolute stock positions (up to 1,000): duplicates and stale reports are counted and skipped' })
  async levels(@Body() body: BatchDto, @CurrentPrincipal() principal: Principal): Promise<IntakeCounts> {
    const source = sourceOf(principal, STOCK_FROM_SOURCES);
    const { valid, counts } = validateItems(StockLevelDto, body.items);
    for (const item of [...valid]) {
      if ((item.sequence === undefined) === (item.occurredAt === undefined)) {
        counts.errors.push({ index: item.index, eventId: item.eventId, field: `items[${item.index}].sequence`, message: 'send exactly one of sequence and occurredAt' });
        valid.splice(valid.indexOf(item), 1);
      }
    }
    const compared = await inTransaction(this.pool, async (tx) => {
      const authority = await stockAuthority(this.queries, principal.type === 'source' ? principal.id : '', tx);
      if ('refuse' in authority) refuseAll(counts, valid, authority.refuse);
      else if ('compare' in authority) return compareShadowLevels(this.commands, tx, authority.compare, valid);
      else await this.intake.applyLevels(tx, source, valid, counts);
      return undefined;
    });
    return sortedCounts(compared === undefined ? counts : { ...counts, compared });
  }

  @Post('inventory/movements')
  @HttpCode(202)
  @Access({ scopes: ['inventory:write'] })
  @ApiOperation({ summary: 'Stock movements as deltas (up to 1,000), each applied exactly once' })
  async movements(@Body() body: BatchDto, @CurrentPrincipal() principal: Principal): Promise<IntakeCounts> {
    const source = sourceOf(principal, STOCK_FROM_SOURCES);
    const { valid, counts } = validateItems(StockMovementDto, body.items);
    await inTransaction(this.pool, async (tx) => {
      const authority = await stockAuthority(this.queries, principal.type === 'source' ? principal.id : '', tx);
      if ('apply' in authority) return this.intake.applyMovements(tx, source, valid, counts);
      // A delta cannot be compared with a figure: the shadow reports levels to be compared.
      refuseAll(counts, valid, 'refuse' in authority ? authority.refuse : `movements of ERP backend ${authority.compare.shadow}, the shadow for inventory, are not applied; report its levels to compare them`);
    });
    return sortedCounts(counts);
  }

  @Post('admin/erp-backends/:id/sync/stock')
  @HttpCode(200)
  @Access('admin')
  @ApiOperation({ summary: 'Poll the inventory authority for stock changed since its last poll, now; the shadow in shadow mode is compared, never applied' })
  async pollStock(@Param('id', ResourceIdPipe) id: string) {
    if (!(await this.queries.execute(new ErpBackendQuery(id)))) throw problems.notFound(`ERP backend ${id}`);
    const result = await this.poller.pollOnDemand(id);
    if ('refused' in result) throw problems.conflict(result.refused);
    if ('compared' in result) return { backendId: id, compared: result.compared, applied: 0 };
    if (!result.polled) throw problems.conflict(`Stock of ${id} is being polled right now; retry shortly`);
    return { backendId: id, ...sortedCounts(result.polled) };
  }

  @Get('inventory/:sku')
  @Access({ scopes: ['inventory:read'], orAdmin: true })
  @ApiOperation({ summary: 'A SKU: positions per warehouse, open reservations, available-to-sell and last published per channel' })
  async sku(@Param('sku') sku: string, @CurrentPrincipal() principal: Principal) {
    if (principal.type === 'channel') throw problems.forbidden('A channel reads its own figures at GET /v1/availability');
    return this.skuView(sku);
  }

  @Get('ops/skus/:sku')
  @Access({ scopes: ['ops:read'], orAdmin: true })
  @ApiOperation({ summary: "A SKU as operators see it: positions, reservations, each channel's figure and what it was last sent" })
  opsSku(@Param('sku') sku: string) {
    return this.skuView(sku);
  }

  private async skuView(sku: string) {
    if (sku.length === 0 || sku.length > 64) throw problems.validation([{ field: 'sku', message: 'sku must be 1-64 characters' }]);
    const view = await this.query.sku(sku);
    if (!view) throw problems.notFound(`Stock of SKU ${sku}`);
    return view;
  }

  @Get('availability')
  @Access({ scopes: ['inventory:read'] })
  @ApiOperation({ summary: "The calling channel's available-to-sell for up to 100 SKUs (?sku=A&sku=B or ?sku=A,B)" })
  async availability(@Query('sku') sku: string | string[] | undefined, @CurrentPrincipal() principal: Principal) {
    if (principal.type !== 'channel') throw problems.forbidden('Availability is read with a channel API key');
    const skus = [...new Set((Array.isArray(sku) ? sku : [sku ?? '']).flatMap((s) => s.split(',')).map((s) => s.trim()).filter(Boolean))];
    if (skus.length === 0) throw problems.validation([{ field: 'sku', message: 'name at least one sku' }]);
    if (skus.length > MAX_SKUS) throw problems.validation([{ field: 'sku', message: `at most ${MAX_SKUS} SKUs per call` }]);
    if (skus.some((s) => s.length > 64)) throw problems.validation([{ field: 'sku', message: 'a sku has at most 64 characters' }]);
    return { channelId: principal.id, items: await this.query.availability(principal.id, skus) };
  }
}
