import type pg from 'pg';
import { isBreached, type FlowObjective } from '../delivery/delay-objectives.js';

export const NOTICE_CHANNELS = ['webhook', 'email'] as const;
export type NoticeChannel = (typeof NOTICE_CHANNELS)[number];
export type NoticeKind = 'breached' | 'resolved';

type Queryable = Pick<pg.Pool | pg.PoolClient, 'query'>;

/** A time a flow's oldest message passed its objective: open until it is back within it. */
export interface SloBreach {
  id: string;
  flow: string;
  destination: string;
  maxAgeSeconds: number;
  openedAt: Date;
  /** The oldest message's age when the breach was seen first, and the most it reached. */
  openedAgeSeconds: number;
  worstAgeSeconds: number;
  resolvedAt: Date | null;
  /** The oldest age when it cleared (null: nothing waited any more). */
  resolvedAgeSeconds: number | null;
  /** The channels it is told on, as configured when it opened; and when each notice went out. */
  notify: NoticeChannel[];
  notified: Record<NoticeKind, Record<NoticeChannel, Date | null>>;
  notifyFailures: number;
  lastNotifyError: string | null;
}

const COLUMNS = `id::text, flow, destination, max_age_seconds as "maxAgeSeconds", opened_at as "openedAt",
  opened_age_seconds as "openedAgeSeconds", worst_age_seconds as "worstAgeSeconds", resolved_at as "resolvedAt",
  resolved_age_seconds as "resolvedAgeSeconds", notify, notify_failures as "notifyFailures", last_notify_error as "lastNotifyError",
  json_build_object(
    'breached', json_build_object('webhook', breached_webhook_at, 'email', breached_email_at),
    'resolved', json_build_object('webhook', resolved_webhook_at, 'email', resolved_email_at)) as notified`;

// The service's pool answers timestamps as text.
type Row = Omit<SloBreach, 'notified' | 'openedAt' | 'resolvedAt'> & {
  openedAt: string | Date;
  resolvedAt: string | Date | null;
  notified: Record<NoticeKind, Record<NoticeChannel, string | null>>;
};

function toBreach(row: Row): SloBreach {
  const at = (value: string | Date | null) => (value === null ? null : new Date(value));
  const times = (kind: NoticeKind) => ({ webhook: at(row.notified[kind].webhook), email: at(row.notified[kind].email) });
  return { ...row, openedAt: new Date(row.openedAt), resolvedAt: at(row.resolvedAt), notified: { breached: times('breached'), resolved: times('resolved') } };
}

const keyOf = (flow: { flow: string; destination: string }) => `${flow.destination}\n${flow.flow}`;

/** The breaches not yet cleared, by destination and flow. */
export async function openBreaches(sql: Queryable): Promise<SloBreach[]> {
  const { rows } = await sql.query<Row>(`select ${COLUMNS} from slo_breach where resolved_at is null order by destination, flow`);
  return rows.map(toBreach);
}

/**
 * Opens a breach for each flow past its objective that has none open, keeps the worst age of those that stay
 * past it, and resolves the open ones that are back within it (or no longer held to one). One caller at a time.
 */
export async function recordBreaches(sql: Queryable, flows: readonly FlowObjective[], notify: readonly NoticeChannel[]): Promise<{ opened: SloBreach[]; resolved: SloBreach[] }> {
  const open = new Map((await openBreaches(sql)).map((breach) => [keyOf(breach), breach]));
  const now = new Map(flows.map((flow) => [keyOf(flow), flow]));
  const opened: SloBreach[] = [];
  const resolved: SloBreach[] = [];
  for (const flow of flows.filter(isBreached)) {
    const breach = open.get(keyOf(flow));
    if (breach) {
      await sql.query('update slo_breach set worst_age_seconds = greatest(worst_age_seconds, $2), max_age_seconds = $3 where id = $1', [breach.id, flow.oldestAgeSeconds, flow.maxAgeSeconds]);
      continue;
    }
    const { rows } = await sql.query<Row>(
      `insert into slo_breach (flow, destination, max_age_seconds, opened_age_seconds, worst_age_seconds, notify)
       values ($1, $2, $3, $4, $4, $5) on conflict do nothing returning ${COLUMNS}`,
      [flow.flow, flow.destination, flow.maxAgeSeconds, flow.oldestAgeSeconds, notify],
    );
    opened.push(...rows.map(toBreach));
  }
  for (const breach of open.values()) {
    const flow = now.get(keyOf(breach));
    if (flow && isBreached(flow)) continue;
    const { rows } = await sql.query<Row>(
      `update slo_breach set resolved_at = now(), resolved_age_seconds = $2 where id = $1 and resolved_at is null returning ${COLUMNS}`,
      [breach.id, flow?.oldestAgeSeconds ?? null],
    );
    resolved.push(...rows.map(toBreach));
  }
  return { opened, resolved };
}

/** Breaches with a notice still to send on `channel` (a breach's before its resolution), oldest first. */
export async function breachesToTell(sql: Queryable, channel: NoticeChannel, limit: number): Promise<SloBreach[]> {
  const { rows } = await sql.query<Row>(
    `select ${COLUMNS} from slo_breach
      where $1 = any(notify) and (breached_${channel}_at is null or (resolved_at is not null and resolved_${channel}_at is null))
      order by id limit $2`,
    [channel, limit],
  );
  return rows.map(toBreach);
}

/** The notice still due on `channel` for a breach, if any. */
export function noticeDue(breach: SloBreach, channel: NoticeChannel): NoticeKind | undefined {
  if (!breach.notify.includes(channel)) return undefined;
  if (breach.notified.breached[channel] === null) return 'breached';
  if (breach.resolvedAt !== null && breach.notified.resolved[channel] === null) return 'resolved';
  return undefined;
}

export async function markTold(sql: Queryable, breach: SloBreach, kind: NoticeKind, channel: NoticeChannel): Promise<void> {
  const column = `${kind}_${channel}_at`;
  await sql.query(`update slo_breach set ${column} = coalesce(${column}, now()) where id = $1`, [breach.id]);
  breach.notified[kind][channel] = new Date();
}

export async function markNotToldYet(sql: Queryable, breach: SloBreach, error: string): Promise<void> {
  await sql.query('update slo_breach set notify_failures = notify_failures + 1, last_notify_error = $2 where id = $1', [breach.id, error.slice(0, 1000)]);
}

/** Drops breaches resolved more than `days` ago, told or not. */
export async function pruneBreaches(sql: Queryable, days: number): Promise<number> {
  return (await sql.query(`delete from slo_breach where resolved_at < now() - $1 * interval '1 day'`, [days])).rowCount ?? 0;
}
