import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import type pg from 'pg';
import { PG_POOL } from '../../../platform/database/pg-pool.js';
import { inTransaction } from '../../../platform/database/transaction.js';
import { ExceptionSources, type AuditInTransaction, type ExceptionSource, type OpenException, type RetryOutcome } from '../../../platform/exceptions/exception-sources.js';
import { validatePlain } from '../../../platform/http/field-errors.js';
import { problems } from '../../../platform/http/problem.js';
import { ShipmentEventDto, shipmentEventErrors } from '../api/shipment.dto.js';
import { ShipmentIntake, type ShipmentEvent } from './shipment-intake.js';

/** Shipment events held as exceptions (a line the order does not have, more than is left, an ambiguous order). */
@Injectable()
export class ShipmentExceptions implements ExceptionSource, OnModuleInit {
  readonly domain = 'shipment';

  constructor(
    @Inject(PG_POOL) private readonly pool: pg.Pool,
    private readonly intake: ShipmentIntake,
    private readonly sources: ExceptionSources,
  ) {}

  onModuleInit(): void {
    this.sources.register(this);
  }

  async open(limit: number): Promise<OpenException[]> {
    const { rows } = await this.pool.query<OpenException>(
      `select id::text, 'shipment' as domain, source, shipment_id as subject, reason, event as payload, correlation_id as "correlationId",
              received_at as "receivedAt", attempts, last_tried_at as "lastTriedAt", shipment_id as "shipmentId", event_id as "eventId", event
         from shipment_hold where kind = 'exception' and resolved_at is null order by id limit $1`,
      [limit],
    );
    return rows;
  }

  async retry(id: string, corrected: Record<string, unknown> | undefined, audit: AuditInTransaction): Promise<RetryOutcome | undefined> {
    // Checked once the exception is known to be a shipment's (another domain's id is not this source's to judge).
    const { rows: [open] } = await this.pool.query(`select 1 from shipment_hold where id = $1 and kind = 'exception' and resolved_at is null`, [id]);
    if (!open) return undefined;
    const event = corrected ? this.checked(corrected) : undefined;
    const outcome = await this.intake.retry(id, (tx, o) => audit(tx, { ...o }), event, 'exception');
    if (!outcome) return undefined;
    return outcome.outcome === 'parked' ? { closed: false, ...outcome } : { closed: true, ...outcome };
  }

  async dismiss(id: string, audit: AuditInTransaction): Promise<{ subject: string; reason: string } | undefined> {
    return inTransaction(this.pool, async (tx) => {
      const { rows: [held] } = await tx.query<{ subject: string; reason: string }>(
        `update shipment_hold set resolved_at = clock_timestamp(), resolution = 'dismissed'
          where id = $1 and kind = 'exception' and resolved_at is null returning shipment_id as subject, reason`, [id],
      );
      if (held) await audit(tx, { resolution: 'dismissed', shipmentId: held.subject, reason: held.reason });
      return held;
    });
  }

  /** A corrected event, checked as `POST /v1/shipments/events` checks one (its event id is the held one's). */
  private checked(corrected: Record<string, unknown>): ShipmentEvent {
    const { value, errors } = validatePlain(ShipmentEventDto, { eventId: 'held', ...corrected }, 'payload');
    const all = errors.length > 0 ? errors : shipmentEventErrors(value).map((e) => ({ ...e, field: `payload.${e.field}` }));
    if (all.length > 0) throw problems.validation(all);
    return value as ShipmentEvent;
  }
}
