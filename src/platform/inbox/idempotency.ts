import { createHash } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import type { ItemResult } from '../database/group-commit.js';
import { plannedPerCall } from '../database/prepared-statements.js';
import type { Tx } from '../database/transaction.js';
import { problems, ProblemException } from '../http/problem.js';

export interface StoredResponse {
  status: number;
  body: unknown;
}

/** A request under an Idempotency-Key, checked and hashed (`IdempotencyKeys.request`). */
export interface KeyedRequest {
  principal: string;
  key: string;
  requestHash: string;
}

export type KeyedResponse = StoredResponse & { replayed: boolean };

const KEY_SHAPE = /^[\x21-\x7e]{1,255}$/;

/**
 * Idempotency-Key for HTTP commands, per principal. The keys are written first in the transaction of the
 * effect, so a concurrent request with the same key waits on it; it then finds the stored answer (or a
 * different body: 409). A request whose effect is refused leaves no key behind, as if it had rolled back.
 */
@Injectable()
export class IdempotencyKeys {
  /** Checks the header's shape (400 naming it) and hashes the request. */
  request(principal: string, key: string | undefined, request: unknown): KeyedRequest {
    if (key === undefined || key === '') throw problems.validation([{ field: 'Idempotency-Key', message: 'the Idempotency-Key header is required' }]);
    if (!KEY_SHAPE.test(key)) throw problems.validation([{ field: 'Idempotency-Key', message: 'Idempotency-Key must be 1-255 visible ASCII characters' }]);
    return { principal, key, requestHash: hashRequest(request) };
  }

  /**
   * Many keyed requests in the caller's transaction, each (principal, key) at most once among them: the new
   * ones go to `effect` together (one result each, in order), the others are answered from what is stored.
   */
  async executeMany<T extends KeyedRequest>(
    tx: Tx,
    requests: readonly T[],
    effect: (tx: Tx, claimed: T[]) => Promise<Array<ItemResult<StoredResponse>>>,
  ): Promise<Array<ItemResult<KeyedResponse>>> {
    // In key order, so that two transactions claiming overlapping keys wait for each other instead of deadlocking.
    const order = requests.map((_, i) => i).sort((a, b) => compare(requests[a]!, requests[b]!));
    const { rows: claimedRows } = await tx.query<{ principal: string; key: string }>(
      `insert into idempotency_record (principal, key, request_hash)
       select p, k, h from unnest($1::text[], $2::text[], $3::text[]) with ordinality as x(p, k, h, n) order by n
       on conflict do nothing returning principal, key`,
      [order.map((i) => requests[i]!.principal), order.map((i) => requests[i]!.key), order.map((i) => requests[i]!.requestHash)],
    );
    const claimedKeys = new Set(claimedRows.map((r) => keyOf(r.principal, r.key)));
    const claimed = new Set(requests.map((_, i) => i).filter((i) => claimedKeys.has(keyOf(requests[i]!.principal, requests[i]!.key))));
    const results: Array<ItemResult<KeyedResponse>> = new Array(requests.length);
    const others = requests.map((_, i) => i).filter((i) => !claimed.has(i));
    if (others.length > 0) {
      const { rows: stored } = await tx.query<{ principal: string; key: string; request_hash: string; status: number | null; body: unknown }>(
        plannedPerCall(`select r.principal, r.key, r.request_hash, r.status, r.body from idempotency_record r
           join unnest($1::text[], $2::text[]) as x(p, k) on r.principal = x.p and r.key = x.k`),
        [others.map((i) => requests[i]!.principal), others.map((i) => requests[i]!.key)],
      );
      const byKey = new Map(stored.map((s) => [keyOf(s.principal, s.key), s]));
      for (const i of others) results[i] = storedAnswer(requests[i]!, byKey.get(keyOf(requests[i]!.principal, requests[i]!.key)));
    }
    const fresh = requests.map((_, i) => i).filter((i) => claimed.has(i));
    if (fresh.length === 0) return results;
    const answers = await effect(tx, fresh.map((i) => requests[i]!));
    const answered: number[] = [];
    const refused: number[] = [];
    fresh.forEach((i, j) => {
      const answer = answers[j]!;
      results[i] = answer.ok ? { ok: true, value: { ...answer.value, replayed: false } } : answer;
      (answer.ok ? answered : refused).push(i);
    });
    const pick = (indexes: number[], field: (r: T, i: number) => unknown) => indexes.map((i) => field(requests[i]!, i));
    // One statement: the answers stored, and the keys of refused requests given back.
    await tx.query(
      plannedPerCall(`with stored as (
         update idempotency_record r set status = x.s, body = x.b from unnest($1::text[], $2::text[], $3::int[], $4::jsonb[]) as x(p, k, s, b)
          where r.principal = x.p and r.key = x.k)
       delete from idempotency_record r using unnest($5::text[], $6::text[]) as x(p, k) where r.principal = x.p and r.key = x.k`),
      [
        pick(answered, (r) => r.principal), pick(answered, (r) => r.key),
        pick(answered, (_, i) => (results[i] as { value: KeyedResponse }).value.status),
        pick(answered, (_, i) => JSON.stringify((results[i] as { value: KeyedResponse }).value.body ?? null)),
        pick(refused, (r) => r.principal), pick(refused, (r) => r.key),
      ],
    );
    return results;
  }
}

function storedAnswer(request: KeyedRequest, stored: { request_hash: string; status: number | null; body: unknown } | undefined): ItemResult<KeyedResponse> {
  if (!stored || stored.request_hash !== request.requestHash) {
    return { ok: false, error: new ProblemException(409, 'idempotency-key-reused', 'Idempotency-Key reused',
      'This Idempotency-Key was used with a different request; use a new key for a new request') };
  }
  if (stored.status === null) return { ok: false, error: problems.conflict('A request with this Idempotency-Key is still in progress; retry shortly') };
  return { ok: true, value: { status: stored.status, body: stored.body, replayed: true } };
}

const keyOf = (principal: string, key: string) => `${principal}\u0000${key}`;
const compare = (a: KeyedRequest, b: KeyedRequest) => (a.principal < b.principal ? -1 : a.principal > b.principal ? 1 : a.key < b.key ? -1 : a.key > b.key ? 1 : 0);

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
