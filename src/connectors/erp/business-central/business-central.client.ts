import { classifyHttpStatus, excerpt, TargetError } from '../../../platform/delivery/outcome.js';
import type { BusinessCentralConfig } from './business-central.config.js';

const SCOPE = 'https://api.businesscentral.dynamics.com/.default';
// A token is renewed this long before it expires, so that no call starts with one about to lapse.
const TOKEN_MARGIN_MS = 60_000;

export interface SalesOrderLineInput {
  lineObjectNumber: string;
  quantity: number;
  unitPrice: number;
  locationId?: string;
}

export interface SalesOrderInput {
  /** Crossdock's order reference: how a retry finds an order it already created. */
  externalDocumentNumber: string;
  customerNumber: string;
  orderDate?: string;
  lines: SalesOrderLineInput[];
}

export interface BcSalesOrder {
  id: string;
  number: string;
  externalDocumentNumber: string;
  customerNumber: string;
  status: string;
  '@odata.etag'?: string;
}

export interface BcCustomer {
  id: string;
  number: string;
  displayName: string;
  blocked: string;
  creditLimit: number;
}

/**
 * Business Central API v2.0, as a service-to-service client: OAuth2 client credentials with the token cached
 * until shortly before it expires and renewed once on a 401; every answer other than 2xx becomes a
 * TargetError classified for delivery (400 with BC's message: permanent; 401 after renewal, 408, 429, 5xx:
 * retryable or throttled).
 */
export class BusinessCentralClient {
  private token?: { value: string; expiresAt: number };
  private readonly baseUrl: string;
  private readonly tokenUrl: string;

  constructor(
    private readonly config: BusinessCentralConfig,
    private readonly now: () => number = Date.now,
  ) {
    this.baseUrl = (config.baseUrl ?? `https://api.businesscentral.dynamics.com/v2.0/${config.tenantId}/${config.environment}/api/v2.0`).replace(/\/$/, '');
    this.tokenUrl = config.tokenUrl ?? `https://login.microsoftonline.com/${config.tenantId}/oauth2/v2.0/token`;
  }

  /** The order whose externalDocumentNumber is `reference`, if Business Central has one. */
  async findSalesOrder(reference: string, signal?: AbortSignal): Promise<BcSalesOrder | undefined> {
    const filter = encodeURIComponent(`externalDocumentNumber eq '${reference.replaceAll("'", "''")}'`);
    const found = await this.request<{ value: BcSalesOrder[] }>('GET', `/salesOrders?$filter=${filter}`, undefined, signal);
    return found.value[0];
  }

  /** Creates the order with its lines in one request (deep insert). */
  createSalesOrder(order: SalesOrderInput, signal?: AbortSignal): Promise<BcSalesOrder> {
    return this.request<BcSalesOrder>('POST', '/salesOrders', {
      externalDocumentNumber: order.externalDocumentNumber,
      customerNumber: order.customerNumber,
      ...(order.orderDate ? { orderDate: order.orderDate } : {}),
      salesOrderLines: order.lines.map((line) => ({
        lineType: 'Item',
        lineObjectNumber: line.lineObjectNumber,
        quantity: line.quantity,
        unitPrice: line.unitPrice,
        ...(line.locationId ? { locationId: line.locationId } : {}),
      })),
    }, signal);
  }

  /**
   * Creates the order unless one with the same reference exists: a crash between Business Central's create
   * and Crossdock's record of it, or a replay, finds the first order instead of making a second.
   */
  async ensureSalesOrder(order: SalesOrderInput, signal?: AbortSignal): Promise<{ order: BcSalesOrder; created: boolean }> {
    const existing = await this.findSalesOrder(order.externalDocumentNumber, signal);
    if (existing) return { order: existing, created: false };
    return { order: await this.createSalesOrder(order, signal), created: true };
  }

  async deleteSalesOrder(id: string, etag = '*', signal?: AbortSignal): Promise<void> {
    await this.request('DELETE', `/salesOrders(${id})`, undefined, signal, { 'if-match': etag });
  }

  listCustomers(signal?: AbortSignal): Promise<{ value: BcCustomer[] }> {
    return this.request('GET', '/customers', undefined, signal);
  }

  async balanceDue(customerId: string, signal?: AbortSignal): Promise<number | undefined> {
    const details = await this.request<{ value: Array<{ balance: number }> }>('GET', `/customers(${customerId})/customerFinancialDetails`, undefined, signal);
    return details.value[0]?.balance;
  }

  private async request<T>(method: string, path: string, body?: unknown, signal?: AbortSignal, headers: Record<string, string> = {}): Promise<T> {
    for (let renewed = false; ; renewed = true) {
      const token = await this.accessToken(renewed, signal);
      const response = await fetch(`${this.baseUrl}/companies(${this.config.companyId})${path}`, {
        method,
        headers: { authorization: `Bearer ${token}`, accept: 'application/json', ...(body ? { 'content-type': 'application/json' } : {}), ...headers },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal,
      });
      const text = await response.text();
      if (response.status === 401 && !renewed) continue;
      const failure = classifyHttpStatus(response.status, text, response.headers.get('retry-after'));
      if (failure) {
        // A 401 even with a fresh token is not the message's fault: the credentials or the service are.
        const failureClass = response.status === 401 ? 'retryable' : failure.class;
        throw new TargetError(failureClass, `Business Central answered ${response.status}: ${odataMessage(text) ?? failure.message}`, {
          status: response.status,
          bodyExcerpt: excerpt(text),
          retryAfterMs: failure.retryAfterMs,
        });
      }
      return (text ? JSON.parse(text) : undefined) as T;
    }
  }

  private async accessToken(renew: boolean, signal?: AbortSignal): Promise<string> {
    if (!renew && this.token && this.token.expiresAt - TOKEN_MARGIN_MS > this.now()) return this.token.value;
    const response = await fetch(this.tokenUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'client_credentials', client_id: this.config.clientId, client_secret: this.config.clientSecret, scope: SCOPE }),
      signal,
    });
    const text = await response.text();
    if (!response.ok) {
      const failure = classifyHttpStatus(response.status, text, response.headers.get('retry-after'));
      // Wrong credentials are a configuration problem that every message would hit: wait for a fix, do not dead-letter.
      throw new TargetError(failure?.class === 'throttled' ? 'throttled' : 'retryable', `token endpoint answered ${response.status}`, { status: response.status, bodyExcerpt: excerpt(text) });
    }
    const body = JSON.parse(text) as { access_token: string; expires_in: number };
    this.token = { value: body.access_token, expiresAt: this.now() + body.expires_in * 1000 };
    return this.token.value;
  }
}

/** The message of an OData error body, `{"error": {"code", "message"}}`. */
export function odataMessage(text: string): string | undefined {
  try {
    const message = (JSON.parse(text) as { error?: { message?: unknown } }).error?.message;
    return typeof message === 'string' ? message.replace(/\s+CorrelationId:.*$/s, '').trim() : undefined;
  } catch {
    return undefined;
  }
}
