import { TargetError } from '../../../platform/delivery/outcome.js';
import type { ErpChangeNotice, ErpChangeNotifications, ErpChangeSubscription, GovernedCall } from '../erp-contract.js';
import type { BcSubscription, BusinessCentralClient } from './business-central.client.js';

const CHANGE_TYPES: ReadonlySet<string> = new Set<ErpChangeNotice['changeType']>(['created', 'updated', 'deleted', 'collection']);
const NOTICE_TEXTS = ['subscriptionId', 'resource', 'lastModifiedDateTime'] as const;
// A record a notification names: a customer of a company, with or without the leading slash; the customer's id a GUID.
const CUSTOMER_RESOURCE = /^\/?api\/v2\.0\/companies\(([^)/]+)\)\/customers\(([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\)$/i;

/**
 * Business Central's webhooks (API v2.0's `subscriptions`, at the API's root) in Crossdock's words: a subscription
 * to the company's customers, renewed before its three days run out, ended; a notification's body read. Business
 * Central makes its handshake with the notification URL inside the create and the renewal, and answers 400 when
 * the URL did not pass it.
 */
export class BusinessCentralChangeNotifications implements ErpChangeNotifications {
  constructor(
    private readonly client: BusinessCentralClient,
    private readonly companyId: string,
  ) {}

  async subscribe(call: GovernedCall, request: { entity: 'customers'; notificationUrl: string; clientState: string }): Promise<ErpChangeSubscription> {
    const { notificationUrl, clientState } = request;
    const resource = `/api/v2.0/companies(${this.companyId})/${request.entity}`;
    return changeSubscription(await call((signal) => this.client.createSubscription({ notificationUrl, resource, clientState }, signal)));
  }

  async renew(call: GovernedCall, subscription: ErpChangeSubscription): Promise<ErpChangeSubscription | null> {
    const { notificationUrl, resource, clientState } = subscription;
    const renewed = await this.withCurrentEtag(call, subscription, (etag, signal) => this.client.renewSubscription(subscription.id, etag, { notificationUrl, resource, clientState }, signal));
    return renewed ? changeSubscription(renewed) : null;
  }

  async unsubscribe(call: GovernedCall, subscription: ErpChangeSubscription): Promise<void> {
    await this.withCurrentEtag(call, subscription, (etag, signal) => this.client.deleteSubscription(subscription.id, etag, signal));
  }

  parse(body: unknown): ErpChangeNotice[] | string {
    return bcChangeNotices(body);
  }

  /**
   * `write` with the subscription's etag; on a 412 (another instance renewed it since this one read it), once
   * more with the etag Business Central has now. Undefined when Business Central no longer has the subscription.
   */
  private async withCurrentEtag<T>(call: GovernedCall, subscription: ErpChangeSubscription, write: (etag: string, signal: AbortSignal) => Promise<T | undefined>): Promise<T | undefined> {
    try {
      return await call((signal) => write(subscription.etag, signal));
    } catch (error) {
      if (!(error instanceof TargetError && error.details.status === 412)) throw error;
      const current = await call((signal) => this.client.findSubscription(subscription.id, signal));
      return current && call((signal) => write(current['@odata.etag'], signal));
    }
  }
}

/**
 * The notifications of a webhook's body, `{"value": [...]}`, each with its subscription, clientState, resource,
 * changeType (created, updated, deleted, or collection past 1000 records) and time; a string saying what is
 * wrong when the body is not that.
 */
export function bcChangeNotices(body: unknown): ErpChangeNotice[] | string {
  const value = isObject(body) ? body.value : undefined;
  if (!Array.isArray(value)) return 'the body is not a batch of Business Central notifications: expected {"value": [...]}';
  const notices: ErpChangeNotice[] = [];
  for (const [at, notice] of value.entries()) {
    if (!isObject(notice)) return `notification ${at} is not an object`;
    const missing = NOTICE_TEXTS.find((field) => typeof notice[field] !== 'string' || notice[field] === '');
    if (missing) return `notification ${at} has no ${missing}`;
    if (typeof notice.clientState !== 'string') return `notification ${at} has no clientState`;
    if (typeof notice.changeType !== 'string' || !CHANGE_TYPES.has(notice.changeType)) {
      return `notification ${at} has changeType ${JSON.stringify(notice.changeType)}, not one of ${[...CHANGE_TYPES].join(', ')}`;
    }
    if (Number.isNaN(Date.parse(notice.lastModifiedDateTime as string))) return `notification ${at} has a lastModifiedDateTime that is not a time: ${JSON.stringify(notice.lastModifiedDateTime)}`;
    // A record's resource ends with its key (`.../customers(<id>)`): what a deletion is known by.
    const recordId = notice.changeType === 'collection' ? undefined : /\(([^()]+)\)$/.exec(notice.resource as string)?.[1];
    notices.push({
      subscriptionId: notice.subscriptionId as string, clientState: notice.clientState, resource: notice.resource as string,
      changeType: notice.changeType as ErpChangeNotice['changeType'], lastModifiedDateTime: notice.lastModifiedDateTime as string,
      ...(recordId ? { recordId } : {}),
    });
  }
  return notices;
}

/** The id of the customer a notification's resource names, when it is one of the company `companyId`'s customers. */
export function bcCustomerIdIn(resource: string, companyId: string): string | undefined {
  const match = CUSTOMER_RESOURCE.exec(resource);
  return match && match[1]!.toLowerCase() === companyId.toLowerCase() ? match[2] : undefined;
}

/** Business Central's subscription in the contract's words; its clientState as Business Central keeps it, which is what notifications carry. */
function changeSubscription(subscription: BcSubscription): ErpChangeSubscription {
  return {
    id: subscription.subscriptionId, resource: subscription.resource, notificationUrl: subscription.notificationUrl, clientState: subscription.clientState ?? '',
    expiresAt: new Date(Date.parse(subscription.expirationDateTime)).toISOString(), etag: subscription['@odata.etag'],
  };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}
