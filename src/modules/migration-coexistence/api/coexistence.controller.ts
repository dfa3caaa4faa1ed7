import { Body, Controller, Get, Inject, Param, Put, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiProperty, ApiPropertyOptional, ApiTags } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsIn, IsInt, IsNumber, IsOptional, IsString, Matches, Max, MaxLength, Min } from 'class-validator';
import type pg from 'pg';
import { QueryBus } from '@nestjs/cqrs';
import { RESOURCE_ID } from '../../../platform/http/resource-id.js';
import { AuditLog } from '../../../platform/audit/audit-log.js';
import { PG_POOL } from '../../../platform/database/pg-pool.js';
import { inTransaction } from '../../../platform/database/transaction.js';
import { problems } from '../../../platform/http/problem.js';
import { Access, actorOf, CurrentPrincipal, type Principal } from '../../../platform/security/principal.js';
import { MISMATCH_CATEGORIES, type MismatchCategory } from '../domain/diff.js';
import { ROUTING_DOMAINS, type RoutingDomain } from '../domain/routing.js';
import { CoexistenceReport } from '../queries/report/coexistence-report.js';
import { XREF_ENTITIES, type XrefEntity } from '../commands/record-xref/record-xref.js';
import { EntityIdsQuery } from '../queries/xref/xref.js';
import { RoutingDomainPipe } from './routing.controller.js';

export class ReportQueryDto {
  @ApiPropertyOptional({ description: 'Hours back from now (default: each domain\'s readiness window, else 24)', minimum: 1, maximum: 8760 })
  @IsOptional() @Type(() => Number) @IsInt() @Min(1) @Max(8760)
  windowHours?: number;

  @ApiPropertyOptional({ enum: ROUTING_DOMAINS })
  @IsOptional() @IsIn(ROUTING_DOMAINS)
  domain?: RoutingDomain;
}

export class DiffQueryDto {
  @ApiPropertyOptional({ enum: ROUTING_DOMAINS })
  @IsOptional() @IsIn(ROUTING_DOMAINS)
  domain?: RoutingDomain;

  @ApiPropertyOptional({ enum: MISMATCH_CATEGORIES })
  @IsOptional() @IsIn(MISMATCH_CATEGORIES)
  category?: MismatchCategory;

  @ApiPropertyOptional({ description: 'One transaction (an order id, an account number, SKU@warehouse)' })
  @IsOptional() @IsString() @MaxLength(200)
  transaction?: string;

  @ApiPropertyOptional({ minimum: 1, maximum: 500, default: 100 })
  @IsOptional() @Type(() => Number) @IsInt() @Min(1) @Max(500)
  limit?: number;

  @ApiPropertyOptional({ description: 'The `next` of the previous page' })
  @IsOptional() @IsString() @Matches(/^[1-9][0-9]{0,17}$/)
  before?: string;
}

export class XrefQueryDto {
  @ApiPropertyOptional({ description: 'Find the entity by its id (or document number) in this ERP backend' })
  @IsOptional() @IsString() @Matches(RESOURCE_ID)
  backend?: string;
}

export class ReadinessDto {
  @ApiProperty({ description: 'The match rate a switch to the cloud ERP needs, 0 to 1', example: 0.98 })
  @IsNumber({ allowNaN: false, allowInfinity: false }) @Min(0) @Max(1)
  threshold: number;

  @ApiPropertyOptional({ description: 'Over the last hours', default: 24 })
  @IsOptional() @IsInt() @Min(1) @Max(8760)
  windowHours?: number;

  @ApiPropertyOptional({ description: 'Transactions compared in the window before a verdict can be ready', default: 20 })
  @IsOptional() @IsInt() @Min(0) @Max(1_000_000)
  minTransactions?: number;
}

const isXrefEntity = (entity: string): entity is XrefEntity => (XREF_ENTITIES as readonly string[]).includes(entity);

/** What the shadow runs show: per domain the mode, transactions compared, match rate, mismatches and readiness. */
@ApiTags('coexistence')
@ApiBearerAuth('admin')
@Controller('v1')
export class CoexistenceController {
  constructor(
    @Inject(PG_POOL) private readonly pool: pg.Pool,
    private readonly report: CoexistenceReport,
    private readonly audit: AuditLog,
    private readonly queries: QueryBus,
  ) {}

  @Get('coexistence/report')
  @Access({ scopes: ['ops:read'], orAdmin: true })
  @ApiOperation({ summary: 'Per domain: mode, transactions compared, match rate, mismatches by category, and the cutover readiness verdict' })
  async getReport(@Query() query: ReportQueryDto) {
    return { domains: await this.report.report(this.pool, query.windowHours, query.domain) };
  }

  @Get('coexistence/diffs')
  @Access({ scopes: ['ops:read'], orAdmin: true })
  @ApiOperation({ summary: 'Each mismatch, newest first, with both sides field by field' })
  diffs(@Query() query: DiffQueryDto) {
    return this.report.diffs({ domain: query.domain, category: query.category, transaction: query.transaction }, query.limit ?? 100, query.before);
  }

  @Get('coexistence/xref/:entity/:id')
  @Access({ scopes: ['ops:read'], orAdmin: true })
  @ApiOperation({ summary: "An entity's ids: its canonical id (an order id, an account number, a shipment id) and its id and document number in each ERP backend; by the ERP's id with ?backend=" })
  async xref(@Param('entity') entity: string, @Param('id') id: string, @Query() query: XrefQueryDto) {
    if (!isXrefEntity(entity)) throw problems.validation([{ field: 'entity', message: `entity must be one of ${XREF_ENTITIES.join(', ')}` }]);
    const ids = await inTransaction(this.pool, (tx) => this.queries.execute(new EntityIdsQuery(tx, entity, query.backend ? { backendId: query.backend, erpIdOrRef: id } : { canonicalId: id })));
    if (!ids) throw problems.notFound(`The ${entity} ${id}${query.backend ? ` of ERP backend ${query.backend}` : ''} in the cross-reference`);
    return ids;
  }

  @Get('admin/coexistence/readiness/:domain')
  @Access('admin')
  @ApiOperation({ summary: 'The readiness rule of a domain and its verdict now' })
  async readiness(@Param('domain', RoutingDomainPipe) domain: RoutingDomain) {
    const rule = await this.report.readinessRule(this.pool, domain);
    if (!rule) throw problems.notFound(`A readiness rule for ${domain}`);
    return { domain, ...rule, ...(await this.report.verdict(this.pool, domain, rule)) };
  }

  @Put('admin/coexistence/readiness/:domain')
  @Access('admin')
  @ApiOperation({ summary: 'Set the match rate (over a window, after enough transactions) a switch of the domain to the cloud ERP needs; audited' })
  async setReadiness(@Param('domain', RoutingDomainPipe) domain: RoutingDomain, @Body() body: ReadinessDto, @CurrentPrincipal() principal: Principal) {
    const rule = { threshold: body.threshold, windowHours: body.windowHours ?? 24, minTransactions: body.minTransactions ?? 20 };
    return inTransaction(this.pool, async (tx) => {
      const before = await this.report.readinessRule(tx, domain);
      await this.report.setReadiness(tx, domain, rule);
      await this.audit.recordInTransaction(tx, { actor: actorOf(principal), action: before ? 'update' : 'create', resourceType: 'coexistence-readiness', resourceId: domain, before, after: rule });
      return { domain, ...rule, ...(await this.report.verdict(tx, domain, rule)) };
    });
  }
}
