import { describe, expect, it } from 'vitest';
import { validatePlain } from '../../../platform/http/field-errors.js';
import { SapB1Config } from './sap-b1.config.js';

const valid = { baseUrl: 'https://b1.example.com:50000/b1s/v1', companyDb: 'SBODEMOUS', username: 'manager', password: 'secret' };
const problems = (config: Record<string, unknown>) => validatePlain(SapB1Config, { ...valid, ...config }).errors.map((e) => `${e.field}: ${e.message}`);

describe('SapB1Config', () => {
  it('takes a connection with its maps, page size and documents', () => {
    expect(problems({})).toEqual([]);
    expect(problems({
      baseUrl: 'http://127.0.0.1:3000/simulators/sap-b1/b1s/v2', warehouseCodes: { 'WH-EAST': '01' }, currencies: { '$': 'USD', 'CAN': 'CAD' },
      pageSize: 50, stockDocuments: ['Orders', 'DeliveryNotes'], basePriceList: 2,
    })).toEqual([]);
  });

  it('refuses a base URL without the version path, a warehouse code SAP cannot hold, a currency table that reads two ways, unknown documents, and a base list that is not a list number', () => {
    expect(problems({ baseUrl: 'https://b1.example.com:50000/b1s' })).toEqual(['baseUrl: baseUrl must end with the Service Layer version path, /b1s/v1 or /b1s/v2']);
    expect(problems({ baseUrl: 'https://b1.example.com:50000/b1s/v3' })).toHaveLength(1);
    expect(problems({ warehouseCodes: { 'WH-EAST': 'WAREHOUSE-1' } })[0]).toMatch(/^warehouseCodes: warehouseCodes must map each warehouse/);
    expect(problems({ warehouseCodes: { 'WH-EAST': 1 } })).toHaveLength(1);
    // Two Crossdock warehouses on one SAP warehouse would count its stock twice.
    expect(problems({ warehouseCodes: { 'WH-EAST': '01', 'WH-CENTRAL': '01' } })[0]).toMatch(/no two to the same/);
    expect(problems({ currencies: { '$': 'USD', 'US$': 'USD' } })[0]).toMatch(/distinct ISO 4217 codes/);
    expect(problems({ currencies: { '$': 'usd' } })).toHaveLength(1);
    expect(problems({ currencies: { 'DOLLAR': 'USD' } })).toHaveLength(1);
    expect(problems({ stockDocuments: ['Orders', 'Quotations'] })[0]).toMatch(/^stockDocuments: /);
    expect(problems({ stockDocuments: 'Orders' }).length).toBeGreaterThan(0);
    expect(problems({ pageSize: 0 })).toHaveLength(1);
    expect(problems({ basePriceList: 0 })).toHaveLength(1);
    expect(problems({ basePriceList: 1.5 })).toHaveLength(1);
    expect(problems({ basePriceList: '1' }).length).toBeGreaterThan(0);
    expect(problems({ sessionTimeout: 5 })).toEqual(['sessionTimeout: sessionTimeout is not a known field']);
  });
});
