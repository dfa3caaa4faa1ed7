import { Inject, Injectable } from '@nestjs/common';
import { QueryBus } from '@nestjs/cqrs';
import type pg from 'pg';
import { GroupCommit, type ItemResult } from '../../../../platform/database/group-commit.js';
import { PG_POOL } from '../../../../platform/database/pg-pool.js';
import type { Tx } from '../../../../platform/database/transaction.js';
import { problems } from '../../../../platform/http/problem.js';
import { IdempotencyKeys, type KeyedRequest, type KeyedResponse, type StoredResponse } from '../../../../platform/inbox/idempotency.js';
import { ChannelQuery, type Channel } from '../../../configuration/index.js';
import type { CreateOrderDto } from '../../api/order.dto.js';
import { ORDERS_SETTINGS, type OrdersSettings } from '../cancel-order/cancel-order.js';
import { AcceptOrder } from './accept-order.js';

/** An order a channel posted, under its Idempotency-Key. */
export interface PostedOrder extends KeyedRequest {
  channelId: string;
  request: CreateOrderDto;
  correlationId: string;
}

/**
 * `POST /v1/orders`, group-committed: the orders that arrive while a transaction runs are taken together by the
 * next, with their Idempotency-Keys, in one set of statements and one commit (docs/ORDERS.md, "Group commit").
 * Each request is answered once that commit is done, so a 202 still means the order is stored.
 */
@Injectable()
export class ApiOrderIntake {
  private readonly group: GroupCommit<PostedOrder, KeyedResponse>;

  constructor(
    @Inject(PG_POOL) pool: pg.Pool,
    @Inject(ORDERS_SETTINGS) settings: OrdersSettings,
    private readonly idempotency: IdempotencyKeys,
    private readonly acceptOrder: AcceptOrder,
    private readonly queries: QueryBus,
  ) {
    this.group = new GroupCommit(pool, (tx, posted) => this.idempotency.executeMany(tx, posted, (inner, claimed) => this.accept(inner, claimed)), {
      maxBatch: settings.intakeBatch,
      lanes: settings.intakeLanes,
      gatherMs: settings.intakeGatherMs,
      keyOf: (posted) => `${posted.principal}\u0000${posted.key}`,
    });
  }

  /** The answer to store and send: 202 with the order, or the error that refused it. */
  submit(posted: PostedOrder): Promise<KeyedResponse> {
    return this.group.submit(posted);
  }

  private async accept(tx: Tx, posted: PostedOrder[]): Promise<Array<ItemResult<StoredResponse>>> {
    const channels = new Map<string, Channel | null>();
    for (const channelId of new Set(posted.map((p) => p.channelId))) channels.set(channelId, await this.queries.execute(new ChannelQuery(channelId, tx)));
    const results: Array<ItemResult<StoredResponse>> = posted.map((p) =>
      channels.get(p.channelId) ? { ok: true, value: { status: 202, body: null } } : { ok: false, error: problems.forbidden(`Channel ${p.channelId} no longer exists`) });
    const taken = posted.map((_, i) => i).filter((i) => results[i]!.ok);
    const accepted = await this.acceptOrder.acceptMany(tx, taken.map((i) => ({
      channel: channels.get(posted[i]!.channelId)!, request: posted[i]!.request, options: { source: 'api' as const }, correlationId: posted[i]!.correlationId,
    })));
    taken.forEach((i, j) => {
      const result = accepted[j]!;
      results[i] = result.ok ? { ok: true, value: { status: 202, body: result.value } } : result;
    });
    return results;
  }
}
