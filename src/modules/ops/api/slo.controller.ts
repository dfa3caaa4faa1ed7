import { Controller, Get, Inject } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiProperty, ApiPropertyOptional, ApiTags } from '@nestjs/swagger';
import type pg from 'pg';
import { ALERT_SETTINGS, type AlertSettings } from '../../../platform/alerting/alert-settings.js';
import { openBreaches, type SloBreach } from '../../../platform/alerting/slo-breaches.js';
import { PG_POOL } from '../../../platform/database/pg-pool.js';
import { FlowStats } from '../../../platform/delivery/flow-stats.js';
import { Access } from '../../../platform/security/principal.js';

class SloFlowDto {
  @ApiProperty({ example: 'erp.sales-order.create', description: 'Message type' })
  flow: string;

  @ApiProperty({ example: 'erp:bc-cloud' })
  destination: string;

  @ApiProperty({ example: 120, description: "The objective: the flow's oldest message not yet delivered should be at most this old" })
  maxAgeSeconds: number;

  @ApiProperty({ example: 42.5, nullable: true, type: Number, description: 'Age of its oldest message not yet delivered now; null when nothing waits' })
  oldestAgeSeconds: number | null;

  @ApiProperty({ description: 'Whether a breach of the objective is open' })
  breached: boolean;
}

class SloNoticesDto {
  @ApiPropertyOptional({ type: String, format: 'date-time', nullable: true })
  webhook: string | null;

  @ApiPropertyOptional({ type: String, format: 'date-time', nullable: true })
  email: string | null;
}

class SloBreachDto {
  @ApiProperty({ example: '17' })
  id: string;

  @ApiProperty({ example: 'erp.sales-order.create' })
  flow: string;

  @ApiProperty({ example: 'erp:bc-cloud' })
  destination: string;

  @ApiProperty({ example: 120 })
  maxAgeSeconds: number;

  @ApiProperty({ format: 'date-time' })
  openedAt: string;

  @ApiProperty({ description: "The oldest message's age when the breach was seen" })
  openedAgeSeconds: number;

  @ApiProperty({ description: 'The most it has reached since' })
  worstAgeSeconds: number;

  @ApiProperty({ example: ['webhook', 'email'], description: 'The channels the breach is told on' })
  notify: string[];

  @ApiProperty({ type: () => SloNoticesDto, description: 'When the breach notice went out on each channel (null: not yet; tried again at each check)' })
  notified: SloNoticesDto;

  @ApiProperty({ description: 'Notices of this breach that were not taken and were tried again' })
  notifyFailures: number;

  @ApiProperty({ nullable: true, type: String })
  lastNotifyError: string | null;
}

class SloAlertingDto {
  @ApiProperty({ description: 'Breaches are told to CROSSDOCK_ALERT_WEBHOOK_URL' })
  webhook: boolean;

  @ApiProperty({ description: 'Breaches are mailed through CROSSDOCK_SMTP_URL' })
  email: boolean;

  @ApiProperty({ example: 15, description: 'How often the objectives are checked (CROSSDOCK_SLO_CHECK_MS)' })
  checkEverySeconds: number;
}

class SloReportDto {
  @ApiProperty({ type: () => [SloFlowDto], description: 'Every flow held to a delay objective (`slo` of its channel or ERP backend)' })
  flows: SloFlowDto[];

  @ApiProperty({ type: () => [SloBreachDto], description: 'The breaches open now' })
  breaches: SloBreachDto[];

  @ApiProperty({ type: () => SloAlertingDto })
  alerting: SloAlertingDto;
}

const keyOf = (flow: { flow: string; destination: string }) => `${flow.destination}\n${flow.flow}`;

function breachView(breach: SloBreach): SloBreachDto {
  const { notified, resolvedAt: _resolvedAt, resolvedAgeSeconds: _resolvedAge, openedAt, ...rest } = breach;
  return {
    ...rest,
    openedAt: openedAt.toISOString(),
    notified: { webhook: notified.breached.webhook?.toISOString() ?? null, email: notified.breached.email?.toISOString() ?? null },
  };
}

@ApiTags('ops')
@ApiBearerAuth('admin')
@Controller('v1/ops')
export class SloController {
  constructor(
    private readonly stats: FlowStats,
    @Inject(PG_POOL) private readonly pool: pg.Pool,
    @Inject(ALERT_SETTINGS) private readonly settings: AlertSettings,
  ) {}

  /** Per flow, its delay objective and its oldest age now; the breaches open. */
  @Get('slo')
  @Access({ scopes: ['ops:read'], orAdmin: true })
  @ApiOkResponse({ type: SloReportDto })
  async report(): Promise<SloReportDto> {
    const [flows, open] = await Promise.all([this.stats.objectiveFlows(), openBreaches(this.pool)]);
    const breached = new Set(open.map(keyOf));
    return {
      flows: flows.map((flow) => ({ ...flow, breached: breached.has(keyOf(flow)) })),
      breaches: open.map(breachView),
      alerting: { webhook: this.settings.webhook !== undefined, email: this.settings.email !== undefined, checkEverySeconds: this.settings.checkMs / 1000 },
    };
  }
}
