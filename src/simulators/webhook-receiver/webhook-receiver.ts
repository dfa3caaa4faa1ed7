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

/** A state figure as a receiver holds it: the newest version of its key it applied, and that event's data. */
export interface HeldFigure {
  version: number | null;
  data: Record<string, unknown>;
}

/**
 * A webhook subscriber (a B2B portal, a CRM) for the demo and the tests. `POST /:name` checks the delivery's
 * Standard Webhooks signature with that receiver's secret, records it and answers 204 even when the
 * signature is wrong, so that what was sent can be inspected; `GET /:name` lists the deliveries, newest last.
 * Like a portal, it holds the newest figure of each state event's key (type and subject; a lower version never
 * replaces a higher one) and answers them, to a signed `GET /:name/figures?type=&limit=&after=`, in key order
 * (`{items: [{key, version, data}], next}`); `PUT /:name/figures` `{type, key, data, version?}` changes one by hand,
 * as the portal's own users might.
 */
export function createWebhookReceiver(options: WebhookReceiverOptions) {
  const keep = options.keep ?? 1000;
  const received = new Map<string, ReceivedWebhook[]>();
  const held = new Map<string, Map<string, Map<string, HeldFigure>>>();
  const figuresOf = (name: string, type: string) => {
    const byType = held.get(name) ?? new Map<string, Map<string, HeldFigure>>();
    held.set(name, byType);
    const figures = byType.get(type) ?? new Map<string, HeldFigure>();
    byType.set(type, figures);
    return figures;
  };
  const hold = (name: string, event: unknown) => {
    const { type, subject, data } = (event ?? {}) as { type?: unknown; subject?: unknown; data?: { version?: unknown } };
    if (typeof type !== 'string' || typeof subject !== 'string' || typeof data?.version !== 'number') return;
    const figures = figuresOf(name, type);
    const was = figures.get(subject);
    if (!was || was.version === null || data.version > was.version) figures.set(subject, { version: data.version, data: data as Record<string, unknown> });
  };

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
      const parsed = parsedOrText(body);
      deliveries.push({ receivedAt: new Date().toISOString(), webhookId: header('webhook-id') || undefined, valid, body: parsed });
      if (valid) for (const event of [parsed].flat()) hold(name, event);
      if (deliveries.length > keep) deliveries.splice(0, deliveries.length - keep);
      return reply.status(204).send();
    });

    instance.get<{ Params: { name: string } }>('/:name', async (request) => received.get(request.params.name) ?? []);

    instance.get<{ Params: { name: string }; Querystring: { type?: string; limit?: string; after?: string } }>('/:name/figures', async (request, reply) => {
      const header = (key: string) => String(request.headers[key] ?? '');
      const signed = verifyWebhook(options.secrets[request.params.name]!, { id: header('webhook-id'), timestamp: header('webhook-timestamp'), signature: header('webhook-signature') }, '');
      if (!signed) return reply.status(401).send({ error: 'the request is not signed with this receiver\'s secret' });
      const { type, after } = request.query;
      if (!type) return reply.status(400).send({ error: 'type is required' });
      const limit = Math.min(Math.max(Number(request.query.limit ?? 100) || 100, 1), 1000);
      const keys = [...figuresOf(request.params.name, type).keys()].filter((key) => after === undefined || key > after).sort();
      const page = keys.slice(0, limit);
      const figures = figuresOf(request.params.name, type);
      return { items: page.map((key) => ({ key, ...figures.get(key)! })), next: keys.length > limit ? page.at(-1)! : null };
    });

    instance.put<{ Params: { name: string }; Body: string | undefined }>('/:name/figures', async (request, reply) => {
      const { type, key, data, version } = (parsedOrText(request.body ?? '') ?? {}) as { type?: unknown; key?: unknown; data?: unknown; version?: unknown };
      if (typeof type !== 'string' || typeof key !== 'string' || data === null || typeof data !== 'object') return reply.status(400).send({ error: 'type, key and data are required' });
      const figures = figuresOf(request.params.name, type);
      figures.set(key, { version: typeof version === 'number' ? version : (figures.get(key)?.version ?? null), data: data as Record<string, unknown> });
      return figures.get(key);
    });
  };

  /** The figure the receiver holds of a key of a state event type; undefined when it has none. */
  const figure = (name: string, type: string, key: string): HeldFigure | undefined => held.get(name)?.get(type)?.get(key);

  return { plugin, received, figure };
}

export type WebhookReceiver = ReturnType<typeof createWebhookReceiver>;

function parsedOrText(body: string): unknown {
  try {
    return JSON.parse(body);
  } catch {
    return body;
  }
}
