import { Injectable } from '@nestjs/common';
import type { Sql } from '../database/transaction.js';
import type { OutboxMessage } from './message.js';

/** Names the destinations of a message, in the producer's transaction (routing and subscribers as they are now). */
export type DestinationResolver = (sql: Sql, message: OutboxMessage) => Promise<string[]> | string[];

/** Which destinations each message type goes to, declared once by the module that owns the type. */
@Injectable()
export class Subscriptions {
  private readonly resolvers = new Map<string, DestinationResolver[]>();

  declare(type: string, resolver: DestinationResolver): void {
    this.resolvers.set(type, [...(this.resolvers.get(type) ?? []), resolver]);
  }

  async destinationsOf(sql: Sql, message: OutboxMessage): Promise<string[]> {
    const resolvers = this.resolvers.get(message.type);
    if (!resolvers) throw new Error(`no subscription is declared for message type "${message.type}"`);
    const all = await Promise.all(resolvers.map((resolve) => resolve(sql, message)));
    return [...new Set(all.flat())];
  }
}
