import { Controller, Get, HttpCode, Inject, Param, Post, type PipeTransform } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import type pg from 'pg';
import { AuditLog } from '../../../platform/audit/audit-log.js';
import { PG_POOL } from '../../../platform/database/pg-pool.js';
import { inTransaction } from '../../../platform/database/transaction.js';
import { problems } from '../../../platform/http/problem.js';
import { Access, actorOf, CurrentPrincipal, type Principal } from '../../../platform/security/principal.js';
import { ShipmentIntake } from '../commands/shipment-intake.js';

/** An exception's id: a positive whole number (a bigint in the table; past 15 digits there is no such row). */
const id: PipeTransform<string, number> = {
  transform(value: string): number {
    if (!/^[1-9][0-9]{0,14}$/.test(value)) throw problems.validation([{ field: 'id', message: 'id must be a positive whole number' }]);
    return Number(value);
  },
};

/**
 * What cannot apply as it came and needs a person: shipments that name a line the order does not have, ship
 * more than is left, or name their order ambiguously. Each is retried after a fix, or discarded; both audited.
 */
@ApiTags('ops')
@ApiBearerAuth('adminToken')
@Controller('v1/ops/exceptions')
export class ExceptionsController {
  constructor(
    @Inject(PG_POOL) private readonly pool: pg.Pool,
    private readonly intake: ShipmentIntake,
    private readonly audit: AuditLog,
  ) {}

  @Get()
  @Access('admin')
  @ApiOperation({ summary: 'Open exceptions, oldest first, each with its reason and the event as it came' })
  async list() {
    const { rows } = await this.pool.query(
      `select id::text, 'shipment' as domain, shipment_id as "shipmentId", source, event_id as "eventId", reason, event, correlation_id as "correlationId",
              received_at as "receivedAt", attempts, last_tried_at as "lastTriedAt"
         from shipment_hold where kind = 'exception' and resolved_at is null order by id limit 500`,
    );
    return { exceptions: rows };
  }

  @Post(':id/retry')
  @HttpCode(200)
  @Access('admin')
  @ApiOperation({ summary: 'Apply the event again, after a fix: applied (or stale) closes the exception; otherwise its new reason' })
  async retry(@Param('id', id) holdId: number, @CurrentPrincipal() principal: Principal) {
    const outcome = await this.intake.retry(String(holdId), (tx, after) =>
      this.audit.recordInTransaction(tx, { actor: actorOf(principal), action: 'retry', resourceType: 'exception', resourceId: String(holdId), before: null, after }));
    if (!outcome) throw problems.notFound(`Open exception ${holdId}`);
    return { id: String(holdId), ...outcome };
  }

  @Post(':id/discard')
  @HttpCode(200)
  @Access('admin')
  @ApiOperation({ summary: 'Give the event up: it is kept, closed as discarded' })
  async discard(@Param('id', id) holdId: number, @CurrentPrincipal() principal: Principal) {
    return inTransaction(this.pool, async (tx) => {
      const { rows: [held] } = await tx.query<{ shipment_id: string; reason: string }>(
        `update shipment_hold set resolved_at = clock_timestamp(), resolution = 'discarded' where id = $1 and resolved_at is null returning shipment_id, reason`, [holdId],
      );
      if (!held) throw problems.notFound(`Open exception ${holdId}`);
      await this.audit.recordInTransaction(tx, { actor: actorOf(principal), action: 'discard', resourceType: 'exception', resourceId: String(holdId), before: { shipmentId: held.shipment_id, reason: held.reason }, after: null });
      return { id: String(holdId), resolution: 'discarded' };
    });
  }
}
