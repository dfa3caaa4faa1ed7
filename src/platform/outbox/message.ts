/**
 * A message as its producer writes it. `command`: every one is delivered, in order per key and destination.
 * `state`: only the newest value per key and destination matters (versions order them).
 */
export interface OutboxMessage {
  type: string;
  kind: 'command' | 'state';
  /** The entity the message is about: ordering and coalescing are per key. */
  key: string;
  payload: Record<string, unknown>;
  /** State messages: a number that grows with each newer value of the key. */
  version?: number;
  /** Defaults to the correlation id of the work in progress. */
  correlationId?: string;
  causationId?: string;
  /**
   * Higher goes first among a destination's queued deliveries (0 by default). A command's is its job's priority;
   * a state version's is a head start in the last-value queue, one second a point (docs/MESSAGING.md).
   */
  priority?: number;
  /**
   * State messages: what the target ends up holding, as a string. Equal to the last one delivered for the
   * chain, the message is not sent again; otherwise the handler is given that last one (previousValue).
   */
  stateValue?: string;
}

/** One message on its way to one destination, as a destination handler receives it. */
export interface Delivery {
  /** The idempotency key the target sees: the same on every retry and replay. */
  deliveryId: string;
  messageId: string;
  type: string;
  kind: 'command' | 'state';
  key: string;
  destination: string;
  payload: Record<string, unknown>;
  version: number | null;
  correlationId: string;
  causationId: string | null;
  /** 1 for the first try. */
  attempt: number;
  /** State messages: the stateValue last delivered on this chain, if any. */
  previousValue: string | null;
  createdAt: Date;
  /** The W3C traceparent the message was stored under, when tracing was on: its delivery continues that trace. */
  traceContext?: string | null;
}

/** `type:id`, e.g. `erp:bc-cloud` or `channel:b2b-portal`. */
export function parseDestination(destination: string): { type: string; id: string } {
  const colon = destination.indexOf(':');
  if (colon <= 0) throw new Error(`destination "${destination}" is not of the form type:id`);
  return { type: destination.slice(0, colon), id: destination.slice(colon + 1) };
}

export function queueName(destination: string): string {
  const { type, id } = parseDestination(destination);
  return `deliver/${type}/${id}`;
}
