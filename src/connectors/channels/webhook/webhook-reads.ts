import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { classifyHttpStatus, TargetError } from '../../../platform/delivery/outcome.js';
import { TargetDirectory } from '../../../platform/delivery/target-directory.js';
import { GovernedReads } from '../../../platform/governor/governed-reads.js';
import { httpCall } from '../../../platform/http/http-client.js';
import { signWebhook } from './standard-webhooks.js';
import type { WebhookConfig } from './webhook.config.js';

/** What a subscriber holds of one key of a state event type: the version it applied last and that event's data. */
export interface HeldFigure {
  key: string;
  version: number | null;
  data: Record<string, unknown>;
}

export interface HeldFiguresPage {
  items: HeldFigure[];
  /** Where the next page starts (the subscriber's cursor); null after the last. */
  next: string | null;
}

/** Whether a channel, as configured, is a webhook subscriber that answers the figures it holds (`config.readUrl`). */
export function answersFigures(channel: { kind: string; config: Record<string, unknown> }): boolean {
  return channel.kind === 'webhook' && typeof channel.config.readUrl === 'string';
}

/** Figures asked for a page; a subscriber may answer fewer. */
export const HELD_FIGURES_PAGE = 500;

/**
 * Reads of what a webhook subscriber holds, for reconciliation, where it offers them (`config.readUrl`):
 * `GET {readUrl}?type=<event type>&limit=<n>[&after=<cursor>]`, signed by the Standard Webhooks scheme as a
 * delivery is (an empty body; the webhook-id a fresh `read_<uuid>`), so that the subscriber knows it is Crossdock
 * asking. Each call goes through the channel's governor, shared with its deliveries.
 */
@Injectable()
export class WebhookReads {
  constructor(
    private readonly targets: TargetDirectory,
    private readonly governed: GovernedReads,
  ) {}

  /** One page of the figures the subscriber holds of `type` (`inventory.availability.changed`, `price.changed`). */
  async page(channelId: string, type: string, after: string | null): Promise<HeldFiguresPage> {
    const channel = await this.targets.channel(channelId);
    const config = channel?.config as Partial<WebhookConfig> | undefined;
    if (channel?.kind !== 'webhook' || !config?.readUrl || !config.secret) throw new TargetError('permanent', `channel ${channelId} offers no read of its figures (config.readUrl)`);
    const url = new URL(config.readUrl);
    url.searchParams.set('type', type);
    url.searchParams.set('limit', String(HELD_FIGURES_PAGE));
    if (after !== null) url.searchParams.set('after', after);
    const { readUrl, secret } = config as Required<Pick<WebhookConfig, 'readUrl' | 'secret'>>;
    return this.governed.call(`channel:${channelId}`, async (signal) => {
      const id = `read_${randomUUID()}`;
      const timestamp = Math.floor(Date.now() / 1000);
      const answer = await httpCall(url.toString(), {
        method: 'GET',
        headers: { accept: 'application/json', 'webhook-id': id, 'webhook-timestamp': String(timestamp), 'webhook-signature': signWebhook(secret, id, timestamp, ''), 'user-agent': 'Crossdock' },
        signal,
      });
      const failure = classifyHttpStatus(answer.status, answer.text, answer.header('retry-after'));
      if (failure) throw new TargetError(failure.class, failure.message, failure);
      return parseHeldFigures(answer.text, new URL(readUrl).host);
    });
  }
}

/** The subscriber's answer, checked: a malformed one fails the read (permanent: asking again gets the same). */
export function parseHeldFigures(text: string, host: string): HeldFiguresPage {
  const refuse = (why: string) => new TargetError('permanent', `${host} answered its figures malformed: ${why}`);
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw refuse('not JSON');
  }
  const { items, next } = (body ?? {}) as { items?: unknown; next?: unknown };
  if (!Array.isArray(items)) throw refuse('no items list');
  if (next !== undefined && next !== null && typeof next !== 'string') throw refuse('next is not a string');
  return {
    items: items.map((item: unknown, n) => {
      const { key, version, data } = (item ?? {}) as { key?: unknown; version?: unknown; data?: unknown };
      if (typeof key !== 'string' || key === '') throw refuse(`items[${n}].key is not a string`);
      if (version !== undefined && version !== null && !Number.isSafeInteger(version)) throw refuse(`items[${n}].version is not an integer`);
      if (data === null || typeof data !== 'object' || Array.isArray(data)) throw refuse(`items[${n}].data is not an object`);
      return { key, version: (version as number | undefined) ?? null, data: data as Record<string, unknown> };
    }),
    next: (next as string | null | undefined) ?? null,
  };
}
