import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { bcChangeNotices, bcCustomerIdIn } from './business-central.notifications.js';

// Reading Business Central's webhook bodies and the resources they name, pure, against Microsoft's documented batch.
const documentedBatch = JSON.parse(readFileSync(new URL('../../../../test/fixtures/business_central/bc_v2_webhook_notification_batch.json', import.meta.url), 'utf8'));
const COMPANY = 'b18aed47-c385-49d2-b954-dbdf8ad71780';
const CUSTOMER = '130bbd17-dbb9-4790-9b12-2b0e9c9d22c3';

describe('Business Central notifications: the body of a webhook', () => {
  it('reads the documented batch: each notice with its subscription, clientState, resource, change and time, a collection too', () => {
    const notices = bcChangeNotices(documentedBatch);
    // Each record's notice names its id (the key its resource ends with); the collection's names none.
    const ids = ['26814998-936a-401c-81c1-0e848a64971d', '130bbd17-dbb9-4790-9b12-2b0e9c9d22c3', '4b4f31f0-dc1c-4033-b2aa-ab03ca1d6ebc', undefined];
    expect(notices).toEqual(documentedBatch.value.map(({ expirationDateTime: _e, ...notice }: Record<string, unknown>, i: number) => (ids[i] ? { ...notice, recordId: ids[i] } : notice)));
    expect((notices as Array<{ changeType: string }>).map((n) => n.changeType)).toEqual(['updated', 'created', 'deleted', 'collection']);
    expect(bcChangeNotices({ value: [] })).toEqual([]);
  });

  it('says what is wrong with a body that is not a batch of notifications', () => {
    const notice = documentedBatch.value[1];
    const without = (field: string) => ({ value: [Object.fromEntries(Object.entries(notice).filter(([key]) => key !== field))] });
    expect(bcChangeNotices(undefined)).toBe('the body is not a batch of Business Central notifications: expected {"value": [...]}');
    expect(bcChangeNotices('{"value": []}')).toMatch(/^the body is not a batch/);
    expect(bcChangeNotices([notice])).toMatch(/^the body is not a batch/);
    expect(bcChangeNotices({ value: notice })).toMatch(/^the body is not a batch/);
    expect(bcChangeNotices({ value: [notice, null] })).toBe('notification 1 is not an object');
    expect(bcChangeNotices(without('subscriptionId'))).toBe('notification 0 has no subscriptionId');
    expect(bcChangeNotices(without('resource'))).toBe('notification 0 has no resource');
    expect(bcChangeNotices({ value: [{ ...notice, resource: '' }] })).toBe('notification 0 has no resource');
    expect(bcChangeNotices(without('clientState'))).toBe('notification 0 has no clientState');
    expect(bcChangeNotices(without('lastModifiedDateTime'))).toBe('notification 0 has no lastModifiedDateTime');
    expect(bcChangeNotices({ value: [{ ...notice, changeType: 'modified' }] })).toBe('notification 0 has changeType "modified", not one of created, updated, deleted, collection');
    expect(bcChangeNotices(without('changeType'))).toMatch(/^notification 0 has changeType undefined/);
    expect(bcChangeNotices({ value: [{ ...notice, lastModifiedDateTime: 'yesterday' }] })).toBe('notification 0 has a lastModifiedDateTime that is not a time: "yesterday"');
    // A blank clientState is a clientState (a subscription made without one).
    expect(bcChangeNotices({ value: [{ ...notice, clientState: '' }] })).toEqual([expect.objectContaining({ clientState: '' })]);
  });
});

describe('Business Central notifications: the customer a resource names', () => {
  it('takes a customer of the configured company, with or without the leading slash, the company in any case', () => {
    expect(bcCustomerIdIn(`api/v2.0/companies(${COMPANY})/customers(${CUSTOMER})`, COMPANY)).toBe(CUSTOMER);
    expect(bcCustomerIdIn(`/api/v2.0/companies(${COMPANY})/customers(${CUSTOMER})`, COMPANY)).toBe(CUSTOMER);
    expect(bcCustomerIdIn(`/api/v2.0/companies(${COMPANY.toUpperCase()})/customers(${CUSTOMER})`, COMPANY)).toBe(CUSTOMER);
  });

  it('refuses anything else: another company, another entity, a collection, an id that is not a GUID, a path that leaves the API', () => {
    const refused = [
      `api/v2.0/companies(7dbba574-5f69-4167-a43e-fb975045de15)/customers(${CUSTOMER})`,
      `api/v2.0/companies(${COMPANY})/items(${CUSTOMER})`,
      `/api/v2.0/companies(${COMPANY})/customers?$filter=lastModifiedDateTime%20gt%202018-10-15T11:00:00Z`,
      `api/v2.0/companies(${COMPANY})/customers(10000)`,
      `api/v2.0/companies(${COMPANY})/customers(${CUSTOMER})/../../../../salesOrders`,
      `api/v2.0/companies(${COMPANY})/customers(${CUSTOMER})?$expand=picture`,
      `https://evil.example/api/v2.0/companies(${COMPANY})/customers(${CUSTOMER})`,
      `api/v1.0/companies(${COMPANY})/customers(${CUSTOMER})`,
    ];
    for (const resource of refused) expect(bcCustomerIdIn(resource, COMPANY), resource).toBeUndefined();
  });
});
