import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { verifyWebhook } from '../../src/connectors/channels/webhook/standard-webhooks.js';

export const TARGET_SECRET = 'whsec_' + Buffer.from('fault-target-signing-key-32bytes').toString('base64');

export interface Faults {
  latencyMs: [number, number];
  /** Share of requests answered 503. */
  serverErrorRate: number;
  /** Share of requests answered 429 with `retryAfterSeconds`. */
  throttleRate: number;
  retryAfterSeconds: number;
  /** Share of requests that hang for `hangMs` (a timeout at the caller). */
  hangRate: number;
  hangMs: number;
  /** Events whose data has `reject: true` are refused with 400 until `acceptRejected` is set. */
  acceptRejected: boolean;
  /** The next this-many requests are answered 429 with `retryAfterSeconds`. */
  throttleNext: number;
  /** The next this-many requests hang for `hangMs` (so that a run with random faults surely has a timeout). */
  hangNext?: number;
  /** The next this-many requests are answered 503 (likewise). */
  failNext?: number;
}

export interface Received {
  id: string;
  type: string;
  subject: string;
  data: any;
  at: number;
}

/**
 * A webhook subscriber with faults on demand: latency, 5xx, 429 with Retry-After, hangs, down periods and
 * validation errors. It verifies each signature and applies each event id once, as an idempotent target does.
 */
export class FaultTarget {
  faults: Faults = { latencyMs: [0, 0], serverErrorRate: 0, throttleRate: 0, retryAfterSeconds: 1, hangRate: 0, hangMs: 0, acceptRejected: false, throttleNext: 0 };
  /** Effects in the order they were applied, one per event id. */
  readonly effects: Received[] = [];
  readonly effectIds = new Set<string>();
  /** Every request that reached the handler (also duplicates and refused ones), with its time. */
  readonly requests: Array<{ at: number; arrivedAt: number; id: string; status: number }> = [];
  duplicates = 0;
  badSignatures = 0;
  /** Requests that carried a CloudEvents batch, and the events they carried. */
  batches = 0;
  batchedEvents = 0;
  inFlight = 0;
  maxInFlight = 0;
  private server?: Server;
  private readonly sockets = new Set<Socket>();
  port = 0;

  async start(port = 0): Promise<string> {
    this.server = createServer((req, res) => void this.handle(req, res));
    this.server.on('connection', (socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
    await new Promise<void>((resolve) => this.server!.listen(port, '127.0.0.1', resolve));
    this.port = (this.server.address() as AddressInfo).port;
    return this.url;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}/events`;
  }

  /** Down: connections are refused until `start` is called again (on the same port). */
  async stop(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
    this.server = undefined;
  }

  effectsBySubject(): Map<string, Received[]> {
    const bySubject = new Map<string, Received[]>();
    for (const effect of this.effects) bySubject.set(effect.subject, [...(bySubject.get(effect.subject) ?? []), effect]);
    return bySubject;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const arrivedAt = Date.now();
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks).toString('utf8');
    const id = String(req.headers['webhook-id'] ?? '');
    const answer = (status: number, text = '', headers: Record<string, string> = {}) => {
      this.requests.push({ at: Date.now(), arrivedAt, id, status });
      res.writeHead(status, { 'content-type': 'application/json', ...headers }).end(text);
    };
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    try {
      const signed = verifyWebhook(TARGET_SECRET, {
        id,
        timestamp: String(req.headers['webhook-timestamp'] ?? ''),
        signature: String(req.headers['webhook-signature'] ?? ''),
      }, body);
      if (!signed) {
        this.badSignatures++;
        return answer(401, '{"error":"bad signature"}');
      }
      const [min, max] = this.faults.latencyMs;
      if (max > 0) await sleep(min + Math.random() * (max - min));
      const hangNow = (this.faults.hangNext ?? 0) > 0;
      if (hangNow) this.faults.hangNext! -= 1;
      if (hangNow || Math.random() < this.faults.hangRate) {
        await sleep(this.faults.hangMs);
        return answer(504, '{"error":"too late"}');
      }
      if (this.faults.throttleNext > 0) {
        this.faults.throttleNext--;
        return answer(429, '{"error":"slow down"}', { 'retry-after': String(this.faults.retryAfterSeconds) });
      }
      if (Math.random() < this.faults.throttleRate) return answer(429, '{"error":"slow down"}', { 'retry-after': String(this.faults.retryAfterSeconds) });
      if ((this.faults.failNext ?? 0) > 0) {
        this.faults.failNext! -= 1;
        return answer(503, '{"error":"busy"}');
      }
      if (Math.random() < this.faults.serverErrorRate) return answer(503, '{"error":"busy"}');
      const batched = String(req.headers['content-type'] ?? '').startsWith('application/cloudevents-batch+json');
      const events = batched ? (JSON.parse(body) as any[]) : [JSON.parse(body)];
      if (batched) {
        this.batches++;
        this.batchedEvents += events.length;
      }
      const rejected = events.find((event) => event.data?.reject === true);
      if (rejected && !this.faults.acceptRejected) {
        return answer(400, JSON.stringify({ error: `item ${rejected.data.item ?? '?'} does not exist` }));
      }
      for (const event of events) {
        if (this.effectIds.has(event.id)) this.duplicates++;
        else {
          this.effectIds.add(event.id);
          this.effects.push({ id: event.id, type: event.type, subject: event.subject, data: event.data, at: Date.now() });
        }
      }
      // A target that applies the change and then fails to say so (the ambiguous case replays must survive).
      if (events.some((event) => event.data?.applyThenReject === true) && !this.faults.acceptRejected) return answer(400, '{"error":"applied, then refused"}');
      return answer(200, '{"ok":true}');
    } finally {
      this.inFlight--;
    }
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Largest number of requests in any window of `windowMs`. */
/**
 * The most calls a token bucket of `limits` lets arrive at a target within `windowMs`: it admits at most
 * burst + rate x window in any window, but what it admitted `jitterMs` apart may arrive closer together (the
 * time from admission to arrival varies a little under load), so a window of arrivals can hold the admissions
 * of a window `jitterMs` longer.
 */
export function mostAdmitted(limits: { ratePerSecond: number; burst: number }, windowMs: number, jitterMs: number): number {
  return limits.burst + Math.ceil((limits.ratePerSecond * (windowMs + jitterMs)) / 1000);
}

export function maxInWindow(times: number[], windowMs: number): number {
  const sorted = [...times].sort((a, b) => a - b);
  let max = 0;
  let start = 0;
  for (let end = 0; end < sorted.length; end++) {
    while (sorted[end]! - sorted[start]! >= windowMs) start++;
    max = Math.max(max, end - start + 1);
  }
  return max;
}
