import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { Body, Controller, Get, Inject, Param, Post, Query, Req, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ConsoleSessions, cookieValue, csrfMatches, SESSION_COOKIE, type ConsoleSession } from '../../../platform/security/console-sessions.js';
import { Access } from '../../../platform/security/principal.js';
import { ApiRefusal, ConsoleApi } from './console-api.js';
import { CONSOLE_SETTINGS, type ConsoleSettings } from './console-settings.js';
import { href, type Html } from './html.js';
import {
  bulkConfirmPage, deadLettersPage, errorPage, exceptionsPage, flowsSection, loginPage, migrationPage, orderPage, ordersPage, overviewPage, pageOf, reconciliationPage, reconciliationRunPage, searchPage,
  skuPage, tracePage, type DeadLetterDetail, type DeadLetterFilter, type SearchHit, type Viewer,
} from './pages.js';

const require = createRequire(import.meta.url);
const ASSETS: Record<string, { type: string; body: string }> = {
  'console.css': { type: 'text/css; charset=utf-8', body: readFileSync(new URL('./assets/console.css', import.meta.url), 'utf8') },
  'console.js': { type: 'text/javascript; charset=utf-8', body: readFileSync(new URL('./assets/console.js', import.meta.url), 'utf8') },
  // htmx, vendored from npm at the exact version package.json pins, served from here: the console needs no network.
  'htmx.min.js': { type: 'text/javascript; charset=utf-8', body: readFileSync(require.resolve('htmx.org/dist/htmx.min.js'), 'utf8') },
};

/** Every console response: no caching, no framing, nothing loaded from elsewhere, no referrer sent away. */
const SECURITY_HEADERS = {
  'content-security-policy': "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
  'x-frame-options': 'DENY',
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'same-origin',
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
  'permissions-policy': 'camera=(), microphone=(), geolocation=()',
};

type Form = Record<string, string | undefined>;
type Signed = { id: string; session: ConsoleSession };
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * The operations console: server-rendered pages over the ops API, for people signed in with an operator key or
 * the admin token. Sessions ride an HttpOnly, SameSite=Strict cookie; every form carries the session's CSRF token
 * and is refused from another origin; every action asks for a reason, and is the API's own, audited there.
 */
@ApiExcludeController()
@Controller('console')
export class ConsoleController {
  constructor(
    private readonly sessions: ConsoleSessions,
    private readonly api: ConsoleApi,
    @Inject(CONSOLE_SETTINGS) private readonly settings: ConsoleSettings,
  ) {}

  @Get('assets/:name')
  @Access('public')
  asset(@Param('name') name: string, @Res() reply: FastifyReply) {
    const asset = Object.hasOwn(ASSETS, name) ? ASSETS[name] : undefined;
    if (!asset) return void reply.status(404).headers(SECURITY_HEADERS).type('text/plain').send('not found');
    void reply.headers(SECURITY_HEADERS).header('cache-control', 'public, max-age=3600').type(asset.type).send(asset.body);
  }

  @Get('login')
  @Access('public')
  loginForm(@Res() reply: FastifyReply) {
    send(reply, 200, loginPage());
  }

  @Post('login')
  @Access('public')
  async login(@Req() request: FastifyRequest, @Body() form: Form, @Res() reply: FastifyReply) {
    if (!sameOrigin(request)) return send(reply, 403, loginPage('Sign-in from another site is refused'));
    const token = typeof form?.token === 'string' ? form.token.trim() : '';
    if (!token) return send(reply, 400, loginPage('Enter a token'));
    const opened = await this.sessions.open(token);
    if ('refused' in opened) return send(reply, 401, loginPage(opened.refused));
    const secure = request.protocol === 'https' ? '; Secure' : '';
    const maxAge = Math.max(0, Math.floor((opened.session.expiresAt.getTime() - Date.now()) / 1000));
    void reply.header('set-cookie', `${SESSION_COOKIE}=${opened.sessionId}; Path=/console; HttpOnly; SameSite=Strict; Max-Age=${maxAge}${secure}`);
    redirect(reply, '/console');
  }

  @Post('logout')
  @Access('public')
  async logout(@Req() request: FastifyRequest, @Body() form: Form, @Res() reply: FastifyReply) {
    await this.acting(request, form, reply, async (signed) => {
      await this.sessions.close(signed.id);
      void reply.header('set-cookie', `${SESSION_COOKIE}=; Path=/console; HttpOnly; SameSite=Strict; Max-Age=0`);
      return '/console/login';
    }, false);
  }

  @Get()
  @Access('public')
  async overview(@Req() request: FastifyRequest, @Res() reply: FastifyReply) {
    await this.reading(request, reply, async (signed, viewer) => {
      const [flows, latency, health, slo] = await Promise.all([
        this.api.get(signed, '/v1/ops/flows'),
        this.api.get(signed, '/v1/ops/flows/latency'),
        this.api.call(signed, 'GET', '/health/ready'),
        this.api.get(signed, '/v1/ops/slo'),
      ]);
      return overviewPage(viewer, { health: health.body, flows: flows.flows, targets: flows.targets, latency: latency.points, slo: slo.flows });
    });
  }

  @Get('fragments/flows')
  @Access('public')
  async flowsFragment(@Req() request: FastifyRequest, @Res() reply: FastifyReply) {
    await this.reading(request, reply, async (signed) => flowsSection((await this.api.get(signed, '/v1/ops/flows')).flows));
  }

  /** One box: a single match opens its page at once; several are listed. */
  @Get('search')
  @Access('public')
  async search(@Req() request: FastifyRequest, @Query('q') q: string | undefined, @Res() reply: FastifyReply) {
    await this.reading(request, reply, async (signed, viewer) => {
      const text = (q ?? '').trim();
      const { results } = await this.api.get<{ results: SearchHit[] }>(signed, href('/v1/ops/search', { q: text }));
      const pages = [...new Set(results.map(pageOf))];
      if (pages.length === 1) return { redirect: pages[0]! };
      return searchPage(viewer, text, results);
    });
  }

  @Get('orders')
  @Access('public')
  async orders(@Req() request: FastifyRequest, @Query() query: Form, @Res() reply: FastifyReply) {
    await this.reading(request, reply, async (signed, viewer) => {
      const filter = { status: query.status || undefined, channelId: query.channelId || undefined };
      return ordersPage(viewer, filter, await this.api.get(signed, href('/v1/ops/orders', { ...filter, cursor: query.cursor })));
    });
  }

  @Get('orders/:orderId')
  @Access('public')
  async order(@Req() request: FastifyRequest, @Param('orderId') orderId: string, @Query('notice') notice: string | undefined, @Res() reply: FastifyReply) {
    await this.reading(request, reply, async (signed, viewer) => {
      const order = await this.api.get(signed, `/v1/ops/orders/${encodeURIComponent(orderId)}`);
      const { trace, deadLetters } = await this.transaction(signed, order.correlationId);
      return orderPage(viewer, order, trace, deadLetters, notice);
    });
  }

  @Post('orders/:orderId/release')
  @Access('public')
  async release(@Req() request: FastifyRequest, @Param('orderId') orderId: string, @Body() form: Form, @Res() reply: FastifyReply) {
    await this.acting(request, form, reply, async (signed) => {
      if (!UUID.test(orderId)) throw new ApiRefusal(404, `Order ${orderId}`);
      await this.api.post(signed, `/v1/ops/orders/${orderId}/release`, { reason: form.reason });
      return href(`/console/orders/${orderId}`, { notice: 'released' });
    });
  }

  @Get('trace/:correlationId')
  @Access('public')
  async trace(@Req() request: FastifyRequest, @Param('correlationId') correlationId: string, @Query('notice') notice: string | undefined, @Res() reply: FastifyReply) {
    await this.reading(request, reply, async (signed, viewer) => {
      const { trace, deadLetters } = await this.transaction(signed, correlationId);
      if (!trace) throw new ApiRefusal(404, `No transaction has the correlation id ${correlationId}`);
      return tracePage(viewer, correlationId, trace, deadLetters, notice);
    });
  }

  @Get('dead-letters')
  @Access('public')
  async deadLetters(@Req() request: FastifyRequest, @Query() query: Form, @Res() reply: FastifyReply) {
    await this.reading(request, reply, async (signed, viewer) => {
      const filter = deadLetterFilter(query);
      const [groups, page] = await Promise.all([
        this.api.get(signed, href('/v1/ops/dead-letters/groups', { ...filter })),
        this.api.get(signed, href('/v1/ops/dead-letters', { ...filter, cursor: query.cursor })),
      ]);
      return deadLettersPage(viewer, filter, groups, page, query.notice);
    });
  }

  /** A bulk action on a filter: first the count to confirm, then, confirmed with a reason, the action. */
  @Post('dead-letters/bulk')
  @Access('public')
  async bulk(@Req() request: FastifyRequest, @Body() form: Form, @Res() reply: FastifyReply) {
    await this.acting(request, form, reply, async (signed, viewer) => {
      const filter = deadLetterFilter(form);
      const action = form.action === 'discard' ? 'discard' : 'replay';
      if (form.confirm === undefined) {
        const { total } = await this.api.get(signed, href('/v1/ops/dead-letters/groups', { ...filter }));
        return bulkConfirmPage(viewer, filter, action, total);
      }
      const limit = Math.min(1000, Math.max(1, Number(form.confirm) || 1));
      await this.api.post(signed, `/v1/ops/dead-letters/${action}`, { ...filter, limit, reason: form.reason });
      return href('/console/dead-letters', { ...filter, notice: action === 'replay' ? 'bulk-replayed' : 'bulk-discarded' });
    }, form?.confirm !== undefined); // the first step only counts: no reason yet
  }

  @Post('dead-letters/:id/replay')
  @Access('public')
  async replay(@Req() request: FastifyRequest, @Param('id') id: string, @Body() form: Form, @Res() reply: FastifyReply) {
    await this.acting(request, form, reply, async (signed) => {
      const payload = form.edited === 'yes' ? parsePayload(form.payload) : undefined;
      await this.api.post(signed, `/v1/ops/dead-letters/${encodeURIComponent(id)}/replay`, { reason: form.reason, ...(payload ? { payload } : {}) });
      return href(backTo(form.back), { notice: 'replayed' });
    });
  }

  @Post('dead-letters/:id/discard')
  @Access('public')
  async discard(@Req() request: FastifyRequest, @Param('id') id: string, @Body() form: Form, @Res() reply: FastifyReply) {
    await this.acting(request, form, reply, async (signed) => {
      await this.api.post(signed, `/v1/ops/dead-letters/${encodeURIComponent(id)}/discard`, { reason: form.reason });
      return href(backTo(form.back), { notice: 'discarded' });
    });
  }

  @Get('exceptions')
  @Access('public')
  async exceptions(@Req() request: FastifyRequest, @Query() query: Form, @Res() reply: FastifyReply) {
    await this.reading(request, reply, async (signed, viewer) => {
      const { exceptions } = await this.api.get(signed, href('/v1/ops/exceptions', { domain: query.domain }));
      return exceptionsPage(viewer, query.domain || undefined, exceptions, query.notice);
    });
  }

  @Post('exceptions/:id/retry')
  @Access('public')
  async retryException(@Req() request: FastifyRequest, @Param('id') id: string, @Body() form: Form, @Res() reply: FastifyReply) {
    await this.acting(request, form, reply, async (signed) => {
      const payload = form.edited === 'yes' ? parsePayload(form.payload) : undefined;
      const outcome = await this.api.post(signed, `/v1/ops/exceptions/${encodeURIComponent(id)}/retry`, { reason: form.reason, ...(payload ? { payload } : {}) });
      if (!outcome.closed) throw new ApiRefusal(422, `Still not applied: ${outcome.reason ?? 'the domain refused it again'}`);
      return href('/console/exceptions', { notice: 'retried' });
    });
  }

  @Post('exceptions/:id/dismiss')
  @Access('public')
  async dismissException(@Req() request: FastifyRequest, @Param('id') id: string, @Body() form: Form, @Res() reply: FastifyReply) {
    await this.acting(request, form, reply, async (signed) => {
      await this.api.post(signed, `/v1/ops/exceptions/${encodeURIComponent(id)}/dismiss`, { reason: form.reason });
      return href('/console/exceptions', { notice: 'dismissed' });
    });
  }

  @Get('skus')
  @Access('public')
  async skus(@Req() request: FastifyRequest, @Query('sku') sku: string | undefined, @Res() reply: FastifyReply) {
    if (sku) return redirect(reply, `/console/skus/${encodeURIComponent(sku.trim())}`);
    await this.reading(request, reply, async (_signed, viewer) => skuPage(viewer, '', undefined));
  }

  @Get('skus/:sku')
  @Access('public')
  async sku(@Req() request: FastifyRequest, @Param('sku') sku: string, @Res() reply: FastifyReply) {
    await this.reading(request, reply, async (signed, viewer) => {
      const answer = await this.api.call(signed, 'GET', `/v1/ops/skus/${encodeURIComponent(sku)}`);
      if (answer.status !== 404 && answer.status >= 300) throw new ApiRefusal(answer.status, answer.body?.detail ?? `HTTP ${answer.status}`);
      return skuPage(viewer, sku, answer.status === 404 ? undefined : answer.body);
    });
  }

  @Get('reconciliation')
  @Access('public')
  async reconciliation(@Req() request: FastifyRequest, @Query() query: Form, @Res() reply: FastifyReply) {
    await this.reading(request, reply, async (signed, viewer) =>
      reconciliationPage(viewer, query.domain || undefined, await this.api.get(signed, href('/v1/ops/reconciliation', { domain: query.domain })), query.notice));
  }

  @Get('reconciliation/runs/:id')
  @Access('public')
  async reconciliationRun(@Req() request: FastifyRequest, @Param('id') id: string, @Res() reply: FastifyReply) {
    await this.reading(request, reply, async (signed, viewer) =>
      reconciliationRunPage(viewer, await this.api.get(signed, `/v1/ops/reconciliation/runs/${encodeURIComponent(id)}`)));
  }

  @Post('reconciliation/:domain/run')
  @Access('public')
  async reconcileNow(@Req() request: FastifyRequest, @Param('domain') domain: string, @Body() form: Form, @Res() reply: FastifyReply) {
    await this.acting(request, form, reply, async (signed) => {
      await this.api.post(signed, `/v1/admin/reconcile/${encodeURIComponent(domain)}`, {});
      return href('/console/reconciliation', { domain, notice: 'reconcile-started' });
    });
  }

  @Get('migration')
  @Access('public')
  async migration(@Req() request: FastifyRequest, @Res() reply: FastifyReply) {
    await this.reading(request, reply, async (signed, viewer) => migrationPage(viewer, await this.api.get(signed, '/v1/coexistence/report')));
  }

  /** A transaction's timeline, and each of its dead letters in full (payload, errors) for the actions on it. */
  private async transaction(signed: Signed, correlationId: string) {
    const answer = await this.api.call(signed, 'GET', `/v1/ops/trace/${encodeURIComponent(correlationId)}`);
    if (answer.status === 404) return { trace: undefined, deadLetters: [] };
    if (answer.status >= 300) throw new ApiRefusal(answer.status, answer.body?.detail ?? `HTTP ${answer.status}`);
    const dead = (answer.body.deliveries as Array<{ deliveryId: string; status: string }>).filter((d) => d.status === 'dead');
    const deadLetters = await Promise.all(dead.map((d) => this.api.get<DeadLetterDetail>(signed, `/v1/ops/dead-letters/${d.deliveryId}`)));
    return { trace: answer.body, deadLetters };
  }

  private async signedIn(request: FastifyRequest): Promise<Signed | undefined> {
    const id = cookieValue(request.headers.cookie, SESSION_COOKIE);
    const session = id ? await this.sessions.resolve(id) : undefined;
    return session && id ? { id, session } : undefined;
  }

  /** A page: the signed-in person's, or the sign-in form; what the API refuses is shown with its reason. */
  private async reading(request: FastifyRequest, reply: FastifyReply, render: (signed: Signed, viewer: Viewer) => Promise<Html | { redirect: string }>) {
    const signed = await this.signedIn(request);
    if (!signed) return redirect(reply, '/console/login');
    const viewer = viewerOf(signed.session, this.settings);
    try {
      const page = await render(signed, viewer);
      if ('redirect' in page) return redirect(reply, page.redirect);
      send(reply, 200, page);
    } catch (error) {
      if (!(error instanceof ApiRefusal)) throw error;
      if (error.status === 401) return redirect(reply, '/console/login');
      send(reply, error.status, errorPage(viewer, error.status, error.detail));
    }
  }

  /** An action: only from this origin, with the session's CSRF token and (`asksWhy`) a reason; then back to a page. */
  private async acting(request: FastifyRequest, form: Form, reply: FastifyReply, act: (signed: Signed, viewer: Viewer) => Promise<string | Html>, asksWhy = true) {
    const signed = await this.signedIn(request);
    if (!signed) return redirect(reply, '/console/login');
    const viewer = viewerOf(signed.session, this.settings);
    if (!sameOrigin(request) || !csrfMatches(signed.session, form?._csrf)) return send(reply, 403, errorPage(viewer, 403, 'The form is out of date or came from another site; reload the page and try again'));
    if (asksWhy && !(form.reason ?? '').trim()) return send(reply, 400, errorPage(viewer, 400, 'Give a reason: it is kept in the audit log'));
    try {
      const next = await act(signed, viewer);
      if (typeof next === 'string') return redirect(reply, next);
      send(reply, 200, next);
    } catch (error) {
      if (!(error instanceof ApiRefusal)) throw error;
      send(reply, error.status, errorPage(viewer, error.status, error.detail));
    }
  }
}

function viewerOf(session: ConsoleSession, settings: ConsoleSettings): Viewer {
  const principal = session.principal;
  const shared = { csrfToken: session.csrfToken, traceUrl: settings.traceUrl };
  return principal.type === 'admin'
    ? { ...shared, name: principal.actor, canAct: true, isAdmin: true }
    : { ...shared, name: `${principal.type} ${principal.id}`, canAct: principal.scopes.includes('ops:write'), isAdmin: false };
}

function deadLetterFilter(source: Form): DeadLetterFilter {
  return { flow: source.flow || undefined, destination: source.destination || undefined, errorClass: source.errorClass || undefined };
}

function parsePayload(text: string | undefined): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(text ?? '');
  } catch (error) {
    throw new ApiRefusal(400, `The payload is not valid JSON: ${(error as Error).message}`);
  }
  if (!value || typeof value !== 'object' || Array.isArray(value)) throw new ApiRefusal(400, 'The payload must be a JSON object');
  return value as Record<string, unknown>;
}

/** Only back to a console page: a form's `back` never sends anyone elsewhere. */
function backTo(back: string | undefined): string {
  return back && /^\/console(\/[A-Za-z0-9._~%:@+-]*)*$/.test(back) ? back : '/console/dead-letters';
}

/** A form posted from this service's own pages: its Origin (or Referer) names this host. */
function sameOrigin(request: FastifyRequest): boolean {
  const origin = request.headers.origin ?? request.headers.referer;
  if (!origin) return true;
  try {
    return new URL(origin).host === request.headers.host;
  } catch {
    return false;
  }
}

function send(reply: FastifyReply, status: number, page: Html): void {
  void reply.status(status).headers(SECURITY_HEADERS).header('cache-control', 'no-store').type('text/html; charset=utf-8').send(page.text);
}

function redirect(reply: FastifyReply, to: string): void {
  void reply.status(303).headers(SECURITY_HEADERS).header('cache-control', 'no-store').header('location', to).send();
}
