import { Body, Controller, Get, HttpCode, Inject, Param, ParseUUIDPipe, Post, Query } from '@nestjs/common';
import type pg from 'pg';
import { PG_POOL } from '../../../platform/database/pg-pool.js';
import { SearchSources } from '../../../platform/search/search-sources.js';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { DeadLetters } from '../../../platform/delivery/dead-letters.js';
import { FlowLatency } from '../../../platform/delivery/flow-latency.js';
import { FlowStats } from '../../../platform/delivery/flow-stats.js';
import { Governor } from '../../../platform/governor/governor.js';
import { problems } from '../../../platform/http/problem.js';
import { TraceQuery } from '../../../platform/observability/trace-query.js';
import { Access, actorOf, CurrentPrincipal, type Principal } from '../../../platform/security/principal.js';
import { DeadLetterFilterDto, DeadLetterQueryDto, ReasonDto, ReplayDto, ReplayMatchingDto } from './ops.dto.js';

const CORRELATION_ID = /^[A-Za-z0-9._:@/+=-]{1,128}$/;

@ApiTags('ops')
@ApiBearerAuth('admin')
@Controller('v1/ops')
export class OpsController {
  constructor(
    private readonly deadLetters: DeadLetters,
    private readonly flows: FlowStats,
    private readonly latency: FlowLatency,
    private readonly governor: Governor,
    private readonly traces: TraceQuery,
    private readonly searches: SearchSources,
    @Inject(PG_POOL) private readonly pool: pg.Pool,
  ) {}

  /** Every flow to every destination (waiting, queued, sending, dead, oldest age) and every target's governor. */
  @Get('flows')
  @Access({ scopes: ['ops:read'], orAdmin: true })
  async listFlows() {
    const [flows, targets] = await Promise.all([this.flows.read(), this.governor.snapshot()]);
    return { flows, targets };
  }

  /** Deliveries per minute and destination over the last hour, with the targets' answer times (p50, p95). */
  @Get('flows/latency')
  @Access({ scopes: ['ops:read'], orAdmin: true })
  async flowLatency() {
    return { points: await this.latency.lastHour() };
  }

  @Get('dead-letters')
  @Access({ scopes: ['ops:read'], orAdmin: true })
  listDeadLetters(@Query() query: DeadLetterQueryDto) {
    const { limit, cursor, ...filter } = query;
    return this.deadLetters.list(filter, limit ?? 50, cursor);
  }

  /** How many dead letters a filter selects, by flow, destination and failure class: what a bulk action would touch. */
  @Get('dead-letters/groups')
  @Access({ scopes: ['ops:read'], orAdmin: true })
  async deadLetterGroups(@Query() filter: DeadLetterFilterDto) {
    const groups = await this.deadLetters.groups(filter);
    return { total: groups.reduce((sum, g) => sum + g.count, 0), groups };
  }

  /** Replays every dead letter the filter selects (oldest first, up to `limit`). */
  @Post('dead-letters/replay')
  @Access({ scopes: ['ops:write'], orAdmin: true })
  @HttpCode(202)
  async replayMatching(@Body() body: ReplayMatchingDto, @CurrentPrincipal() principal: Principal) {
    const { limit, reason, ...filter } = body;
    return { replayed: await this.deadLetters.replayMatching(filter, actorOf(principal), limit ?? 100, reason) };
  }

  /** Discards every dead letter the filter selects (oldest first, up to `limit`); the keys held behind them go on. */
  @Post('dead-letters/discard')
  @Access({ scopes: ['ops:write'], orAdmin: true })
  @HttpCode(200)
  async discardMatching(@Body() body: ReplayMatchingDto, @CurrentPrincipal() principal: Principal) {
    const { limit, reason, ...filter } = body;
    return { discarded: await this.deadLetters.discardMatching(filter, actorOf(principal), limit ?? 100, reason) };
  }

  @Get('dead-letters/:id')
  @Access({ scopes: ['ops:read'], orAdmin: true })
  async getDeadLetter(@Param('id', new ParseUUIDPipe()) id: string) {
    const deadLetter = await this.deadLetters.get(id);
    if (!deadLetter) throw problems.notFound(`Dead letter "${id}"`);
    return deadLetter;
  }

  @Post('dead-letters/:id/replay')
  @Access({ scopes: ['ops:write'], orAdmin: true })
  @HttpCode(202)
  async replay(@Param('id', new ParseUUIDPipe()) id: string, @Body() body: ReplayDto, @CurrentPrincipal() principal: Principal) {
    if (!(await this.deadLetters.replay(id, actorOf(principal), body.payload, body.reason))) throw problems.notFound(`Dead letter "${id}"`);
    return { id, status: 'queued' };
  }

  @Post('dead-letters/:id/discard')
  @Access({ scopes: ['ops:write'], orAdmin: true })
  @HttpCode(200)
  async discard(@Param('id', new ParseUUIDPipe()) id: string, @Body() body: ReasonDto, @CurrentPrincipal() principal: Principal) {
    if (!(await this.deadLetters.discard(id, actorOf(principal), body?.reason))) throw problems.notFound(`Dead letter "${id}"`);
    return { id, status: 'discarded' };
  }

  /** Keys whose commands wait behind a dead letter; replay it to retry, discard it to skip. */
  @Get('blocked-keys')
  @Access({ scopes: ['ops:read'], orAdmin: true })
  blockedKeys() {
    return this.deadLetters.blockedKeys(500);
  }

  /** Retry the dead letter that blocks a key: the same as replaying it. */
  @Post('blocked-keys/:deadLetterId/retry')
  @Access({ scopes: ['ops:write'], orAdmin: true })
  @HttpCode(202)
  retryBlocked(@Param('deadLetterId', new ParseUUIDPipe()) id: string, @Body() body: ReasonDto, @CurrentPrincipal() principal: Principal) {
    return this.replay(id, { reason: body?.reason }, principal);
  }

  /** Skip the dead letter that blocks a key (it is discarded); the key's next message goes on. */
  @Post('blocked-keys/:deadLetterId/skip')
  @Access({ scopes: ['ops:write'], orAdmin: true })
  @HttpCode(200)
  skipBlocked(@Param('deadLetterId', new ParseUUIDPipe()) id: string, @Body() body: ReasonDto, @CurrentPrincipal() principal: Principal) {
    return this.discard(id, body, principal);
  }

  /**
   * One box for any id: an order's id, Crossdock's reference, a channel's order id, the ERP's reference, a shipment
   * id, a SKU, an account number, a correlation id; each match with where to see the rest (its timeline first).
   */
  @Get('search')
  @Access({ scopes: ['ops:read'], orAdmin: true })
  async search(@Query('q') q: string | undefined) {
    const text = (q ?? '').trim();
    if (text.length === 0 || text.length > 200 || /[\u0000-\u001f]/.test(text)) throw problems.validation([{ field: 'q', message: 'q is the text to find: 1-200 characters, none of them control characters' }]);
    const hits = await this.searches.search(text);
    // A correlation id that names none of those is still a transaction, when its trace has steps.
    if (CORRELATION_ID.test(text) && !hits.some((h) => h.correlationId === text)) {
      const { rows } = await this.pool.query('(select 1 from trace_event where correlation_id = $1 limit 1) union all (select 1 from outbox where correlation_id = $1 limit 1) limit 1', [text]);
      if (rows.length > 0) hits.push({ kind: 'correlation', id: text, matched: 'correlationId', correlationId: text, summary: {}, links: [`/v1/ops/trace/${text}`] });
    }
    return { query: text, results: hits };
  }

  @Get('trace/:correlationId')
  @Access({ scopes: ['ops:read'], orAdmin: true })
  async trace(@Param('correlationId') correlationId: string) {
    if (!CORRELATION_ID.test(correlationId)) throw problems.validation([{ field: 'correlationId', message: 'correlationId has an unsupported shape' }]);
    const trace = await this.traces.timeline(correlationId);
    if (!trace) throw problems.notFound(`Trace "${correlationId}"`);
    return trace;
  }
}
