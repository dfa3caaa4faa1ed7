import { Body, Controller, Get, HttpCode, Param, ParseUUIDPipe, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { DeadLetters } from '../../../platform/delivery/dead-letters.js';
import { FlowStats } from '../../../platform/delivery/flow-stats.js';
import { Governor } from '../../../platform/governor/governor.js';
import { problems } from '../../../platform/http/problem.js';
import { TraceQuery } from '../../../platform/observability/trace-query.js';
import { Access, CurrentPrincipal, type Principal } from '../../../platform/security/principal.js';
import { DeadLetterQueryDto, ReplayDto, ReplayMatchingDto } from './ops.dto.js';

const actorOf = (principal: Principal) => (principal.type === 'admin' ? principal.actor : `${principal.type}:${principal.id}`);
const CORRELATION_ID = /^[A-Za-z0-9._:@/+=-]{1,128}$/;

@ApiTags('ops')
@ApiBearerAuth('admin')
@Controller('v1/ops')
export class OpsController {
  constructor(
    private readonly deadLetters: DeadLetters,
    private readonly flows: FlowStats,
    private readonly governor: Governor,
    private readonly traces: TraceQuery,
  ) {}

  /** Every flow to every destination (waiting, queued, sending, dead, oldest age) and every target's governor. */
  @Get('flows')
  @Access({ scopes: ['ops:read'], orAdmin: true })
  async listFlows() {
    const [flows, targets] = await Promise.all([this.flows.read(), this.governor.snapshot()]);
    return { flows, targets };
  }

  @Get('dead-letters')
  @Access({ scopes: ['ops:read'], orAdmin: true })
  listDeadLetters(@Query() query: DeadLetterQueryDto) {
    const { limit, cursor, ...filter } = query;
    return this.deadLetters.list(filter, limit ?? 50, cursor);
  }

  /** Replays every dead letter the filter selects (oldest first, up to `limit`). */
  @Post('dead-letters/replay')
  @Access({ scopes: ['ops:write'], orAdmin: true })
  @HttpCode(202)
  async replayMatching(@Body() body: ReplayMatchingDto, @CurrentPrincipal() principal: Principal) {
    const { limit, ...filter } = body;
    return { replayed: await this.deadLetters.replayMatching(filter, actorOf(principal), limit ?? 100) };
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
    if (!(await this.deadLetters.replay(id, actorOf(principal), body.payload))) throw problems.notFound(`Dead letter "${id}"`);
    return { id, status: 'queued' };
  }

  @Post('dead-letters/:id/discard')
  @Access({ scopes: ['ops:write'], orAdmin: true })
  @HttpCode(200)
  async discard(@Param('id', new ParseUUIDPipe()) id: string, @CurrentPrincipal() principal: Principal) {
    if (!(await this.deadLetters.discard(id, actorOf(principal)))) throw problems.notFound(`Dead letter "${id}"`);
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
  retryBlocked(@Param('deadLetterId', new ParseUUIDPipe()) id: string, @CurrentPrincipal() principal: Principal) {
    return this.replay(id, {}, principal);
  }

  /** Skip the dead letter that blocks a key (it is discarded); the key's next message goes on. */
  @Post('blocked-keys/:deadLetterId/skip')
  @Access({ scopes: ['ops:write'], orAdmin: true })
  @HttpCode(200)
  skipBlocked(@Param('deadLetterId', new ParseUUIDPipe()) id: string, @CurrentPrincipal() principal: Principal) {
    return this.discard(id, principal);
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
