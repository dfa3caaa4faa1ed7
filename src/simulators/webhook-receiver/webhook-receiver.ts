import type { FastifyPluginAsync } from 'fastify';
import { verifyWebhook } from '../../connectors/channels/webhook/standard-webhooks.js';

/** One delivery as the receiver saw it. */
export interface ReceivedWebhook {
  receivedAt: string;
  webhookId?: string;
  /** Whether the Standard Webhooks signature and timestamp checked out against the receiver's secret. */
  valid: boolean;
  /** The CloudEvent, or the body as sent when it is not JSON. */
  body: unknown;
}

export interface WebhookReceiverOptions {
  /** Receiver name (the last path segment) to the secret (`whsec_...`) its deliveries are signed with. */
  secrets: Record<string, string>;
  /** Deliveries kept per receiver, the oldest dropped first. */
  keep?: number;
}

/**
 * A webhook subscriber (a B2B portal, a CRM) for the demo and the tests. `POST /:name` checks the delivery's
 * Standard Webhooks signature with that receiver's secret, records it and answers 204 even when the
 * signature is wrong, so that what was sent can be inspected; `GET /:name` lists the deliveries, newest last.
 */
export function createWebhookReceiver(options: WebhookReceiverOptions) {
  const keep = options.keep ?? 1000;
  const received = new Map<string, ReceivedWebhook[]>();

  const plugin: FastifyPluginAsync = async (instance) => {
    // The signature covers the exact bytes sent, so the body is taken as text whatever the host's parsers are.
    instance.removeAllContentTypeParsers();
    instance.addContentTypeParser('*', { parseAs: 'string' }, (_request, body, done) => done(null, body));
    instance.addHook('preHandler', async (request, reply) => {
      const { name } = request.params as { name: string };
      if (options.secrets[name] === undefined) return reply.status(404).send({ error: `no webhook receiver named ${name}` });
    });

    instance.post<{ Params: { name: string }; Body: string | undefined }>('/:name', async (request, reply) => {
      const { name } = request.params;
      const secret = options.secrets[name]!;
      const header = (key: string) => String(request.headers[key] ?? '');
      const body = request.body ?? '';
      const valid = verifyWebhook(secret, { id: header('webhook-id'), timestamp: header('webhook-timestamp'), signature: header('webhook-signature') }, body);
      const deliveries = received.get(name) ?? [];
      received.set(name, deliveries);
      deliveries.push({ receivedAt: new Date().toISOString(), webhookId: header('webhook-id') || undefined, valid, body: parsedOrText(body) });
      if (deliveries.length > keep) deliveries.splice(0, deliveries.length - keep);
      return reply.status(204).send();
    });

    instance.get<{ Params: { name: string } }>('/:name', async (request) => received.get(request.params.name) ?? []);
  };

  return { plugin, received };
}

export type WebhookReceiver = ReturnType<typeof createWebhookReceiver>;

function parsedOrText(body: string): unknown {
  try {
    return JSON.parse(body);
  } catch {
    return body;
  }
}
