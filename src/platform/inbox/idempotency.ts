import { createHash } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import type pg from 'pg';
import { PG_POOL } from '../database/pg-pool.js';
import { inTransaction, type Tx } from '../database/transaction.js';
import { problems, ProblemException } from '../http/problem.js';

export interface StoredResponse {
  status: number;
  body: unknown;
}

const KEY_SHAPE = /^[\x21-\x7e]{1,255}$/;

/**
 * Idempotency-Key for HTTP commands, per principal. The key is written first in the transaction of the
 * effect, so a concurrent request with the same key waits on it; it then finds the stored answer (or a
 * different body: 409). If the effect rolls back, so does the key.
 */
@Injectable()
export class IdempotencyKeys {
  constructor(@Inject(PG_POOL) private readonly pool: pg.Pool) {}

  async execute(
    principal: string,
    key: string | undefined,
    request: unknown,
    effect: (tx: Tx) => Promise<StoredResponse>,
  ): Promise<StoredResponse & { replayed: boolean }> {
    if (key === undefined || key === '') throw problems.validation([{ field: 'Idempotency-Key', message: 'the Idempotency-Key header is required' }]);
    if (!KEY_SHAPE.test(key)) throw problems.validation([{ field: 'Idempotency-Key', message: 'Idempotency-Key must be 1-255 visible ASCII characters' }]);
    const requestHash = hashRequest(request);
    return inTransaction(this.pool, async (tx) => {
      const claimed = await tx.query(
        'insert into idempotency_record (principal, key, request_hash) values ($1, $2, $3) on conflict do nothing',
        [principal, key, requestHash],
      );
      if (claimed.rowCount === 1) {
        const response = await effect(tx);
        await tx.query('update idempotency_record set status = $1, body = $2::jsonb where principal = $3 and key = $4', [
          response.status, JSON.stringify(response.body ?? null), principal, key,
        ]);
        return { ...response, replayed: false };
      }
      const { rows: [stored] } = await tx.query<{ request_hash: string; status: number | null; body: unknown }>(
        'select request_hash, status, body from idempotency_record where principal = $1 and key = $2',
        [principal, key],
      );
      if (!stored || stored.request_hash !== requestHash) {
        throw new ProblemException(409, 'idempotency-key-reused', 'Idempotency-Key reused',
          'This Idempotency-Key was used with a different request; use a new key for a new request');
      }
      if (stored.status === null) throw problems.conflict('A request with this Idempotency-Key is still in progress; retry shortly');
      return { status: stored.status, body: stored.body, replayed: true };
    });
  }
}

/** A stable hash of a JSON request: key order does not matter. */
export function hashRequest(request: unknown): string {
  return createHash('sha256').update(canonicalJson(request)).digest('hex');
}

function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
}
