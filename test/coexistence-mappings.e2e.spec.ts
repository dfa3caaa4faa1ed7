import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sampleErpBackend, startTestApp, type TestApp } from './support/test-app.js';

// Nothing listens there: the backends are configured, never called.
const NOWHERE = 'http://127.0.0.1:9';
const sap = (config: Record<string, unknown> = {}) => sampleErpBackend({
  kind: 'sap-b1', role: 'legacy',
  config: {
    baseUrl: `${NOWHERE}/b1s/v1`, companyDb: 'SBODEMOUS', username: 'manager', password: 'sap-password', currencies: { $: 'USD', EUR: 'EUR' },
    warehouseCodes: { 'WH-EAST': '01', 'WH-WEST': '02' }, ...config,
  },
});
const bc = (config: Record<string, unknown> = {}) => sampleErpBackend({
  config: {
    ...sampleErpBackend().config, baseUrl: `${NOWHERE}/api/v2.0`, tokenUrl: `${NOWHERE}/token`, locationCodes: { 'WH-EAST': 'EAST', 'WH-WEST': 'WEST' }, currency: 'EUR', ...config,
  },
});
const VALUE_MAPS = '/v1/admin/coexistence/value-maps';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(() => t.close());

describe('GET /v1/coexistence/mappings', () => {
  it('answers the tables alone while there is no pair of backends', async () => {
    const answer = await t.request('GET', '/v1/coexistence/mappings');
    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({ systems: { legacy: 'SAP Business One Service Layer', cloud: 'Business Central API v2.0' }, pair: null });
    expect(answer.body.valueMaps).toBeUndefined();
    expect(Object.keys(answer.body.entities)).toEqual(['order', 'orderLine', 'customer', 'stockLevel', 'shipmentLine', 'price']);
    expect(answer.body.entities.customer.rows.find((r: { canonical: string }) => r.canonical === 'billingAddress.region')).toEqual({
      canonical: 'billingAddress.region',
      lossless: false,
      legacy: { path: 'BPAddresses[bo_BillTo].State', holding: { maxLength: 3 }, lossy: expect.stringContaining('at most 3 characters') },
      cloud: { path: 'state', holding: { maxLength: 30 }, lossy: 'County is a Text[30]' },
    });
    expect(answer.body.entities.order.rows[0]).toEqual({ canonical: 'externalDocumentNumber', lossless: true, legacy: { path: 'NumAtCard' }, cloud: { path: 'externalDocumentNumber' } });
  });

  it('is for the admin only', async () => {
    expect((await t.request('GET', '/v1/coexistence/mappings', { token: null })).status).toBe(401);
    expect((await t.request('GET', '/v1/coexistence/mappings', { token: 'cdk_not_a_key' })).status).toBe(401);
  });

  it('answers, for the first legacy and the first cloud backend, the value maps their configuration implies', async () => {
    expect((await t.request('PUT', '/v1/admin/erp-backends/sap', { body: sap() })).status).toBe(201);
    expect((await t.request('PUT', '/v1/admin/erp-backends/bc-a', { body: bc() })).status).toBe(201);
    expect((await t.request('PUT', '/v1/admin/erp-backends/bc-b', { body: bc({ locationCodes: { 'WH-EAST': 'MAIN' }, currency: 'USD' }) })).status).toBe(201);
    const answer = await t.request('GET', '/v1/coexistence/mappings');
    expect(answer.status).toBe(200);
    expect(answer.body.pair).toEqual({ legacy: 'sap', cloud: 'bc-a', localCurrency: 'EUR' });
    expect(answer.body.valueMaps).toEqual([
      { kind: 'currency', legacy: '$', cloud: 'USD', canonical: 'USD', source: 'config' },
      { kind: 'currency', legacy: 'EUR', cloud: '', canonical: 'EUR', source: 'config' },
      { kind: 'blocked', legacy: 'tNO', cloud: ' ', canonical: '', source: 'built-in' },
      { kind: 'blocked', legacy: 'tYES', cloud: 'All', canonical: 'All', source: 'built-in' },
      { kind: 'warehouse', legacy: '01', cloud: 'EAST', canonical: 'WH-EAST', source: 'config' },
      { kind: 'warehouse', legacy: '02', cloud: 'WEST', canonical: 'WH-WEST', source: 'config' },
    ]);
  });

  it('answers the pair asked for; refuses a backend that is not there (404) or not a legacy SAP and a cloud Business Central (400)', async () => {
    const other = await t.request('GET', '/v1/coexistence/mappings?legacy=sap&cloud=bc-b');
    expect(other.body.pair).toEqual({ legacy: 'sap', cloud: 'bc-b', localCurrency: 'USD' });
    expect(other.body.valueMaps.filter((m: { kind: string }) => m.kind !== 'blocked')).toEqual([
      { kind: 'currency', legacy: '$', cloud: '', canonical: 'USD', source: 'config' },
      { kind: 'currency', legacy: 'EUR', cloud: 'EUR', canonical: 'EUR', source: 'config' },
      { kind: 'warehouse', legacy: '01', cloud: 'MAIN', canonical: 'WH-EAST', source: 'config' },
    ]);
    expect((await t.request('GET', '/v1/coexistence/mappings?cloud=bc-b')).body.pair).toMatchObject({ legacy: 'sap', cloud: 'bc-b' });
    const wrongRole = await t.request('GET', '/v1/coexistence/mappings?legacy=bc-a&cloud=sap');
    expect(wrongRole.status).toBe(400);
    expect(wrongRole.body.errors).toEqual([
      { field: 'legacy', message: 'the legacy backend must be a legacy sap-b1 backend; "bc-a" is a cloud business-central backend' },
      { field: 'cloud', message: 'the cloud backend must be a cloud business-central backend; "sap" is a legacy sap-b1 backend' },
    ]);
    expect((await t.request('GET', '/v1/coexistence/mappings?legacy=ghost')).status).toBe(404);
    expect((await t.request('GET', '/v1/coexistence/mappings?legacy=not%20an%20id')).body.errors).toEqual([{ field: 'legacy', message: 'legacy must be an ERP backend id' }]);
    expect((await t.request('GET', '/v1/coexistence/mappings?pair=sap')).status).toBe(400);
  });
});

describe('value maps of a pair', () => {
  const overrides = [
    { kind: 'currency', legacy: 'US$', cloud: 'USD' },
    { kind: 'blocked', legacy: 'tYES', cloud: 'Ship' },
    { kind: 'customer', legacy: 'c-100', cloud: 'C100' },
    { kind: 'item', legacy: 'widget-blue', cloud: 'WIDGET-BLUE' },
  ];

  it('GET answers no overrides and the defaults before any PUT', async () => {
    const answer = await t.request('GET', `${VALUE_MAPS}/sap/bc-a`);
    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({ legacyBackendId: 'sap', cloudBackendId: 'bc-a', localCurrency: 'EUR', maps: [] });
    expect(answer.body.inForce.every((m: { source: string }) => m.source !== 'override')).toBe(true);
  });

  it('PUT stores the overrides, audited, and they win over the defaults in the maps in force and in GET /v1/coexistence/mappings', async () => {
    const put = await t.request('PUT', `${VALUE_MAPS}/sap/bc-a`, { body: { maps: overrides }, headers: { 'x-actor': 'migration.lead' } });
    expect(put.status).toBe(200);
    expect(put.body.maps).toEqual(overrides);
    expect(put.body.inForce).toEqual([
      { kind: 'currency', legacy: 'EUR', cloud: '', canonical: 'EUR', source: 'config' },
      { kind: 'currency', legacy: 'US$', cloud: 'USD', canonical: 'USD', source: 'override' },
      { kind: 'blocked', legacy: 'tNO', cloud: ' ', canonical: '', source: 'built-in' },
      { kind: 'blocked', legacy: 'tYES', cloud: 'Ship', canonical: 'Ship', source: 'override' },
      { kind: 'warehouse', legacy: '01', cloud: 'EAST', canonical: 'WH-EAST', source: 'config' },
      { kind: 'warehouse', legacy: '02', cloud: 'WEST', canonical: 'WH-WEST', source: 'config' },
      { kind: 'customer', legacy: 'c-100', cloud: 'C100', canonical: 'c-100', source: 'override' },
      { kind: 'item', legacy: 'widget-blue', cloud: 'WIDGET-BLUE', canonical: 'widget-blue', source: 'override' },
    ]);
    expect((await t.request('GET', `${VALUE_MAPS}/sap/bc-a`)).body).toEqual(put.body);
    expect((await t.request('GET', '/v1/coexistence/mappings')).body.valueMaps).toEqual(put.body.inForce);

    const audit = await t.request('GET', '/v1/admin/audit?resourceType=coexistence-value-maps&resourceId=sap/bc-a');
    expect(audit.body.items).toHaveLength(1);
    expect(audit.body.items[0]).toMatchObject({ actor: 'admin:migration.lead', action: 'create', before: null, after: put.body.maps });
  });

  it('PUT of the same overrides, in any order, changes and records nothing; a new set replaces the old, audited with both', async () => {
    expect((await t.request('PUT', `${VALUE_MAPS}/sap/bc-a`, { body: { maps: overrides.toReversed() } })).status).toBe(200);
    const audited = () => t.sql("select action, before, after from audit_entry where resource_type = 'coexistence-value-maps' and resource_id = 'sap/bc-a' order by id");
    expect(await audited()).toHaveLength(1);
    const replaced = await t.request('PUT', `${VALUE_MAPS}/sap/bc-a`, { body: { maps: [{ kind: 'blocked', legacy: 'tNO', cloud: '' }] } });
    expect(replaced.body.maps).toEqual([{ kind: 'blocked', legacy: 'tNO', cloud: ' ' }]);
    const [, update] = await audited();
    expect(update).toEqual({ action: 'update', before: overrides, after: [{ kind: 'blocked', legacy: 'tNO', cloud: ' ' }] });
    expect(await t.sql("select kind, legacy_value, cloud_value from coexistence_value_map where legacy_backend_id = 'sap' and cloud_backend_id = 'bc-a'"))
      .toEqual([{ kind: 'blocked', legacy_value: 'tNO', cloud_value: ' ' }]);
  });

  it('refuses a body that is not valid, naming each field, and stores nothing', async () => {
    const put = (body: unknown) => t.request('PUT', `${VALUE_MAPS}/sap/bc-b`, { body });
    const fields = async (body: unknown) => {
      const answer = await put(body);
      expect(answer.status).toBe(400);
      return answer.body.errors.map((e: { field: string }) => e.field);
    };
    expect(await fields({})).toEqual(expect.arrayContaining(['maps']));
    expect(await fields({ maps: [{ kind: 'price', legacy: 'a', cloud: 'b' }] })).toEqual(['maps[0].kind']);
    expect(await fields({ maps: [{ kind: 'currency', legacy: 'USD', cloud: 'USD', note: 'x' }] })).toEqual(['maps[0].note']);
    expect(await fields({ maps: [{ kind: 'currency', legacy: 'US Dollar', cloud: 'usd' }, { kind: 'warehouse', legacy: '01', cloud: 'east' }] }))
      .toEqual(['maps[0].legacy', 'maps[0].cloud', 'maps[1].cloud']);
    const duplicate = await put({ maps: [{ kind: 'customer', legacy: 'c-1', cloud: 'C1' }, { kind: 'customer', legacy: 'c-2', cloud: 'C1' }] });
    expect(duplicate.body.errors).toEqual([{ field: 'maps[1].cloud', message: 'maps[0] maps cloud customer "C1" already' }]);
    expect((await t.request('GET', `${VALUE_MAPS}/sap/bc-b`)).body.maps).toEqual([]);
  });

  it('refuses a pair that is not one: an unknown backend (404), or roles and kinds the other way round (400)', async () => {
    const body = { maps: [] };
    expect((await t.request('PUT', `${VALUE_MAPS}/sap/ghost`, { body })).status).toBe(404);
    expect((await t.request('GET', `${VALUE_MAPS}/ghost/bc-a`)).status).toBe(404);
    const reversed = await t.request('PUT', `${VALUE_MAPS}/bc-a/sap`, { body });
    expect(reversed.status).toBe(400);
    expect(reversed.body.errors.map((e: { field: string }) => e.field)).toEqual(['legacy', 'cloud']);
    expect((await t.request('PUT', `${VALUE_MAPS}/sap/bc-a`, { body, token: null })).status).toBe(401);
  });

  it('go with a backend that is deleted', async () => {
    expect((await t.request('PUT', `${VALUE_MAPS}/sap/bc-b`, { body: { maps: [{ kind: 'warehouse', legacy: '02', cloud: 'WEST' }] } })).status).toBe(200);
    expect((await t.request('DELETE', '/v1/admin/erp-backends/bc-b')).status).toBe(204);
    expect(await t.sql("select * from coexistence_value_map where cloud_backend_id = 'bc-b'")).toEqual([]);
  });
});
