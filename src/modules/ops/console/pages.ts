import { dataView, href, html, json, table, when, type Html } from './html.js';

/** Who is signed in, and what the page may offer them. */
export interface Viewer {
  name: string;
  canAct: boolean;
  /** The admin: may also start what the admin API alone does (a reconciliation run). */
  isAdmin: boolean;
  csrfToken: string;
  /** Where trace ids link to (`{traceId}` in it), when tracing is set up. */
  traceUrl?: string;
}

const NAV: ReadonlyArray<readonly [string, string]> = [
  ['/console', 'Overview'],
  ['/console/orders', 'Orders'],
  ['/console/dead-letters', 'Dead letters'],
  ['/console/exceptions', 'Exceptions'],
  ['/console/skus', 'SKUs'],
  ['/console/reconciliation', 'Reconciliation'],
  ['/console/migration', 'Migration'],
];

const NOTICES: Record<string, string> = {
  replayed: 'Replayed: the message is queued again under its delivery id.',
  discarded: 'Discarded: the messages held behind it go on.',
  released: 'Released: the order goes to the ERP now.',
  retried: 'Retried.',
  dismissed: 'Dismissed.',
  'bulk-replayed': 'The matching dead letters were replayed.',
  'bulk-discarded': 'The matching dead letters were discarded.',
  'reconcile-started': 'Reconciliation started: its run shows below as it goes.',
};

export function layout(title: string, viewer: Viewer | undefined, body: Html, notice?: string): Html {
  const message = notice ? NOTICES[notice] : undefined;
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="htmx-config" content='{"includeIndicatorStyles":false,"allowEval":false,"allowScriptTags":false}'>
<title>${title} · Crossdock console</title>
<link rel="stylesheet" href="/console/assets/console.css">
<script src="/console/assets/htmx.min.js" defer></script>
<script src="/console/assets/console.js" defer></script>
</head>
<body>
<header>
  <a class="brand" href="/console">Crossdock</a>
  ${viewer ? html`<nav>${NAV.map(([path, name]) => html`<a href="${path}">${name}</a>`)}</nav>
  <form class="search" method="get" action="/console/search" role="search">
    <input type="search" name="q" placeholder="Order id, channel order id, ERP reference, shipment, SKU, correlation id" aria-label="Search" required maxlength="200">
    <button type="submit">Find</button>
  </form>
  <span class="who">${viewer.name}${viewer.canAct ? '' : ' (read only)'}</span>
  <form method="post" action="/console/logout"><input type="hidden" name="_csrf" value="${viewer.csrfToken}"><button type="submit" class="link">Sign out</button></form>` : ''}
</header>
<main>
${message ? html`<p class="notice" role="status">${message}</p>` : ''}
<h1>${title}</h1>
${body}
</main>
</body>
</html>`;
}

export function loginPage(error?: string): Html {
  return layout('Sign in', undefined, html`
<form class="card narrow" method="post" action="/console/login">
  <p>Sign in with an operator key (scopes <code>ops:read</code> or <code>ops:write</code>) or the admin token. The token is checked once; the browser keeps only a session cookie.</p>
  ${error ? html`<p class="error" role="alert">${error}</p>` : ''}
  <label>Token <input type="password" name="token" autocomplete="current-password" required maxlength="512" autofocus></label>
  <button type="submit">Sign in</button>
</form>`);
}

export function errorPage(viewer: Viewer | undefined, status: number, detail: string): Html {
  return layout(status === 404 ? 'Not found' : status === 403 ? 'Not allowed' : 'Something went wrong', viewer, html`<p class="error" role="alert">${detail}</p><p><a href="/console">Back to the overview</a></p>`);
}

/** A filter's choice among fixed values ('' for any), the current one selected. */
function choice(label: string, name: string, values: readonly string[], current: string | undefined): Html {
  return html`<label>${label} <select name="${name}">${values.map((v) => html`<option value="${v}"${v === (current ?? '') ? html` selected` : ''}>${v || 'any'}</option>`)}</select></label>`;
}

/**
 * A payload to send again as it was or corrected, with the reason asked for; for a person who may not act, the
 * payload as text.
 */
function payloadForm(viewer: Viewer, action: string, payload: unknown, labels: { edited: string; asItWas: string; reason: string }, hidden: Html | string = '', rows = 8): Html {
  if (!viewer.canAct) return html`<pre>${json(payload)}</pre>`;
  return html`<form class="action edit" method="post" action="${action}">
  <input type="hidden" name="_csrf" value="${viewer.csrfToken}">
  ${hidden}
  <textarea name="payload" rows="${rows}" spellcheck="false" aria-label="Payload">${json(payload)}</textarea>
  <input type="text" name="reason" placeholder="Reason (required)" required maxlength="500" aria-label="Reason for ${labels.reason}">
  <button type="submit" name="edited" value="yes">${labels.edited}</button>
  <button type="submit" name="edited" value="no">${labels.asItWas}</button>
</form>`;
}

/** A form that asks for a reason before it acts; drawn only for people who may act. */
export function actionForm(viewer: Viewer, action: string, label: string, fields: Html | string = '', danger = false): Html {
  if (!viewer.canAct) return html``;
  return html`<form class="action" method="post" action="${action}">
  <input type="hidden" name="_csrf" value="${viewer.csrfToken}">
  ${fields}
  <input type="text" name="reason" placeholder="Reason (required)" required maxlength="500" aria-label="Reason for ${label}">
  <button type="submit" class="${danger ? 'danger' : ''}">${label}</button>
</form>`;
}

interface FlowRow { flow: string; destination: string; waiting: number; queued: number; sending: number; dead: number; oldestWaitingSeconds: number | null; deliveredLastHour: number }
interface TargetRow { target: string; circuit: string; pausedUntil: string | null; inFlight: number; tokens: number }
interface LatencyPoint { minute: string; destination: string; delivered: number; p50Ms: number; p95Ms: number }

export function flowsSection(flows: FlowRow[]): Html {
  return html`<section id="flows" class="card" hx-get="/console/fragments/flows" hx-trigger="every 10s" hx-swap="outerHTML">
<h2>Flows</h2>
${table(flows, [
    ['flow', (f) => f.flow],
    ['destination', (f) => f.destination],
    ['waiting', (f) => f.waiting],
    ['queued', (f) => f.queued],
    ['sending', (f) => f.sending],
    ['dead', (f) => (f.dead > 0 ? html`<a class="bad" href="${href('/console/dead-letters', { flow: f.flow, destination: f.destination })}">${f.dead}</a>` : '0')],
    ['oldest', (f) => (f.oldestWaitingSeconds === null ? '-' : age(f.oldestWaitingSeconds))],
    ['delivered (1 h)', (f) => f.deliveredLastHour],
  ], 'No messages yet.')}
</section>`;
}

interface SloFlow { flow: string; destination: string; maxAgeSeconds: number; oldestAgeSeconds: number | null; breached: boolean }

export function overviewPage(viewer: Viewer, data: { health: { status?: string; details?: Record<string, { status: string; message?: string }> } | undefined; flows: FlowRow[]; targets: TargetRow[]; latency: LatencyPoint[]; slo: SloFlow[] }): Html {
  const checks = Object.entries(data.health?.details ?? {});
  return layout('Overview', viewer, html`
<div class="grid">
<section class="card"><h2>Health</h2>${table(checks, [
    ['check', ([name]) => name],
    ['status', ([, c]) => html`<span class="${c.status === 'up' ? 'good' : 'bad'}">${c.status}</span>`],
    ['detail', ([, c]) => c.message ?? ''],
  ])}</section>
<section class="card"><h2>Endpoints</h2>${table(data.targets, [
    ['target', (t) => t.target],
    ['circuit', (t) => html`<span class="${t.circuit === 'closed' ? 'good' : 'bad'}">${t.circuit}</span>`],
    ['paused until', (t) => when(t.pausedUntil)],
    ['calls in flight', (t) => t.inFlight],
  ], 'No target has been called yet.')}</section>
</div>
${flowsSection(data.flows)}
<section class="card"><h2>Delay objectives</h2>${table(data.slo, [
    ['flow', (f) => f.flow],
    ['destination', (f) => f.destination],
    ['objective', (f) => age(f.maxAgeSeconds)],
    ['oldest now', (f) => (f.oldestAgeSeconds === null ? '-' : age(f.oldestAgeSeconds))],
    ['', (f) => (f.breached ? html`<span class="bad">breached</span>` : html`<span class="good">within</span>`)],
  ], 'No delay objective is configured (slo on a channel or an ERP backend).')}</section>
<section class="card"><h2>Target answer time, last hour (p95 per minute)</h2>${latencyChart(data.latency)}</section>`);
}

const PALETTE = ['#2563eb', '#d97706', '#059669', '#dc2626', '#7c3aed', '#0891b2', '#be185d', '#4d7c0f'];

/** p95 per minute and destination over the last hour, as an SVG line chart drawn on the server. */
export function latencyChart(points: LatencyPoint[]): Html {
  if (points.length === 0) return html`<p class="muted">Nothing delivered in the last hour.</p>`;
  const width = 720;
  const height = 200;
  const now = Date.now();
  const max = Math.max(1, ...points.map((p) => p.p95Ms));
  const x = (minute: string) => Math.max(0, Math.min(width, width - ((now - new Date(minute).getTime()) / 3_600_000) * width));
  const y = (ms: number) => height - (ms / max) * (height - 10);
  const byDestination = new Map<string, LatencyPoint[]>();
  for (const point of points) byDestination.set(point.destination, [...(byDestination.get(point.destination) ?? []), point]);
  const series = [...byDestination.entries()];
  return html`<svg class="chart" viewBox="0 0 ${width} ${height + 20}" role="img" aria-label="p95 answer time per destination over the last hour">
<line x1="0" y1="${height}" x2="${width}" y2="${height}" stroke="#9ca3af"/>
<text x="2" y="12" font-size="11" fill="#6b7280">${Math.round(max)} ms</text>
<text x="2" y="${height + 15}" font-size="11" fill="#6b7280">-60 min</text>
<text x="${width - 30}" y="${height + 15}" font-size="11" fill="#6b7280">now</text>
${series.map(([, line], i) => html`<polyline fill="none" stroke="${PALETTE[i % PALETTE.length]!}" stroke-width="2" points="${line.map((p) => `${x(p.minute).toFixed(1)},${y(p.p95Ms).toFixed(1)}`).join(' ')}"/>
${line.map((p) => html`<circle cx="${x(p.minute).toFixed(1)}" cy="${y(p.p95Ms).toFixed(1)}" r="3" fill="${PALETTE[i % PALETTE.length]!}"><title>${p.destination} ${new Date(p.minute).toISOString().slice(11, 16)}: ${p.delivered} delivered, p50 ${p.p50Ms} ms, p95 ${p.p95Ms} ms</title></circle>`)}`)}
</svg>
<ul class="legend">${series.map(([destination, line], i) => html`<li><span class="swatch swatch-${i % PALETTE.length}"></span>${destination}: ${line.reduce((n, p) => n + p.delivered, 0)} delivered, last p95 ${line.at(-1)!.p95Ms} ms</li>`)}</ul>`;
}

function age(seconds: number): string {
  if (seconds < 120) return `${Math.round(seconds)} s`;
  if (seconds < 7200) return `${Math.round(seconds / 60)} min`;
  return `${Math.round(seconds / 3600)} h`;
}

export interface SearchHit { kind: string; id: string; matched: string; correlationId?: string | null; summary: Record<string, unknown> }

/** Where a search hit is seen in the console. */
export function pageOf(hit: SearchHit): string {
  if (hit.kind === 'order') return `/console/orders/${encodeURIComponent(hit.id)}`;
  if (hit.kind === 'sku') return `/console/skus/${encodeURIComponent(hit.id)}`;
  if (hit.correlationId) return `/console/trace/${encodeURIComponent(hit.correlationId)}`;
  return href('/console/search', { q: hit.id });
}

export function searchPage(viewer: Viewer, query: string, hits: SearchHit[]): Html {
  return layout(`Search: ${query}`, viewer, table(hits, [
    ['kind', (h) => h.kind],
    ['id', (h) => html`<a href="${pageOf(h)}">${h.id}</a>`],
    ['matched', (h) => h.matched],
    ['summary', (h) => dataView(h.summary)],
  ], 'Nothing matches. Search takes an exact id: an order id, a reference, a channel order id, an ERP reference, a shipment id, a SKU, an account number or a correlation id.'));
}

const ORDER_STATUSES = ['', 'accepted', 'submitted', 'confirmed', 'partially_shipped', 'shipped', 'rejected', 'on_hold', 'cancelled', 'failed'];

export function ordersPage(viewer: Viewer, filter: { status?: string; channelId?: string }, page: { items: Array<Record<string, any>>; nextCursor: string | null }): Html {
  return layout('Orders', viewer, html`
<form class="filters" method="get" action="/console/orders">
  ${choice('Status', 'status', ORDER_STATUSES, filter.status)}
  <label>Channel <input name="channelId" value="${filter.channelId ?? ''}" maxlength="64"></label>
  <button type="submit">Filter</button>
</form>
${table(page.items, [
    ['reference', (o) => html`<a href="/console/orders/${o.orderId}">${o.reference}</a>`],
    ['channel', (o) => o.channelId],
    ['channel order id', (o) => o.channelOrderId],
    ['status', (o) => html`<span class="status status-${o.status}">${o.status}</span>`],
    ['reason', (o) => o.statusReason ?? o.holdReason ?? ''],
    ['customer', (o) => o.accountNumber],
    ['total', (o) => `${o.total} ${o.currency}`],
    ['ERP', (o) => o.erpOrderRef ?? ''],
    ['updated', (o) => when(o.updatedAt)],
  ], 'No orders match.')}
${page.nextCursor ? html`<p><a href="${href('/console/orders', { ...filter, cursor: page.nextCursor })}">Older orders</a></p>` : ''}`);
}

export interface DeadLetterDetail { id: string; flow: string; destination: string; key: string; status: string; payload: unknown; attempts: number; replays: number; errorClass: string | null; errors: Array<{ message?: string; at?: string; status?: number }> | null; lastFailedAt: string | null }

/** A dead letter with its errors, its payload and the actions on it. */
export function deadLetterPanel(viewer: Viewer, dead: DeadLetterDetail, back: string): Html {
  const errors = dead.errors ?? [];
  return html`<section class="card dead-letter" id="dead-${dead.id}">
<h3>Dead letter: ${dead.flow} to ${dead.destination}</h3>
<p>Key <code>${dead.key}</code>, ${dead.attempts} attempts, ${dead.replays} replays, class <strong>${dead.errorClass ?? 'unknown'}</strong>, last failed ${when(dead.lastFailedAt)}.</p>
<h4>Errors</h4>
${table(errors.slice(-5), [['at', (e) => when(e.at ?? null)], ['message', (e) => e.message ?? json(e)]])}
<h4>Payload</h4>
${payloadForm(viewer, `/console/dead-letters/${dead.id}/replay`, dead.payload, { edited: 'Edit and replay', asItWas: 'Replay as it was', reason: 'replay' }, html`<input type="hidden" name="back" value="${back}">`, 12)}
${actionForm(viewer, `/console/dead-letters/${dead.id}/discard`, 'Skip (discard)', html`<input type="hidden" name="back" value="${back}">`, true)}
</section>`;
}

interface Timeline { correlationId: string; deliveries: Array<Record<string, any>>; timeline: Array<Record<string, any>> }

function traceLink(viewer: Viewer, traceId: string): Html {
  return viewer.traceUrl
    ? html`<a class="trace" href="${viewer.traceUrl.replace('{traceId}', encodeURIComponent(traceId))}" rel="noreferrer">trace ${traceId}</a>`
    : html`<code title="OpenTelemetry trace id">trace ${traceId}</code>`;
}

export function timelineSection(viewer: Viewer, trace: (Timeline & { traceIds?: string[] }) | undefined): Html {
  if (!trace) return html`<section class="card"><h2>Timeline</h2><p class="muted">No message has been recorded for this transaction yet.</p></section>`;
  return html`<section class="card"><h2>Messages</h2>
${table(trace.deliveries, [
    ['flow', (d) => d.type],
    ['destination', (d) => d.destination],
    ['key', (d) => d.key],
    ['status', (d) => html`<span class="status status-${d.status}">${d.status}</span>`],
    ['attempts', (d) => d.attempts],
    ['created', (d) => when(d.createdAt)],
    ['delivered', (d) => when(d.deliveredAt)],
    ['payload', (d) => (d.payload === undefined || d.payload === null ? '' : html`<details><summary>show</summary><pre>${json(d.payload)}</pre></details>`)],
  ])}
${trace.traceIds?.length ? html`<p>Traces: ${trace.traceIds.map((id, i) => html`${i > 0 ? ', ' : ''}${traceLink(viewer, id)}`)}</p>` : ''}
</section>
<section class="card"><h2>Timeline</h2>
<ol class="timeline">${trace.timeline.map((s) => html`<li class="step step-${s.step}">${when(s.at)} <strong>${s.step}</strong> ${s.destination ?? ''}${s.latencyMs !== null && s.latencyMs !== undefined ? ` (${Math.round(s.latencyMs)} ms)` : ''}${s.traceId ? html` ${traceLink(viewer, s.traceId)}` : ''}${s.detail ? html` <span class="detail">${stepDetail(s.detail)}</span>` : ''}</li>`)}</ol>
</section>`;
}

function stepDetail(detail: Record<string, unknown>): string {
  return Object.entries(detail).map(([k, v]) => `${k}: ${typeof v === 'object' ? JSON.stringify(v) : String(v)}`).join(', ');
}

export function orderPage(viewer: Viewer, order: Record<string, any>, trace: Timeline | undefined, deadLetters: DeadLetterDetail[], notice?: string): Html {
  const back = `/console/orders/${order.orderId}`;
  return layout(`Order ${order.reference}`, viewer, html`
<section class="card">
<p class="big">Status <span class="status status-${order.status}" id="order-status">${order.status}</span>${order.statusReason ? html` <span class="muted">${order.statusReason}</span>` : ''}</p>
${dataView({
    orderId: order.orderId, channel: order.channelId, channelOrderId: order.channelOrderId, customer: order.customer, total: `${order.total} ${order.currency}`,
    erpBackend: order.erpBackendId, erpOrderRef: order.erpOrderRef, holdReason: order.holdReason, correlationId: order.correlationId, createdAt: order.createdAt,
  })}
${order.status === 'on_hold' ? actionForm(viewer, `/console/orders/${order.orderId}/release`, 'Release the hold') : ''}
</section>
<div class="grid">
<section class="card"><h2>Lines</h2>${dataView(order.lines)}</section>
<section class="card"><h2>History</h2>${table(order.history ?? [], [['status', (h: any) => h.status], ['reason', (h: any) => h.reason ?? ''], ['at', (h: any) => when(h.at)]])}</section>
</div>
${order.shipments?.length ? html`<section class="card"><h2>Shipments</h2>${dataView(order.shipments)}</section>` : ''}
${deadLetters.map((d) => deadLetterPanel(viewer, d, back))}
${timelineSection(viewer, trace)}
<p><a href="/console/trace/${encodeURIComponent(order.correlationId)}">The whole transaction</a></p>`, notice);
}

export function tracePage(viewer: Viewer, correlationId: string, trace: Timeline | undefined, deadLetters: DeadLetterDetail[], notice?: string): Html {
  const back = `/console/trace/${encodeURIComponent(correlationId)}`;
  return layout(`Transaction ${correlationId}`, viewer, html`${deadLetters.map((d) => deadLetterPanel(viewer, d, back))}${timelineSection(viewer, trace)}`, notice);
}

export interface DeadLetterFilter { flow?: string; destination?: string; errorClass?: string }

export function deadLettersPage(viewer: Viewer, filter: DeadLetterFilter, groups: { total: number; groups: Array<Record<string, any>> }, page: { items: Array<Record<string, any>>; nextCursor: string | null }, notice?: string): Html {
  const filtered = Boolean(filter.flow || filter.destination || filter.errorClass);
  return layout('Dead letters', viewer, html`
<form class="filters" method="get" action="/console/dead-letters">
  <label>Flow <input name="flow" value="${filter.flow ?? ''}" maxlength="100"></label>
  <label>Destination <input name="destination" value="${filter.destination ?? ''}" maxlength="200"></label>
  ${choice('Class', 'errorClass', ['', 'permanent', 'retryable', 'throttled'], filter.errorClass)}
  <button type="submit">Filter</button>
</form>
<section class="card"><h2>By flow and error class</h2>
${table(groups.groups, [
    ['flow', (g) => html`<a href="${href('/console/dead-letters', { flow: g.flow, destination: g.destination, errorClass: g.errorClass })}">${g.flow}</a>`],
    ['destination', (g) => g.destination],
    ['class', (g) => g.errorClass ?? ''],
    ['count', (g) => g.count],
    ['last error', (g) => g.lastError ?? ''],
    ['newest', (g) => when(g.newest)],
  ], 'No dead letters.')}
${groups.total > 0 && viewer.canAct ? html`<div class="bulk">
  <p>${filtered ? 'The filter selects' : 'All dead letters:'} <strong id="bulk-count">${groups.total}</strong>.</p>
  ${bulkForm(viewer, filter, 'replay', 'Replay all matching')}
  ${bulkForm(viewer, filter, 'discard', 'Discard all matching', true)}
</div>` : ''}
</section>
<section class="card"><h2>Dead letters</h2>
${table(page.items, [
    ['flow', (d) => d.flow],
    ['destination', (d) => d.destination],
    ['key', (d) => d.key],
    ['class', (d) => d.errorClass ?? ''],
    ['last error', (d) => d.lastError ?? ''],
    ['attempts', (d) => d.attempts],
    ['failed', (d) => when(d.lastFailedAt)],
    ['transaction', (d) => html`<a href="/console/trace/${encodeURIComponent(d.correlationId)}">${d.correlationId}</a>`],
  ], 'None.')}
${page.nextCursor ? html`<p><a href="${href('/console/dead-letters', { ...filter, cursor: page.nextCursor })}">More</a></p>` : ''}
</section>`, notice);
}

function filterFields(filter: DeadLetterFilter): Html {
  return html`${Object.entries(filter).filter(([, v]) => v).map(([k, v]) => html`<input type="hidden" name="${k}" value="${v}">`)}`;
}

function bulkForm(viewer: Viewer, filter: DeadLetterFilter, action: 'replay' | 'discard', label: string, danger = false): Html {
  return html`<form class="action" method="post" action="/console/dead-letters/bulk">
  <input type="hidden" name="_csrf" value="${viewer.csrfToken}">
  <input type="hidden" name="action" value="${action}">
  ${filterFields(filter)}
  <button type="submit" class="${danger ? 'danger' : ''}">${label}…</button>
</form>`;
}

/** The count first: what a bulk action would touch, to be confirmed with a reason. */
export function bulkConfirmPage(viewer: Viewer, filter: DeadLetterFilter, action: 'replay' | 'discard', count: number): Html {
  return layout(`Confirm: ${action} ${count} dead letters`, viewer, html`
<section class="card">
<p>This will ${action} <strong id="confirm-count">${count}</strong> dead letter${count === 1 ? '' : 's'} matching ${dataView(Object.fromEntries(Object.entries(filter).filter(([, v]) => v)))}.</p>
${actionForm(viewer, '/console/dead-letters/bulk', `${action === 'replay' ? 'Replay' : 'Discard'} ${count}`, html`${filterFields(filter)}<input type="hidden" name="action" value="${action}"><input type="hidden" name="confirm" value="${count}">`, action === 'discard')}
<p><a href="${href('/console/dead-letters', { ...filter })}">Cancel</a></p>
</section>`);
}

export function exceptionsPage(viewer: Viewer, domain: string | undefined, exceptions: Array<Record<string, any>>, notice?: string): Html {
  return layout('Exceptions', viewer, html`
<form class="filters" method="get" action="/console/exceptions">
  ${choice('Domain', 'domain', ['', 'shipment', 'customer'], domain)}
  <button type="submit">Filter</button>
</form>
${exceptions.length === 0 ? html`<p class="muted">No open exceptions.</p>` : exceptions.map((e) => html`<section class="card" id="exception-${e.id}">
<h3>${e.domain} ${e.subject ?? ''}</h3>
<p class="error">${e.reason}</p>
<p class="muted">Received ${when(e.receivedAt ?? e.createdAt)}</p>
${payloadForm(viewer, `/console/exceptions/${e.id}/retry`, e.payload, { edited: 'Correct and retry', asItWas: 'Retry as it was', reason: 'retry' })}
${actionForm(viewer, `/console/exceptions/${e.id}/dismiss`, 'Dismiss', '', true)}
</section>`)}`, notice);
}

export function skuPage(viewer: Viewer, sku: string, view: Record<string, any> | undefined): Html {
  return layout(sku ? `SKU ${sku}` : 'SKUs', viewer, html`
<form class="filters" method="get" action="/console/skus"><label>SKU <input name="sku" value="${sku}" maxlength="64" required></label><button type="submit">Show</button></form>
${sku && !view ? html`<p class="muted">No stock is known for ${sku}.</p>` : ''}
${view ? html`<section class="card"><h2>Positions</h2>${dataView(view.positions)}</section>
<section class="card"><h2>Open reservations</h2>${dataView(view.openReservations)}</section>
<section class="card"><h2>Channels</h2>${table(view.channels ?? [], [
    ['channel', (c: any) => c.channelId],
    ['available now', (c: any) => c.available],
    ['version', (c: any) => c.version],
    ['last sent', (c: any) => c.publishedAvailable ?? '-'],
    ['sent version', (c: any) => c.publishedVersion ?? '-'],
    ['sent at', (c: any) => when(c.publishedAt)],
    ['in step', (c: any) => (c.publishedVersion === c.version ? html`<span class="good">yes</span>` : html`<span class="bad">behind</span>`)],
    ['by warehouse', (c: any) => dataView(c.byWarehouse)],
  ])}</section>` : ''}`);
}

export function migrationPage(viewer: Viewer, report: Record<string, any> | undefined, error?: string): Html {
  return layout('Migration', viewer, html`
${error ? html`<p class="error">${error}</p>` : ''}
${report ? html`<section class="card"><h2>Per domain</h2>${table(report.domains ?? [], [
    ['domain', (d: any) => d.domain],
    ['mode', (d: any) => d.mode ?? ''],
    ['compared', (d: any) => d.compared ?? d.transactionsCompared ?? 0],
    ['match rate', (d: any) => (d.matchRate === null || d.matchRate === undefined ? '-' : `${Math.round(d.matchRate * 1000) / 10}%`)],
    ['mismatches', (d: any) => dataView(d.mismatchesByCategory ?? d.mismatches)],
    ['readiness', (d: any) => dataView(d.readiness)],
  ], 'No domain is being compared.')}</section>
<section class="card"><h2>Report</h2>${dataView(Object.fromEntries(Object.entries(report).filter(([k]) => k !== 'domains')))}</section>` : ''}`);
}

export function reconciliationPage(viewer: Viewer, domain: string | undefined, report: { domains: string[]; runs: Array<Record<string, any>>; waiting: Array<Record<string, any>> }, notice?: string): Html {
  return layout('Reconciliation', viewer, html`
<form class="filters" method="get" action="/console/reconciliation">
  ${choice('Domain', 'domain', ['', ...report.domains], domain)}
  <button type="submit">Filter</button>
</form>
${viewer.isAdmin ? html`<section class="card"><h2>Run now</h2>${report.domains.map((d) => actionForm(viewer, `/console/reconciliation/${encodeURIComponent(d)}/run`, `Reconcile ${d} now`))}</section>` : ''}
<section class="card"><h2>Waiting for a person</h2>${table(report.waiting, [
    ['domain', (f) => f.domain],
    ['target', (f) => f.target],
    ['key', (f) => f.key],
    ['class', (f) => f.class],
    ['expected', (f) => dataView(f.expected)],
    ['found', (f) => dataView(f.actual)],
    ['since', (f) => when(f.foundAt)],
    ['last seen', (f) => when(f.lastSeenAt)],
  ], 'Nothing waits for a person.')}</section>
<section class="card"><h2>Runs</h2>${table(report.runs, [
    ['run', (r) => html`<a href="${`/console/reconciliation/runs/${encodeURIComponent(r.id)}`}">${r.id}</a>`],
    ['domain', (r) => r.domain],
    ['target', (r) => r.target],
    ['trigger', (r) => r.trigger],
    ['status', (r) => html`<span class="status status-${r.status === 'failed' ? 'failed' : r.status === 'finished' ? 'delivered' : 'waiting'}">${r.status}</span>`],
    ['compared', (r) => r.compared],
    ['drifted', (r) => r.drifted],
    ['repaired', (r) => r.repaired],
    ['waiting', (r) => r.waiting],
    ['started', (r) => when(r.startedAt)],
    ['finished', (r) => when(r.finishedAt)],
    ['error', (r) => r.error ?? ''],
  ], 'No run yet.')}</section>`, notice);
}

/** One run's report: what it compared, where it stopped or ended, and each finding with what its repair did. */
export function reconciliationRunPage(viewer: Viewer, run: Record<string, any>): Html {
  const findings = (run.findings ?? []) as Array<Record<string, any>>;
  return layout(`Reconciliation run ${run.id}`, viewer, html`
<p><a href="${href('/console/reconciliation', { domain: run.domain })}">All runs of ${run.domain}</a></p>
<section class="card"><h2>Run</h2>${dataView({
    domain: run.domain, target: run.target, trigger: run.trigger, status: run.status, started: run.startedAt, finished: run.finishedAt,
    pages: run.pages, compared: run.compared, drifted: run.drifted, repaired: run.repaired, 'waiting for a person': run.waiting,
    ...(run.error ? { error: run.error } : {}), ...(run.status === 'running' ? { 'resumes from': run.cursor ?? 'the start' } : {}),
  })}${run.repaired > 0 ? html`<p><a href="${`/console/trace/${encodeURIComponent(run.correlationId)}`}">The repairs and their deliveries</a></p>` : ''}</section>
<section class="card"><h2>Findings</h2>${table(findings, [
    ['key', (f) => f.key],
    ['class', (f) => f.class],
    ['repair', (f) => f.repair],
    ['status', (f) => html`<span class="status status-${f.status === 'repaired' ? 'delivered' : f.status === 'waiting' ? 'waiting' : 'failed'}">${f.status}</span>`],
    ['expected', (f) => dataView(f.expected)],
    ['found', (f) => dataView(f.actual)],
    ['what was done', (f) => dataView(f.detail)],
    ['found at', (f) => when(f.foundAt)],
  ], 'This run found no drift.')}</section>`);
}
