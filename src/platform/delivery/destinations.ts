import { Injectable } from '@nestjs/common';
import type { TargetLimits } from '../governor/decide.js';
import type { Delivery } from '../outbox/message.js';

/**
 * Delivers to every destination of one type (`erp`, `channel`, ...): `deliver` resolves when the target has
 * the message and throws a TargetError (or anything, counted retryable) when it has not. It sends the
 * delivery id as the target's idempotency key, and checks before it creates where the target cannot.
 */
export interface DestinationHandler {
  deliver(delivery: Delivery, signal: AbortSignal): Promise<void>;
  /** The target's limits and maintenance windows, as configured now. */
  limits(destinationId: string): Promise<TargetLimits>;
}

@Injectable()
export class Destinations {
  private readonly handlers = new Map<string, DestinationHandler>();

  register(type: string, handler: DestinationHandler): void {
    if (this.handlers.has(type)) throw new Error(`a handler for destination type "${type}" is already registered`);
    this.handlers.set(type, handler);
  }

  handlerOf(type: string): DestinationHandler | undefined {
    return this.handlers.get(type);
  }
}
