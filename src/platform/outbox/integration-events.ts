import { Injectable, type OnModuleInit } from '@nestjs/common';
import type { Sql } from '../database/transaction.js';
import { Destinations, type DestinationHandler } from '../delivery/destinations.js';
import { TargetError } from '../delivery/outcome.js';
import type { TargetLimits } from '../governor/decide.js';
import type { Delivery } from './message.js';
import { Outbox } from './outbox.js';

/** An integration event class: a plain class whose static `type` names it on the wire. */
export interface IntegrationEventClass<E extends object> {
  readonly type: string;
  prototype: E;
}

type Handler = (event: object) => Promise<void>;

// Internal handlers are code in this service: the pace is bounded only to keep one module from taking a worker.
const INTERNAL_LIMITS: TargetLimits = { ratePerSecond: 1000, burst: 1000, concurrency: 4, maintenanceWindows: [] };

/**
 * Events between modules that must survive a crash. `publish` writes one outbox row per subscribing module
 * (destination `internal:<module>`) in the publisher's transaction; the delivery worker then hands each to its
 * subscriber, at least once, in order per key, retried, traced and dead-lettered like any message. A handler
 * must therefore be idempotent.
 */
@Injectable()
export class IntegrationEvents implements DestinationHandler, OnModuleInit {
  private readonly handlers = new Map<string, Map<string, Handler>>();

  constructor(
    private readonly outbox: Outbox,
    private readonly destinations: Destinations,
  ) {}

  onModuleInit(): void {
    this.destinations.register('internal', this);
  }

  /** `subscriber`: the module that reacts (its name is its destination). Every role subscribes alike. */
  subscribe<E extends object>(subscriber: string, event: IntegrationEventClass<E>, handle: (event: E) => Promise<void>): void {
    const byModule = this.handlers.get(event.type) ?? new Map<string, Handler>();
    if (byModule.has(subscriber)) throw new Error(`${subscriber} already subscribes to ${event.type}`);
    byModule.set(subscriber, handle as Handler);
    this.handlers.set(event.type, byModule);
  }

  /** In the caller's transaction; `key` orders the events of one entity (a backend, an order). */
  async publish<E extends object>(sql: Sql, event: E, key: string): Promise<void> {
    const type = (event.constructor as unknown as IntegrationEventClass<E>).type;
    if (!type) throw new Error(`${event.constructor.name} has no static type: it is not an integration event`);
    const subscribers = [...(this.handlers.get(type)?.keys() ?? [])];
    if (subscribers.length === 0) return;
    await this.outbox.add(sql, { type, kind: 'command', key, payload: { ...(event as Record<string, unknown>) } }, subscribers.map((s) => `internal:${s}`));
  }

  async limits(): Promise<TargetLimits> {
    return INTERNAL_LIMITS;
  }

  async deliver(delivery: Delivery): Promise<void> {
    const subscriber = delivery.destination.slice('internal:'.length);
    const handle = this.handlers.get(delivery.type)?.get(subscriber);
    // Retryable: a rolling upgrade may deliver an event to an instance that does not know its handler yet.
    if (!handle) throw new TargetError('retryable', `module ${subscriber} has no handler for ${delivery.type} in this instance`);
    await handle(delivery.payload);
  }
}
