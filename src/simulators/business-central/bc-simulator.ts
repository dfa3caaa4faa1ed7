import { randomUUID } from 'node:crypto';
import Fastify, { type FastifyError, type FastifyInstance, type FastifyPluginAsync, type FastifyReply, type FastifyRequest } from 'fastify';

/**
 * A Dynamics 365 Business Central API v2.0 look-alike for the demo, the tests and the benchmarks: the OAuth2
 * token endpoint, customers, items and salesOrders (with lines, deep insert, `$filter`, DELETE), behaving like
 * the real service where it matters to an integration: latency, 429 with Retry-After past a rate limit,
 * 5 requests processed at once, 503 in maintenance, OData validation errors, tokens that expire.
 * A control API under `/_control` lets tests change all of that and read what was created. It runs on its own
 * (`listen`, `npm run sim:bc`) or mounted in another Fastify instance under a prefix (`plugin`, the demo).
 */
export interface BusinessCentralSimulatorOptions {
  latencyMs?: [number, number];
  /** Requests per second before 429 (the real limit is 6,000 per 5 minutes per user). */
  ratePerSecond?: number;
  /** Requests processed at once before 429 (the real service: 5). */
  concurrency?: number;
  tokenLifetimeSeconds?: number;
  clientId?: string;
  clientSecret?: string;
  /** Requests kept in `state.requests`, the oldest dropped first (all of them unless set). */
  keepRequests?: number;
}

export interface SimCustomer {
  id: string;
  number: string;
  displayName: string;
  blocked: ' ' | 'Ship' | 'Invoice' | 'All';
  creditLimit: number;
  balanceDue: number;
}

export interface SimItem {
  id: string;
  number: string;
  displayName: string;
  unitPrice: number;
}

export interface SimSalesOrderLine {
  id: string;
  documentId: string;
  sequence: number;
  lineType: 'Item';
  lineObjectNumber: string;
  description: string;
  quantity: number;
  unitPrice: number;
  locationId?: string;
}

export interface SimSalesOrder {
  id: string;
  number: string;
  externalDocumentNumber: string;
  orderDate: string;
  customerNumber: string;
  customerId: string;
  status: 'Draft' | 'Open';
  /** BC's fullyShipped: a shipped order can no longer be deleted. */
  fullyShipped: boolean;
  totalAmountExcludingTax: number;
  lastModifiedDateTime: string;
  etag: string;
  salesOrderLines: SimSalesOrderLine[];
}

interface State {
  customers: Map<string, SimCustomer>;
  items: Map<string, SimItem>;
  orders: Map<string, SimSalesOrder>;
  tokens: Map<string, number>;
  maintenance: boolean;
  nextOrderNumber: number;
  /** Every request, for tests that count the rate at the ERP. */
  requests: Array<{ at: number; method: string; path: string; status: number; body?: unknown }>;
  inFlight: number;
  windowStart: number;
  windowCount: number;
  /** The next this-many requests are answered 429. */
  throttleNext: number;
}

const ODATA = 'application/json; odata.metadata=minimal';

export function defaultSimulatorData() {
  const customers: SimCustomer[] = [
    { id: randomUUID(), number: '10000', displayName: 'Adatum Corporation', blocked: ' ', creditLimit: 100_000, balanceDue: 1_200 },
    { id: randomUUID(), number: '20000', displayName: 'Trey Research', blocked: ' ', creditLimit: 5_000, balanceDue: 4_900 },
    { id: randomUUID(), number: '30000', displayName: 'School of Fine Art', blocked: 'All', creditLimit: 0, balanceDue: 0 },
    { id: randomUUID(), number: '40000', displayName: 'Alpine Ski House', blocked: ' ', creditLimit: 0, balanceDue: 0 },
  ];
  const items: SimItem[] = ['1896-S', '1900-S', '1906-S', '1908-S', '1920-S', '1928-S', '1936-S', '1953-W', '1964-W', '1968-S'].map((number, i) => ({
    id: randomUUID(),
    number,
    displayName: `Item ${number}`,
    unitPrice: 100 + i * 25,
  }));
  return { customers, items };
}

export function createBusinessCentralSimulator(options: BusinessCentralSimulatorOptions = {}) {
  const settings = {
    latencyMs: options.latencyMs ?? [0, 0],
    ratePerSecond: options.ratePerSecond ?? 20,
    concurrency: options.concurrency ?? 5,
    tokenLifetimeSeconds: options.tokenLifetimeSeconds ?? 3599,
    clientId: options.clientId,
    clientSecret: options.clientSecret,
    keepRequests: options.keepRequests ?? Number.POSITIVE_INFINITY,
  };
  const data = defaultSimulatorData();
  const state: State = {
    customers: new Map(data.customers.map((c) => [c.number, c])),
    items: new Map(data.items.map((i) => [i.number, i])),
    orders: new Map(),
    tokens: new Map(),
    maintenance: false,
    nextOrderNumber: 101001,
    requests: [],
    inFlight: 0,
    windowStart: Date.now(),
    windowCount: 0,
    throttleNext: 0,
  };

  /** The simulator's routes, for any Fastify instance: at its root (`listen`), or under a prefix of a host's. */
  const plugin: FastifyPluginAsync = async (instance) => {
    // Its own parsers and errors, so that it answers alike whatever the host has set up.
    instance.removeAllContentTypeParsers();
    instance.addContentTypeParser('application/json', { parseAs: 'string' }, (_req, body, done) => {
      try {
        done(null, body === '' ? undefined : JSON.parse(body as string));
      } catch {
        done(Object.assign(new Error('The request body is not valid JSON.'), { statusCode: 400 }), undefined);
      }
    });
    instance.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_req, body, done) => done(null, Object.fromEntries(new URLSearchParams(body as string))));
    instance.setErrorHandler((error: FastifyError, _request, reply) => {
      const status = error.statusCode ?? 500;
      return reply.status(status).headers({ 'content-type': ODATA }).send(JSON.stringify(odataError(status >= 500 ? 'Internal_ServerError' : 'BadRequest', error.message)));
    });

    instance.post('/oauth2/v2.0/token', async (request, reply) => {
      const form = (request.body ?? {}) as Record<string, string>;
      if (form.grant_type !== 'client_credentials' || !form.client_id || !form.client_secret) {
        return reply.status(400).send({ error: 'invalid_request', error_description: 'AADSTS900144: The request body must contain grant_type, client_id and client_secret.' });
      }
      if ((settings.clientId && form.client_id !== settings.clientId) || (settings.clientSecret && form.client_secret !== settings.clientSecret)) {
        return reply.status(401).send({ error: 'invalid_client', error_description: 'AADSTS7000215: Invalid client secret provided.' });
      }
      const token = randomUUID();
      state.tokens.set(token, Date.now() + settings.tokenLifetimeSeconds * 1000);
      return { token_type: 'Bearer', expires_in: settings.tokenLifetimeSeconds, ext_expires_in: settings.tokenLifetimeSeconds, access_token: token };
    });

    // Control API for tests and the demo: not part of Business Central.
    instance.get('/_control/state', async () => ({ maintenance: state.maintenance, orders: [...state.orders.values()], requests: state.requests.length }));
    instance.get('/_control/requests', async () => state.requests);
    instance.post('/_control/maintenance', async (request) => {
      state.maintenance = Boolean((request.body as { on?: boolean } | undefined)?.on);
      return { maintenance: state.maintenance };
    });
    instance.post('/_control/throttle', async (request) => {
      state.throttleNext = Number((request.body as { next?: number } | undefined)?.next ?? 1);
      return { throttleNext: state.throttleNext };
    });
    instance.post('/_control/expire-tokens', async () => {
      state.tokens.clear();
      return { expired: true };
    });
    instance.put('/_control/items/:number', async (request) => {
      const number = (request.params as { number: string }).number;
      const item = { id: state.items.get(number)?.id ?? randomUUID(), number, displayName: number, unitPrice: 0, ...state.items.get(number), ...(request.body as Partial<SimItem>) };
      state.items.set(number, item);
      return item;
    });
    instance.post('/_control/orders/:id/ship', async (request, reply) => {
      const order = state.orders.get((request.params as { id: string }).id);
      if (!order) return reply.status(404).send({ error: 'no such order' });
      order.fullyShipped = true;
      touch(order);
      return order;
    });
    instance.put('/_control/customers/:number', async (request) => {
      const number = (request.params as { number: string }).number;
      const body = request.body as Partial<SimCustomer>;
      const customer = { id: state.customers.get(number)?.id ?? randomUUID(), number, displayName: number, blocked: ' ' as const, creditLimit: 0, balanceDue: 0, ...state.customers.get(number), ...body };
      state.customers.set(number, customer);
      return customer;
    });

    instance.all('/*', async (request, reply) => {
      const started = Date.now();
      const path = request.url.slice(instance.prefix.length).split('?')[0]!;
      const answer = (status: number, body?: unknown, headers: Record<string, string> = {}) => {
        state.requests.push({ at: started, method: request.method, path, status, ...(request.method === 'POST' ? { body: request.body } : {}) });
        if (state.requests.length > settings.keepRequests) state.requests.splice(0, state.requests.length - settings.keepRequests);
        void reply.status(status).headers({ 'content-type': ODATA, ...headers });
        return body === undefined ? reply.send() : reply.send(JSON.stringify(body));
      };
      const limited = admit(state, settings);
      if (limited) return answer(429, odataError('Application_TooManyRequests', limited), { 'retry-after': '1' });
      state.inFlight++;
      try {
        const [min, max] = settings.latencyMs;
        if (max > 0) await sleep(min + Math.random() * (max - min));
        if (state.maintenance) return answer(503, odataError('Application_ServiceUnavailable', 'The service is under maintenance. Try again later.'), { 'retry-after': '5' });
        const auth = request.headers.authorization?.replace(/^Bearer /, '');
        const expiresAt = auth ? state.tokens.get(auth) : undefined;
        if (!expiresAt || expiresAt < Date.now()) return answer(401, odataError('Authentication_InvalidCredentials', 'The credentials provided are incorrect'));
        return route(state, request, path, answer);
      } finally {
        state.inFlight--;
      }
    });
  };

  let server: FastifyInstance | undefined;
  return {
    plugin,
    state,
    settings,
    /** Serves the simulator on its own. */
    async listen(port = 0, host = '127.0.0.1'): Promise<string> {
      server = Fastify({ logger: false });
      await server.register(plugin);
      await server.listen({ port, host });
      const address = server.server.address() as { port: number };
      return `http://${host}:${address.port}`;
    },
    close: async () => {
      await server?.close();
    },
  };
}

export type BusinessCentralSimulator = ReturnType<typeof createBusinessCentralSimulator>;

type Answer = (status: number, body?: unknown, headers?: Record<string, string>) => FastifyReply;

const COMPANY_PATH = /^\/v2\.0\/[^/]+\/[^/]+\/api\/v2\.0\/companies\(([^)]+)\)\/(\w+)(?:\(([^)]+)\))?(?:\/(\w+))?$/;

function route(state: State, request: FastifyRequest, path: string, answer: Answer): FastifyReply {
  const match = COMPANY_PATH.exec(decodeURIComponent(path));
  if (!match) return answer(404, odataError('BadRequest_ResourceNotFound', `Resource not found for the segment '${path}'.`));
  const [, , entity, key, navigation] = match;
  const query = new URLSearchParams(request.url.split('?')[1] ?? '');
  if (entity === 'customers' && request.method === 'GET' && !key) {
    return answer(200, { value: [...state.customers.values()].map(customerView) });
  }
  if (entity === 'customers' && request.method === 'GET' && key && navigation === 'customerFinancialDetails') {
    const customer = [...state.customers.values()].find((c) => c.id === key);
    if (!customer) return answer(404, odataError('Internal_RecordNotFound', 'The Customer does not exist.'));
    return answer(200, { value: [{ id: customer.id, number: customer.number, balance: customer.balanceDue, totalSalesExcludingTax: 0, overdueAmount: 0 }] });
  }
  if (entity === 'items' && request.method === 'GET' && !key) return answer(200, { value: [...state.items.values()] });
  if (entity === 'salesOrders') {
    if (request.method === 'GET' && !key) {
      const filter = parseFilter(query.get('$filter'));
      let orders = [...state.orders.values()];
      if (filter) orders = orders.filter((o) => String(o[filter.field as keyof SimSalesOrder]) === filter.value);
      const expand = query.get('$expand') === 'salesOrderLines';
      return answer(200, { value: orders.map((o) => orderView(o, expand)) });
    }
    if (request.method === 'GET' && key) {
      const order = state.orders.get(key);
      return order ? answer(200, orderView(order, query.get('$expand') === 'salesOrderLines')) : answer(404, odataError('Internal_RecordNotFound', 'The Sales Header does not exist.'));
    }
    if (request.method === 'POST' && !key) return createOrder(state, request.body as Record<string, unknown>, answer);
    if (request.method === 'DELETE' && key) {
      const order = state.orders.get(key);
      if (!order) return answer(404, odataError('Internal_RecordNotFound', 'The Sales Header does not exist.'));
      const ifMatch = request.headers['if-match'];
      if (ifMatch && ifMatch !== '*' && ifMatch !== order.etag) return answer(412, odataError('Request_EntityChanged', 'Could not delete, the record was changed by another user.'));
      if (order.fullyShipped) return answer(400, odataError('Application_DialogException', `Order ${order.number} cannot be deleted because it has been shipped.`));
      state.orders.delete(key);
      return answer(204);
    }
    if (request.method === 'POST' && key && navigation === 'salesOrderLines') {
      const order = state.orders.get(key);
      if (!order) return answer(404, odataError('Internal_RecordNotFound', 'The Sales Header does not exist.'));
      const line = toLine(state, order, request.body as Record<string, unknown>, order.salesOrderLines.length);
      if (typeof line === 'string') return answer(400, odataError('Internal_RecordNotFound', line));
      order.salesOrderLines.push(line);
      touch(order);
      return answer(201, line);
    }
  }
  return answer(405, odataError('BadRequest_MethodNotAllowed', `'${request.method}' requests for '${entity}' are not allowed.`));
}

function createOrder(state: State, body: Record<string, unknown>, answer: Answer): FastifyReply {
  const customerNumber = String(body.customerNumber ?? '');
  const customer = state.customers.get(customerNumber);
  if (!customer) return answer(400, odataError('Internal_RecordNotFound', `The Customer does not exist. Identification fields and values: No.='${customerNumber}'`));
  if (customer.blocked === 'All' || customer.blocked === 'Ship') {
    return answer(400, odataError('Internal_ValidationError', `You cannot create this type of document when Customer ${customerNumber} is blocked with type ${customer.blocked}`));
  }
  const id = randomUUID();
  const order: SimSalesOrder = {
    id,
    number: `S-ORD${state.nextOrderNumber++}`,
    externalDocumentNumber: String(body.externalDocumentNumber ?? ''),
    orderDate: String(body.orderDate ?? new Date().toISOString().slice(0, 10)),
    customerNumber,
    customerId: customer.id,
    status: 'Draft',
    fullyShipped: false,
    totalAmountExcludingTax: 0,
    lastModifiedDateTime: new Date().toISOString(),
    etag: '',
    salesOrderLines: [],
  };
  const lines = Array.isArray(body.salesOrderLines) ? (body.salesOrderLines as Array<Record<string, unknown>>) : [];
  for (const [i, raw] of lines.entries()) {
    const line = toLine(state, order, raw, i);
    if (typeof line === 'string') return answer(400, odataError('Internal_RecordNotFound', line));
    order.salesOrderLines.push(line);
  }
  touch(order);
  state.orders.set(id, order);
  return answer(201, orderView(order, lines.length > 0), { etag: order.etag, location: `salesOrders(${id})` });
}

function toLine(state: State, order: SimSalesOrder, raw: Record<string, unknown>, index: number): SimSalesOrderLine | string {
  const number = String(raw.lineObjectNumber ?? '');
  const item = state.items.get(number);
  if (raw.lineType !== 'Item' || !item) return `The Item does not exist. Identification fields and values: No.='${number}'`;
  const quantity = Number(raw.quantity);
  if (!(quantity > 0)) return `Quantity must be positive in Sales Line Document Type='Order',Document No.='${order.number}',Line No.='${(index + 1) * 10000}'`;
  return {
    id: randomUUID(),
    documentId: order.id,
    sequence: (index + 1) * 10000,
    lineType: 'Item',
    lineObjectNumber: number,
    description: item.displayName,
    quantity,
    unitPrice: raw.unitPrice === undefined ? item.unitPrice : Number(raw.unitPrice),
    ...(raw.locationId ? { locationId: String(raw.locationId) } : {}),
  };
}

function touch(order: SimSalesOrder): void {
  order.totalAmountExcludingTax = Math.round(order.salesOrderLines.reduce((sum, l) => sum + l.quantity * l.unitPrice, 0) * 100) / 100;
  order.lastModifiedDateTime = new Date().toISOString();
  order.etag = `W/"JzQ0OzE${Math.random().toString(36).slice(2, 12)}Ow=="`;
}

function orderView(order: SimSalesOrder, withLines: boolean) {
  const { etag, salesOrderLines, ...rest } = order;
  return { '@odata.etag': etag, ...rest, ...(withLines ? { salesOrderLines } : {}) };
}

function customerView(customer: SimCustomer) {
  const { balanceDue: _b, ...rest } = customer;
  return rest;
}

/** `number eq 'X'` or `externalDocumentNumber eq 'X'`: the filters an integration needs. */
function parseFilter(filter: string | null): { field: string; value: string } | undefined {
  if (!filter) return undefined;
  const match = /^(\w+) eq '((?:[^']|'')*)'$/.exec(filter.trim());
  return match ? { field: match[1]!, value: match[2]!.replaceAll("''", "'") } : undefined;
}

function admit(state: State, settings: { ratePerSecond: number; concurrency: number }): string | undefined {
  if (state.throttleNext > 0) {
    state.throttleNext--;
    return 'Too many requests were made to the service. Try again later.';
  }
  const now = Date.now();
  if (now - state.windowStart >= 1000) {
    state.windowStart = now;
    state.windowCount = 0;
  }
  if (state.windowCount >= settings.ratePerSecond) return 'Too many requests were made to the service. Try again later.';
  if (state.inFlight >= settings.concurrency) return 'Too many concurrent requests. Maximum 5 are processed at once.';
  state.windowCount++;
  return undefined;
}

function odataError(code: string, message: string) {
  return { error: { code, message: `${message}  CorrelationId:  ${randomUUID()}.` } };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
