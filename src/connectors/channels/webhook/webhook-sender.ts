import { classifyHttpStatus, TargetError } from '../../../platform/delivery/outcome.js';
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
export async function sendWebhook(config: WebhookConfig, event: CloudEvent, signal: AbortSignal): Promise<void> {
  const body = JSON.stringify(event);
  const timestamp = Math.floor(Date.now() / 1000);
  const response = await fetch(config.url, {
    method: 'POST',
    headers: {
      'content-type': 'application/cloudevents+json',
      'webhook-id': event.id,
      'webhook-timestamp': String(timestamp),
      'webhook-signature': signWebhook(config.secret, event.id, timestamp, body),
      'x-correlation-id': event.correlationid,
      'user-agent': 'Crossdock',
    },
    body,
    signal,
    redirect: 'error',
  });
  const text = await response.text().catch(() => '');
  const failure = classifyHttpStatus(response.status, text, response.headers.get('retry-after'));
  if (failure) throw new TargetError(failure.class, failure.message, failure);
}
