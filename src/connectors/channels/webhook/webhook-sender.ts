import { createHash } from 'node:crypto';
import { classifyHttpStatus, TargetError } from '../../../platform/delivery/outcome.js';
import { httpCall } from '../../../platform/http/http-client.js';
import type { Delivery } from '../../../platform/outbox/message.js';
import { signWebhook } from './standard-webhooks.js';
import type { WebhookConfig } from './webhook.config.js';

export const CLOUDEVENTS_SOURCE = '/crossdock';

/** A CloudEvents 1.0 event in JSON, with Crossdock's `correlationid` extension. */
export interface CloudEvent {
  specversion: '1.0';
  id: string;
  source: string;
  type: string;
  time: string;
  subject: string;
  datacontenttype: 'application/json';
  correlationid: string;
  data: Record<string, unknown>;
}

/** The event of a delivery: its id is the delivery id, the same on every retry, so subscribers can deduplicate. */
export function toCloudEvent(delivery: Delivery): CloudEvent {
  return {
    specversion: '1.0',
    id: delivery.deliveryId,
    source: CLOUDEVENTS_SOURCE,
    type: delivery.type,
    time: delivery.createdAt.toISOString(),
    subject: delivery.key,
    datacontenttype: 'application/json',
    correlationid: delivery.correlationId,
    data: delivery.payload,
  };
}

/** POSTs the event signed by the Standard Webhooks scheme; a non-2xx answer becomes a classified TargetError. */
export function sendWebhook(config: WebhookConfig, event: CloudEvent, signal: AbortSignal): Promise<void> {
  return post(config, event.id, event.correlationid, 'application/cloudevents+json', JSON.stringify(event), signal);
}

/**
 * POSTs events as one CloudEvents JSON batch, signed as one Standard Webhooks message. Its webhook-id is derived
 * from the events' ids, so the same batch sent again carries the same id; each event keeps its own id as well.
 */
export function sendWebhookBatch(config: WebhookConfig, events: CloudEvent[], signal: AbortSignal): Promise<void> {
  return post(config, batchWebhookId(events.map((e) => e.id)), events[0]!.correlationid, 'application/cloudevents-batch+json', JSON.stringify(events), signal);
}

/** The webhook-id of a batch: the same for the same events, in any order. */
export function batchWebhookId(eventIds: readonly string[]): string {
  return `batch_${createHash('sha256').update([...eventIds].sort().join(',')).digest('base64url').slice(0, 32)}`;
}

async function post(config: WebhookConfig, id: string, correlationId: string, contentType: string, body: string, signal: AbortSignal): Promise<void> {
  const timestamp = Math.floor(Date.now() / 1000);
  const answer = await httpCall(config.url, {
    method: 'POST',
    headers: {
      'content-type': contentType,
      'webhook-id': id,
      'webhook-timestamp': String(timestamp),
      'webhook-signature': signWebhook(config.secret, id, timestamp, body),
      'x-correlation-id': correlationId,
      'user-agent': 'Crossdock',
    },
    body,
    signal,
    // Only the status matters, and an excerpt of a refusal: a subscriber's long answer is cut, not read.
    maxBytes: 64 * 1024,
    overLimit: 'truncate',
  });
  const failure = classifyHttpStatus(answer.status, answer.text, answer.header('retry-after'));
  if (failure) throw new TargetError(failure.class, failure.message, failure);
}
