import { Inject, Injectable, type OnModuleDestroy } from '@nestjs/common';
import { createTransport, type Transporter } from 'nodemailer';
import { excerpt } from '../delivery/outcome.js';
import { httpCall } from '../http/http-client.js';
import { signWebhook } from '../security/standard-webhooks.js';
import { ALERT_SETTINGS, type AlertSettings } from './alert-settings.js';
import type { NoticeChannel, NoticeKind, SloBreach } from './slo-breaches.js';

const TIMEOUT_MS = 10_000;

/** What a notice says, the same on every channel. */
export function noticeData(breach: SloBreach, kind: NoticeKind) {
  return {
    status: kind,
    breachId: breach.id,
    flow: breach.flow,
    destination: breach.destination,
    maxAgeSeconds: breach.maxAgeSeconds,
    openedAt: breach.openedAt.toISOString(),
    /** When it opened; when it was resolved (null: nothing waits any more). */
    oldestAgeSeconds: kind === 'breached' ? breach.openedAgeSeconds : breach.resolvedAgeSeconds,
    worstAgeSeconds: breach.worstAgeSeconds,
    resolvedAt: breach.resolvedAt?.toISOString() ?? null,
  };
}

/**
 * Tells people of a breach of a delay objective and of its end: a CloudEvent to the alert webhook, signed by the
 * Standard Webhooks scheme, and an email over SMTP. Each notice has an id of its own (`slo-breach-<id>-<kind>`),
 * the same when it is sent again, so that a receiver can drop a copy.
 */
@Injectable()
export class AlertNotifier implements OnModuleDestroy {
  private mailer?: Transporter;

  constructor(@Inject(ALERT_SETTINGS) private readonly settings: AlertSettings) {}

  /** The channels configured now. */
  get channels(): NoticeChannel[] {
    return [...(this.settings.webhook ? (['webhook'] as const) : []), ...(this.settings.email ? (['email'] as const) : [])];
  }

  /** Sends one notice; throws when it was not taken (a non-2xx answer, a refused mail). */
  async send(channel: NoticeChannel, breach: SloBreach, kind: NoticeKind): Promise<void> {
    if (channel === 'webhook') await this.post(breach, kind);
    else await this.mail(breach, kind);
  }

  private async post(breach: SloBreach, kind: NoticeKind): Promise<void> {
    const { url, secret } = this.settings.webhook!;
    const id = noticeId(breach, kind);
    const time = (kind === 'breached' ? breach.openedAt : (breach.resolvedAt ?? new Date())).toISOString();
    const body = JSON.stringify({
      specversion: '1.0', id, source: '/crossdock', type: `slo.${kind}`, time, subject: `${breach.destination}/${breach.flow}`,
      datacontenttype: 'application/json', data: noticeData(breach, kind),
    });
    const timestamp = Math.floor(Date.now() / 1000);
    const answer = await httpCall(url, {
      method: 'POST',
      headers: {
        'content-type': 'application/cloudevents+json',
        'webhook-id': id,
        'webhook-timestamp': String(timestamp),
        'webhook-signature': signWebhook(secret, id, timestamp, body),
        'user-agent': 'Crossdock',
      },
      body,
      signal: AbortSignal.timeout(TIMEOUT_MS),
      maxBytes: 16 * 1024,
      overLimit: 'truncate',
    });
    if (answer.status < 200 || answer.status >= 300) throw new Error(`the alert webhook answered ${answer.status}: ${excerpt(answer.text)}`);
  }

  private async mail(breach: SloBreach, kind: NoticeKind): Promise<void> {
    const { smtpUrl, from, to } = this.settings.email!;
    this.mailer ??= createTransport({ url: smtpUrl, connectionTimeout: TIMEOUT_MS, greetingTimeout: TIMEOUT_MS, socketTimeout: TIMEOUT_MS });
    const data = noticeData(breach, kind);
    const what = `${breach.flow} to ${breach.destination}`;
    const subject = kind === 'breached'
      ? `Crossdock: ${what} is behind its delay objective (oldest ${shown(data.oldestAgeSeconds)}, objective ${breach.maxAgeSeconds} s)`
      : `Crossdock: resolved, ${what} is back within its delay objective of ${breach.maxAgeSeconds} s`;
    const text = [
      kind === 'breached'
        ? `The oldest message of flow ${breach.flow} to ${breach.destination} not yet delivered is ${shown(data.oldestAgeSeconds)} old; its objective is ${breach.maxAgeSeconds} s.`
        : `Flow ${breach.flow} to ${breach.destination} is back within its objective of ${breach.maxAgeSeconds} s.`,
      '',
      `Breach ${breach.id}, opened ${data.openedAt}${data.resolvedAt ? `, resolved ${data.resolvedAt}` : ''}; the oldest age reached ${shown(data.worstAgeSeconds)}.`,
      'Flows, their objectives and open breaches: GET /v1/ops/slo.',
    ].join('\n');
    // The resolution answers the breach's message, so that mail clients show them together.
    const breachMessage = `<${noticeId(breach, 'breached')}@crossdock>`;
    await this.mailer.sendMail({
      from, to, subject, text,
      messageId: `<${noticeId(breach, kind)}@crossdock>`,
      ...(kind === 'resolved' ? { inReplyTo: breachMessage, references: [breachMessage] } : {}),
    });
  }

  onModuleDestroy(): void {
    this.mailer?.close();
  }
}

function noticeId(breach: SloBreach, kind: NoticeKind): string {
  return `slo-breach-${breach.id}-${kind}`;
}

/** For people: tenths, rounded up, so that an age past its objective never reads as equal to it. */
function shown(value: number | null): string {
  return value === null ? 'nothing waiting' : `${(Math.ceil(value * 10) / 10).toFixed(1)} s`;
}
