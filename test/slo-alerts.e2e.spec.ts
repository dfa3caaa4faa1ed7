import type { AddressInfo } from 'node:net';
import Fastify, { type FastifyInstance } from 'fastify';
import { SMTPServer } from 'smtp-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfiguration } from '../src/config/config-file.js';
import { SloMonitor } from '../src/platform/alerting/slo-monitor.js';
import { createWebhookReceiver, type ReceivedWebhook } from '../src/simulators/webhook-receiver/webhook-receiver.js';
import { FaultTarget } from './support/fault-target.js';
import { addMessages, SinkSubscriptionsModule, sinkChannel, waitUntil } from './support/messaging.js';
import { startTestApp, type TestApp } from './support/test-app.js';

const ALERT_SECRET = 'whsec_' + Buffer.from('alert-webhook-signing-key-0123').toString('base64');
const CHECK_MS = 200;

/** An alert receiver: the webhook receiver simulator behind a door that can answer 503 to the next requests. */
class AlertReceiver {
  readonly receiver = createWebhookReceiver({ secrets: { ops: ALERT_SECRET } });
  readonly app: FastifyInstance = Fastify();
  failNext = 0;
  refused = 0;
  url = '';

  async start(): Promise<void> {
    this.app.addHook('onRequest', async (request, reply) => {
      if (request.method !== 'POST' || this.failNext <= 0) return;
      this.failNext--;
      this.refused++;
      return reply.status(503).send({ error: 'down for a moment' });
    });
    await this.app.register(this.receiver.plugin, { prefix: '/alerts' });
    const address = await this.app.listen({ port: 0, host: '127.0.0.1' });
    this.url = `${address}/alerts/ops`;
  }

  get deliveries(): ReceivedWebhook[] {
    return this.receiver.received.get('ops') ?? [];
  }

  events(type?: string): any[] {
    return this.deliveries.map((d) => d.body as any).filter((event) => type === undefined || event.type === type);
  }
}

interface Mail {
  from: string;
  to: string[];
  headers: Record<string, string>;
  text: string;
}

/** An SMTP server in this process that keeps what it is given. */
async function startSmtp(): Promise<{ server: SMTPServer; port: number; mails: Mail[] }> {
  const mails: Mail[] = [];
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    logger: false,
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => {
        const raw = Buffer.concat(chunks).toString('utf8');
        const [head = '', ...body] = raw.split('\r\n\r\n');
        const headers: Record<string, string> = {};
        for (const line of head.replace(/\r\n[ \t]+/g, ' ').split('\r\n')) {
          const colon = line.indexOf(':');
          if (colon > 0) headers[line.slice(0, colon).toLowerCase()] = line.slice(colon + 1).trim();
        }
        mails.push({ from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '', to: session.envelope.rcptTo.map((r) => r.address), headers, text: body.join('\r\n\r\n') });
        callback();
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, port: (server.server.address() as AddressInfo).port, mails };
}

let t: TestApp;
let target: FaultTarget;
let alerts: AlertReceiver;
let smtp: Awaited<ReturnType<typeof startSmtp>>;

let alerting: Record<string, string>;
let appEnv: Record<string, string>;

beforeAll(async () => {
  target = new FaultTarget();
  await target.start();
  alerts = new AlertReceiver();
  await alerts.start();
  smtp = await startSmtp();
  alerting = {
    CROSSDOCK_ALERT_WEBHOOK_URL: alerts.url,
    CROSSDOCK_ALERT_WEBHOOK_SECRET: ALERT_SECRET,
    CROSSDOCK_SMTP_URL: `smtp://127.0.0.1:${smtp.port}`,
    CROSSDOCK_ALERT_EMAIL_TO: 'ops@example.com, oncall@example.com',
    CROSSDOCK_ALERT_EMAIL_FROM: 'Crossdock <crossdock@example.com>',
    CROSSDOCK_SLO_CHECK_MS: String(CHECK_MS),
  };
  // Every instance of the test delivers with the same short retries: one that retried with the defaults would
  // leave a message waiting minutes after it stopped.
  appEnv = {
    ...alerting,
    LOG_LEVEL: 'warn',
    CROSSDOCK_DELIVERY_BASE_DELAY_MS: '50',
    CROSSDOCK_DELIVERY_MAX_DELAY_MS: '300',
    CROSSDOCK_DELIVERY_MAX_ATTEMPTS: '1000',
    CROSSDOCK_CIRCUIT_OPEN_MS: '300',
  };
  t = await startTestApp({
    additionalModules: [SinkSubscriptionsModule],
    env: appEnv,
  });
});
afterAll(async () => {
  await t?.close();
  await target?.stop();
  await alerts?.app.close();
  await new Promise<void>((resolve) => (smtp ? smtp.server.close(resolve) : resolve()));
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const slo = async () => (await t.request('GET', '/v1/ops/slo')).body;
const checksPass = () => sleep(CHECK_MS * 5);

describe('delay objectives in the configuration', () => {
  it('takes a default and per-flow objectives on a channel, and shows them back', async () => {
    const body = { ...sinkChannel(target.url), slo: { maxAgeSeconds: 1, flows: { 'test.state': { maxAgeSeconds: 600 } } } };
    expect((await t.request('PUT', '/v1/admin/channels/sink', { body })).status).toBe(201);
    expect((await t.request('GET', '/v1/admin/channels/sink')).body.slo).toEqual({ maxAgeSeconds: 1, flows: { 'test.state': { maxAgeSeconds: 600 } } });
    expect((await t.request('PUT', '/v1/admin/channels/sink', { body })).status).toBe(200);
  });

  it.each([
    [{ maxAgeSeconds: 0 }, 'slo.maxAgeSeconds'],
    [{ maxAgeSeconds: 1.5 }, 'slo.maxAgeSeconds'],
    [{ flows: { 'test.command': { maxAgeSeconds: -1 } } }, 'slo.flows'],
    [{ flows: { 'test.command': { maxAge: 5 } } }, 'slo.flows'],
    [{ flows: { 'not a type': { maxAgeSeconds: 5 } } }, 'slo.flows'],
    [{ flows: ['test.command'] }, 'slo.flows'],
    [{ maxAgeSeconds: 5, extra: true }, 'slo.extra'],
  ])('refuses slo %j naming %s', async (objective, field) => {
    const answer = await t.request('PUT', '/v1/admin/channels/refused', { body: { ...sinkChannel(target.url), slo: objective } });
    expect(answer.status).toBe(400);
    expect(answer.body.errors.map((e: { field: string }) => e.field)).toContain(field);
  });

  it('takes them on an ERP backend and in the YAML file, checked the same way', async () => {
    const yaml = (slo: string) => `erpBackends:\n  bc:\n    kind: business-central\n    role: cloud\n    config: { tenantId: t, environment: production, companyId: c0ffee00-0000-0000-0000-000000000001, clientId: c, clientSecret: s }\n    limits: { ratePerSecond: 5, burst: 10, concurrency: 2 }\n    slo: ${slo}\n`;
    const document = parseConfiguration(yaml('{ maxAgeSeconds: 300, flows: { erp.sales-order.create: { maxAgeSeconds: 60 } } }'), 'CROSSDOCK_CONFIG', {});
    expect(document.erpBackends.bc!.slo).toEqual({ maxAgeSeconds: 300, flows: { 'erp.sales-order.create': { maxAgeSeconds: 60 } } });
    expect(() => parseConfiguration(yaml('{ maxAgeSeconds: soon }'), 'CROSSDOCK_CONFIG', {})).toThrow(/erpBackends\.bc\.slo\.maxAgeSeconds/);
  });
});

describe('a flow that falls behind its objective', () => {
  let breachId: string;

  it('is told once by a signed webhook and once by email, and shows in GET /v1/ops/slo and /metrics', async () => {
    target.faults.failNext = 1_000_000;
    await addMessages(t.app, [{ type: 'test.command', kind: 'command', key: 'late-1', payload: { seq: 0 } }]);
    await waitUntil('the breach is told', () => alerts.events('slo.breached').length === 1 && smtp.mails.length === 1, 30_000, 50);

    const [delivery] = alerts.deliveries;
    expect(delivery!.valid).toBe(true);
    const event = alerts.events('slo.breached')[0];
    expect(event).toMatchObject({ specversion: '1.0', type: 'slo.breached', source: '/crossdock', subject: 'channel:sink/test.command' });
    expect(event.data).toMatchObject({ status: 'breached', flow: 'test.command', destination: 'channel:sink', maxAgeSeconds: 1, resolvedAt: null });
    expect(event.data.oldestAgeSeconds).toBeGreaterThan(1);
    expect(delivery!.webhookId).toBe(event.id);
    breachId = event.data.breachId;

    const [mail] = smtp.mails;
    expect(mail!.to).toEqual(['ops@example.com', 'oncall@example.com']);
    expect(mail!.from).toBe('crossdock@example.com');
    expect(mail!.headers.subject).toMatch(/test\.command to channel:sink is behind its delay objective/);
    expect(mail!.headers['message-id']).toBe(`<slo-breach-${breachId}-breached@crossdock>`);

    // Recorded once taken: the receivers may see a notice a moment before.
    await waitUntil('both notices are recorded', async () => Object.values((await slo()).breaches[0]?.notified ?? {}).every((at) => at !== null));
    const report = await slo();
    expect(report.alerting).toEqual({ webhook: true, email: true, checkEverySeconds: CHECK_MS / 1000 });
    const flow = report.flows.find((f: any) => f.flow === 'test.command');
    expect(flow).toMatchObject({ destination: 'channel:sink', maxAgeSeconds: 1, breached: true });
    expect(flow.oldestAgeSeconds).toBeGreaterThan(1);
    // A flow named in the objective is listed though nothing of it waits.
    expect(report.flows).toContainEqual({ flow: 'test.state', destination: 'channel:sink', maxAgeSeconds: 600, oldestAgeSeconds: null, breached: false });
    expect(report.breaches).toHaveLength(1);
    expect(report.breaches[0]).toMatchObject({ id: breachId, flow: 'test.command', destination: 'channel:sink', maxAgeSeconds: 1, notify: ['webhook', 'email'], notifyFailures: 0 });

    const metrics = (await t.request('GET', '/metrics', { token: null })).text;
    expect(metrics).toContain('crossdock_flow_slo_max_age_seconds{flow="test.command",destination="channel:sink"} 1');
    expect(metrics).toContain('crossdock_flow_slo_max_age_seconds{flow="test.state",destination="channel:sink"} 600');
    expect(metrics).toContain('crossdock_flow_slo_breached{flow="test.command",destination="channel:sink"} 1');
    expect(metrics).toMatch(/crossdock_oldest_waiting_seconds\{flow="test\.command",destination="channel:sink"\} \d/);
  });

  it('is not told again while the breach lasts, by further checks on any instance', async () => {
    // A second instance on the same database (or this one restarted) checks too.
    const other = await startTestApp({ databaseUrl: t.databaseUrl, additionalModules: [SinkSubscriptionsModule], env: appEnv });
    try {
      await checksPass();
    } finally {
      await other.close();
    }
    // A check run here, as another instance would, finds nothing new to tell.
    let check = await t.app.get(SloMonitor).check();
    while (check === undefined) check = await t.app.get(SloMonitor).check();
    expect(check).toEqual({ opened: 0, resolved: 0, sent: 0, failed: 0 });
    expect(alerts.deliveries).toHaveLength(1);
    expect(smtp.mails).toHaveLength(1);
    expect(await t.sql('select count(*)::int as n from slo_breach')).toEqual([{ n: 1 }]);
  });

  it('sends one "resolved" notice on each channel when it clears', async () => {
    target.faults.failNext = 0;
    await waitUntil('delivered', async () => (await t.sql("select 1 from outbox where key = 'late-1' and status = 'delivered'")).length === 1, 30_000);
    await waitUntil('the resolution is told', () => alerts.events('slo.resolved').length === 1 && smtp.mails.length === 2, 30_000, 50);
    const resolved = alerts.events('slo.resolved')[0];
    expect(alerts.deliveries.every((d) => d.valid)).toBe(true);
    expect(resolved.id).toBe(`slo-breach-${breachId}-resolved`);
    expect(resolved.data).toMatchObject({ status: 'resolved', breachId, flow: 'test.command', destination: 'channel:sink' });
    expect(resolved.data.resolvedAt).not.toBeNull();
    expect(resolved.data.worstAgeSeconds).toBeGreaterThan(1);
    const mail = smtp.mails[1]!;
    expect(mail.headers.subject).toMatch(/resolved, test\.command to channel:sink is back within its delay objective of 1 s/);
    expect(mail.headers['in-reply-to']).toBe(`<slo-breach-${breachId}-breached@crossdock>`);

    const report = await slo();
    expect(report.breaches).toEqual([]);
    expect(report.flows.find((f: any) => f.flow === 'test.command')).toMatchObject({ breached: false, oldestAgeSeconds: null });
    expect((await t.request('GET', '/metrics', { token: null })).text).toContain('crossdock_flow_slo_breached{flow="test.command",destination="channel:sink"} 0');

    await checksPass();
    expect(alerts.deliveries).toHaveLength(2);
    expect(smtp.mails).toHaveLength(2);
  });
});

describe('an alert webhook that fails', () => {
  it('is tried again at the next checks and takes the notice once; the email is not repeated meanwhile', async () => {
    const before = { webhooks: alerts.deliveries.length, mails: smtp.mails.length };
    alerts.failNext = 3;
    target.faults.failNext = 1_000_000;
    await addMessages(t.app, [{ type: 'test.command', kind: 'command', key: 'late-2', payload: { seq: 0 } }]);
    await waitUntil('the breach is told', () => alerts.events('slo.breached').length === 2, 30_000, 50);
    await waitUntil('and recorded', async () => (await t.sql('select 1 from slo_breach where resolved_at is null and breached_webhook_at is not null')).length === 1);
    expect(alerts.refused).toBe(3);
    expect(alerts.deliveries).toHaveLength(before.webhooks + 1);
    expect(smtp.mails).toHaveLength(before.mails + 1);
    const [breach] = await t.sql("select notify_failures, last_notify_error, breached_webhook_at is not null as told from slo_breach where resolved_at is null");
    expect(breach).toMatchObject({ notify_failures: 3, told: true, last_notify_error: expect.stringMatching(/^webhook: the alert webhook answered 503/) });
    const metrics = (await t.request('GET', '/metrics', { token: null })).text;
    expect(metrics).toMatch(/crossdock_slo_notifications_total\{channel="webhook",kind="breached",outcome="failed"\} 3/);

    await checksPass();
    expect(alerts.deliveries).toHaveLength(before.webhooks + 1);
    expect(smtp.mails).toHaveLength(before.mails + 1);

    target.faults.failNext = 0;
    await waitUntil('the resolution is told', () => alerts.events('slo.resolved').length === 2 && smtp.mails.length === before.mails + 2, 30_000, 50);
    await checksPass();
    expect(alerts.deliveries).toHaveLength(before.webhooks + 2);
    expect(alerts.deliveries.every((d) => d.valid)).toBe(true);
  });
});

describe('GET /v1/ops/slo', () => {
  it('is for the admin token and operators with ops:read', async () => {
    expect((await t.request('GET', '/v1/ops/slo', { token: null })).status).toBe(401);
    expect((await t.request('PUT', '/v1/admin/operators/dana', { body: { name: 'Dana Ops' } })).status).toBe(201);
    const { key } = (await t.request('POST', '/v1/admin/operators/dana/api-keys', { body: { scopes: ['ops:read'] } })).body;
    const answer = await t.request('GET', '/v1/ops/slo', { token: key });
    expect(answer.status).toBe(200);
    expect(answer.body.flows.map((f: any) => f.flow)).toEqual(['test.command', 'test.state']);
  });

  it('is described in the OpenAPI document, with the slo field of channels and ERP backends', async () => {
    const document = (await t.request('GET', '/docs-json', { token: null })).body;
    expect(document.paths['/v1/ops/slo'].get.responses['200'].content['application/json'].schema).toEqual({ $ref: '#/components/schemas/SloReportDto' });
    expect(Object.keys(document.components.schemas.SloFlowDto.properties)).toEqual(['flow', 'destination', 'maxAgeSeconds', 'oldestAgeSeconds', 'breached']);
    for (const resource of ['ChannelDto', 'ErpBackendDto']) {
      expect(JSON.stringify(document.components.schemas[resource].properties.slo)).toContain('#/components/schemas/DelayObjectiveDto');
    }
    expect(Object.keys(document.components.schemas.DelayObjectiveDto.properties)).toEqual(['maxAgeSeconds', 'flows']);
  });
});
