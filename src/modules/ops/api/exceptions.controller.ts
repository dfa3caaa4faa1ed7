import { Body, Controller, Get, HttpCode, Param, Post, Query, type PipeTransform } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiPropertyOptional, ApiTags } from '@nestjs/swagger';
import { IsIn, IsOptional, IsString } from 'class-validator';
import { AuditLog } from '../../../platform/audit/audit-log.js';
import { ExceptionSources, type AuditInTransaction } from '../../../platform/exceptions/exception-sources.js';
import { problems } from '../../../platform/http/problem.js';
import { Access, actorOf, CurrentPrincipal, type Principal } from '../../../platform/security/principal.js';
import { ReasonDto, ReplayDto } from './ops.dto.js';

/** An exception's id: a positive whole number (a bigint in the tables; past 15 digits there is no such row). */
const id: PipeTransform<string, string> = {
  transform(value: string): string {
    if (!/^[1-9][0-9]{0,14}$/.test(value)) throw problems.validation([{ field: 'id', message: 'id must be a positive whole number' }]);
    return value;
  },
};

const OPEN_LIMIT = 500;

export class ExceptionsQueryDto {
  @ApiPropertyOptional({ enum: ['shipment', 'customer'], description: 'Only this domain\'s exceptions' })
  @IsOptional() @IsString() @IsIn(['shipment', 'customer'])
  domain?: string;
}

/**
 * What was received but cannot apply as it came, of every domain, each with its reason: shipments that name a line
 * the order does not have or name their order ambiguously, customer records breaking a quality rule. Each is
 * retried (as it was, or corrected) or dismissed; both audited.
 */
@ApiTags('ops')
@ApiBearerAuth('adminToken')
@Controller('v1/ops/exceptions')
export class ExceptionsController {
  constructor(
    private readonly sources: ExceptionSources,
    private readonly audit: AuditLog,
  ) {}

  @Get()
  @Access({ scopes: ['ops:read'], orAdmin: true })
  @ApiOperation({ summary: 'Open exceptions, oldest first, each with its domain, reason and the payload as it came' })
  async list(@Query() query: ExceptionsQueryDto) {
    return { exceptions: await this.sources.open(OPEN_LIMIT, query.domain) };
  }

  @Post(':id/retry')
  @HttpCode(200)
  @Access({ scopes: ['ops:write'], orAdmin: true })
  @ApiOperation({ summary: 'Apply it again, optionally with a corrected payload: applied closes the exception; otherwise its new reason' })
  async retry(@Param('id', id) exceptionId: string, @Body() body: ReplayDto, @CurrentPrincipal() principal: Principal) {
    const outcome = await this.sources.retry(exceptionId, body.payload, this.audited(principal, 'retry', exceptionId, body.reason, body.payload));
    if (!outcome) throw problems.notFound(`Open exception ${exceptionId}`);
    return { id: exceptionId, ...outcome };
  }

  @Post(':id/dismiss')
  @HttpCode(200)
  @Access({ scopes: ['ops:write'], orAdmin: true })
  @ApiOperation({ summary: 'Give it up: it is kept, closed as dismissed' })
  async dismiss(@Param('id', id) exceptionId: string, @Body() body: ReasonDto, @CurrentPrincipal() principal: Principal) {
    const dismissed = await this.sources.dismiss(exceptionId, this.audited(principal, 'dismiss', exceptionId, body?.reason));
    if (!dismissed) throw problems.notFound(`Open exception ${exceptionId}`);
    return { id: exceptionId, domain: dismissed.domain, resolution: 'dismissed' };
  }

  /** The same as dismiss (its first name). */
  @Post(':id/discard')
  @HttpCode(200)
  @Access({ scopes: ['ops:write'], orAdmin: true })
  @ApiOperation({ summary: 'The same as dismiss', deprecated: true })
  discard(@Param('id', id) exceptionId: string, @Body() body: ReasonDto, @CurrentPrincipal() principal: Principal) {
    return this.dismiss(exceptionId, body, principal);
  }

  private audited(principal: Principal, action: string, exceptionId: string, reason?: string, corrected?: Record<string, unknown>): AuditInTransaction {
    return (tx, outcome) => this.audit.recordInTransaction(tx, {
      actor: actorOf(principal), action, resourceType: 'exception', resourceId: exceptionId, before: corrected ? { corrected } : null, after: reason ? { ...outcome, reason } : outcome,
    });
  }
}
