import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import type pg from 'pg';
import { PG_POOL } from '../../../platform/database/pg-pool.js';
import { inTransaction } from '../../../platform/database/transaction.js';
import { ExceptionSources, type AuditInTransaction, type ExceptionSource, type OpenException, type RetryOutcome } from '../../../platform/exceptions/exception-sources.js';
import { validatePlain } from '../../../platform/http/field-errors.js';
import { problems } from '../../../platform/http/problem.js';
import { CustomerChangeDto } from '../api/customers.dto.js';
import { CUSTOMER_FIELDS, type CustomerChange, type CustomerField, type CustomerFields } from '../domain/customer.js';
import { CustomerRecords, type ChangeRoute, type SystemId } from './customer-records.js';

interface HeldChange extends CustomerChange {
  route: Exclude<ChangeRoute, 'api'>;
}

/**
 * Customer changes by webhook or poll that broke a quality rule (docs/CUSTOMERS.md, "Quality"): held whole, never
 * written anywhere, until an operator retries them (after fixing the record at its source, or with corrected
 * fields) or dismisses them.
 */
@Injectable()
export class CustomerExceptions implements ExceptionSource, OnModuleInit {
  readonly domain = 'customer';

  constructor(
    @Inject(PG_POOL) private readonly pool: pg.Pool,
    private readonly records: CustomerRecords,
    private readonly sources: ExceptionSources,
  ) {}

  onModuleInit(): void {
    this.sources.register(this);
  }

  async open(limit: number): Promise<OpenException[]> {
    const { rows } = await this.pool.query<OpenException>(
      `select id::text, 'customer' as domain, source, account_number as subject, reason, change->'fields' as payload, correlation_id as "correlationId",
              received_at as "receivedAt", attempts, last_tried_at as "lastTriedAt", account_number as "accountNumber", change->>'system' as system,
              change->>'route' as route, violations
         from customer_exception where resolved_at is null order by id limit $1`,
      [limit],
    );
    return rows;
  }

  /** The held change again (its fields replaced by `corrected`, checked as `PUT /v1/customers` checks them), judged as any change from its source. */
  async retry(id: string, corrected: Record<string, unknown> | undefined, audit: AuditInTransaction): Promise<RetryOutcome | undefined> {
    return inTransaction(this.pool, async (tx) => {
      const { rows: [held] } = await tx.query<{ account_number: string; source: string; change: HeldChange; system_id: SystemId | SystemId[] | null }>(
        'select account_number, source, change, system_id from customer_exception where id = $1 and resolved_at is null for update skip locked', [id],
      );
      if (!held) return undefined;
      // Checked once the exception is known to be a customer's (another domain's id is not this source's to judge).
      const fields = corrected ? checked(corrected) : undefined;
      const { route, ...change } = held.change;
      const outcome = await this.records.change(tx, held.account_number, { ...change, fields: fields ?? change.fields }, route, held.source, held.system_id ?? undefined);
      const reason = outcome.violations.length > 0 ? outcome.violations.map((v) => `${v.field}: ${v.rule}: ${v.message}`).join('; ')
        : outcome.foreign ? `the source knows account ${held.account_number} by another record, ${outcome.foreign}`
          : outcome.unknownAccount;
      const result: RetryOutcome = reason
        ? { closed: false, reason, accountNumber: held.account_number }
        : { closed: true, accountNumber: held.account_number, applied: Object.keys(outcome.merge.applied), refused: outcome.merge.refused, version: outcome.view?.version };
      if (reason) {
        await tx.query(`update customer_exception set reason = $2, attempts = attempts + 1, last_tried_at = clock_timestamp() where id = $1 and resolved_at is null`, [id, reason]);
      }
      await audit(tx, result);
      return result;
    });
  }

  async dismiss(id: string, audit: AuditInTransaction): Promise<{ subject: string; reason: string } | undefined> {
    return inTransaction(this.pool, async (tx) => {
      const { rows: [held] } = await tx.query<{ subject: string; reason: string }>(
        `update customer_exception set resolved_at = clock_timestamp(), resolution = 'dismissed' where id = $1 and resolved_at is null
         returning account_number as subject, reason`, [id],
      );
      if (held) await audit(tx, { resolution: 'dismissed', accountNumber: held.subject, reason: held.reason });
      return held;
    });
  }
}

/** Corrected fields: canonical ones only, each as the API takes it. */
function checked(corrected: Record<string, unknown>): Partial<CustomerFields> {
  const unknown = Object.keys(corrected).filter((f) => !CUSTOMER_FIELDS.includes(f as CustomerField));
  if (unknown.length > 0) throw problems.validation(unknown.map((f) => ({ field: `payload.${f}`, message: `not a customer field; the fields are ${CUSTOMER_FIELDS.join(', ')}` })));
  const { errors } = validatePlain(CustomerChangeDto, corrected, 'payload');
  if (errors.length > 0) throw problems.validation(errors);
  return corrected as Partial<CustomerFields>;
}
