import { Injectable } from '@nestjs/common';
import type { Tx } from '../database/transaction.js';
import type { TargetLimits } from '../governor/decide.js';
import type { Delivery } from '../outbox/message.js';
import { TargetError } from './outcome.js';

/**
 * Delivers to every destination of one type (`erp`, `channel`, ...): `deliver` resolves when the target has
 * the message and throws a TargetError (or anything, counted retryable) when it has not. It sends the
 * delivery id as the target's idempotency key, and checks before it creates where the target cannot.
 */
export interface DestinationHandler {
  /** May resolve with what the target answered (e.g. the ERP's document number), for the message's owner. */
  deliver(delivery: Delivery, signal: AbortSignal): Promise<DeliveryResult | void>;
  /** The target's limits and maintenance windows, as configured now. */
  limits(destinationId: string): Promise<TargetLimits>;
  /**
   * A target that takes several state deliveries of one type in one call: how many at most (1 or absent: one a
   * call; without a type, the most it takes of any type). `deliverBatch` then delivers them all, or throws for all; or it answers the ones the target refused
   * one by one (dead-lettered with the target's reason) and the rest are delivered. The governor counts the
   * batch as one call.
   */
  batchSize?(destinationId: string, type?: string): Promise<number>;
  deliverBatch?(deliveries: Delivery[], signal: AbortSignal): Promise<BatchDeliveryResult | void>;
}

export type DeliveryResult = Record<string, unknown>;

/** What a batch call answered: the deliveries refused one by one, with the target's reason; anything else is traced. */
export interface BatchDeliveryResult {
  rejected?: Array<{ deliveryId: string; message: string }>;
  [key: string]: unknown;
}

/**
 * The destination's limits, or why it cannot be used: one that no longer exists fails its messages (replayable
 * once it is back); anything else, a database that did not answer say, throws, so that the batch is retried.
 */
export async function limitsOf(handler: DestinationHandler, destinationId: string): Promise<{ limits?: TargetLimits; unusable?: string }> {
  try {
    return { limits: await handler.limits(destinationId) };
  } catch (error) {
    if (!(error instanceof TargetError && error.failureClass === 'permanent')) throw error;
    return { unusable: error.message };
  }
}

/**
 * What became of one delivery, told to the module that owns its message type, in the transaction that
 * records it: `attempted` (a try that will be retried), `delivered`, `dead`, `replayed`.
 */
export interface DeliveryOutcome {
  event: 'attempted' | 'delivered' | 'dead' | 'replayed';
  delivery: Pick<Delivery, 'deliveryId' | 'messageId' | 'type' | 'key' | 'destination' | 'correlationId'> & Partial<Pick<Delivery, 'payload' | 'version'>>;
  /** When the try began (attempted, delivered, and dead after a try). */
  attemptedAt?: Date;
  result?: DeliveryResult;
  failure?: { class: string; message: string; status?: number };
}

export type OutcomeListener = (tx: Tx, outcome: DeliveryOutcome) => Promise<void>;
/** Hears a settled batch's outcomes of one message type at once (state deliveries settle hundreds together). */
export type BatchOutcomeListener = (tx: Tx, outcomes: DeliveryOutcome[]) => Promise<void>;

@Injectable()
export class Destinations {
  private readonly handlers = new Map<string, DestinationHandler>();
  private readonly listeners = new Map<string, BatchOutcomeListener>();

  register(type: string, handler: DestinationHandler): void {
    if (this.handlers.has(type)) throw new Error(`a handler for destination type "${type}" is already registered`);
    this.handlers.set(type, handler);
  }

  handlerOf(type: string): DestinationHandler | undefined {
    return this.handlers.get(type);
  }

  /** The owner of a message type hears of its deliveries' outcomes (one listener per type). */
  onOutcome(messageType: string, listener: OutcomeListener): void {
    this.onOutcomes(messageType, async (tx, outcomes) => {
      for (const outcome of outcomes) await listener(tx, outcome);
    });
  }

  onOutcomes(messageType: string, listener: BatchOutcomeListener): void {
    if (this.listeners.has(messageType)) throw new Error(`a listener for "${messageType}" outcomes is already registered`);
    this.listeners.set(messageType, listener);
  }

  async notify(tx: Tx, outcome: DeliveryOutcome): Promise<void> {
    await this.notifyAll(tx, [outcome]);
  }

  /** Tells each owner its outcomes, in order, one call per message type. */
  async notifyAll(tx: Tx, outcomes: readonly DeliveryOutcome[]): Promise<void> {
    const byType = new Map<string, DeliveryOutcome[]>();
    for (const outcome of outcomes) {
      if (!this.listeners.has(outcome.delivery.type)) continue;
      const list = byType.get(outcome.delivery.type) ?? [];
      if (list.length === 0) byType.set(outcome.delivery.type, list);
      list.push(outcome);
    }
    for (const [type, list] of byType) await this.listeners.get(type)!(tx, list);
  }

  hasListener(messageType: string): boolean {
    return this.listeners.has(messageType);
  }
}
