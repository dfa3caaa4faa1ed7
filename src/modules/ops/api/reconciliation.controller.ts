import { Controller, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiPropertyOptional, ApiTags } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsBoolean, IsOptional, IsString, MaxLength } from 'class-validator';
import { problems } from '../../../platform/http/problem.js';
import { Reconcilers } from '../../../platform/reconciliation/reconcilers.js';
import { ReconciliationRuns } from '../../../platform/reconciliation/reconciliation-runs.js';
import { ReconciliationScheduler } from '../../../platform/reconciliation/reconciliation-scheduler.js';
import { Access } from '../../../platform/security/principal.js';

class ReconcileNowDto {
  @ApiPropertyOptional({ description: 'Only this target (`channel:<id>`, `erp:<id>`)' })
  @IsOptional() @IsString() @MaxLength(200)
  target?: string;

  @ApiPropertyOptional({ description: 'Answer once the runs have ended, with their figures' })
  @IsOptional() @Transform(({ value }) => value === true || value === 'true') @IsBoolean()
  wait?: boolean;
}

class ReconciliationQueryDto {
  @ApiPropertyOptional({ description: 'Only this domain' })
  @IsOptional() @IsString() @MaxLength(50)
  domain?: string;
}

/**
 * Reconciliation: runs of each domain's comparison with its targets, on schedule or now; each run's figures
 * (compared, drifted, repaired, waiting for a person) and the findings that wait for a person.
 */
@ApiTags('ops')
@ApiBearerAuth('adminToken')
@Controller('v1')
export class ReconciliationController {
  constructor(
    private readonly reconcilers: Reconcilers,
    private readonly runs: ReconciliationRuns,
    private readonly scheduler: ReconciliationScheduler,
  ) {}

  @Post('admin/reconcile/:domain')
  @HttpCode(202)
  @Access('admin')
  @ApiOperation({ summary: "Run a domain's reconciliation now, for each of its targets (or one); `wait=true` answers the runs' figures once they end" })
  async reconcileNow(@Param('domain') domain: string, @Query() query: ReconcileNowDto) {
    if (!this.reconcilers.domains().includes(domain)) {
      throw problems.notFound(`Reconciliation of "${domain}" (known: ${this.reconcilers.domains().join(', ') || 'none'})`);
    }
    return { runs: await this.scheduler.runNow(domain, query.target, query.wait ?? false) };
  }

  @Get('ops/reconciliation')
  @Access({ scopes: ['ops:read'], orAdmin: true })
  @ApiOperation({ summary: 'The latest runs (compared, drifted, repaired, waiting for a person) and the findings waiting for a person' })
  async report(@Query() query: ReconciliationQueryDto) {
    const [runs, waiting] = await Promise.all([this.runs.latest(query.domain, 50), this.runs.waiting(query.domain, 500)]);
    return { domains: this.reconcilers.domains(), runs, waiting };
  }

  @Get('ops/reconciliation/runs/:id')
  @Access({ scopes: ['ops:read'], orAdmin: true })
  @ApiOperation({ summary: 'One run with what it found and what it did about each' })
  async run(@Param('id') id: string) {
    if (!/^[1-9][0-9]{0,17}$/.test(id)) throw problems.validation([{ field: 'id', message: 'id must be a positive whole number' }]);
    const run = await this.runs.byId(id);
    if (!run) throw problems.notFound(`Reconciliation run ${id}`);
    return { ...run, findings: await this.runs.findingsOf(id, 1000) };
  }
}
