import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { validatePlain } from '../../../platform/http/field-errors.js';
import type { BcSalesShipment } from './business-central.client.js';
import { BusinessCentralConfig } from './business-central.config.js';
import { BusinessCentralErp } from './business-central.delivery.js';

// Business Central's posted shipments in Crossdock's words, against Microsoft's documented examples.
const fixture = (name: string) => JSON.parse(readFileSync(new URL(`../../../../test/fixtures/business_central/${name}`, import.meta.url), 'utf8'));
const base = { tenantId: 't', environment: 'production', companyId: 'c', clientId: 'id', clientSecret: 'secret' };
const erp = new BusinessCentralErp({ ...base, locations: { 'WH-EAST': 'loc-east' }, locationCodes: { 'WH-WEST': 'WEST' } });
// The reference prints a line's type as its type's name; Business Central answers the value.
const documentedLine = () => ({ ...fixture('bc_v2_salesShipmentLine_get.response.json'), lineType: 'Item' });

describe('Business Central shipment records', () => {
  it('reads the documented shipment: its number, order, reference, posting date and lines', () => {
    const shipment: BcSalesShipment = { ...fixture('bc_v2_salesShipment_get.response.json'), salesShipmentLines: [documentedLine()] };
    expect(erp.toShipmentRecord(shipment, { number: '108001', packageTrackingNo: '1Z999', shippingAgentCode: 'DHL' })).toEqual({
      documentId: '55c99ea7-bde4-ea11-bbf2-00155df3a61',
      number: '108001',
      erpOrderRef: '34',
      // An empty external document number is none.
      externalDocumentNumber: null,
      carrier: 'DHL',
      trackingNumber: '1Z999',
      cancelled: false,
      shippedAt: '2019-01-01',
      changedAt: '2019-01-01T00:00:00.000Z',
      lines: [{ sku: '1928-S', quantity: 3, warehouse: null }],
      crossdockShipmentId: null,
    });
    // Every field the connector reads is one Microsoft documents.
    for (const field of ['id', 'number', 'externalDocumentNumber', 'orderNumber', 'postingDate', 'lastModifiedDateTime']) expect(fixture('bc_v2_salesShipment_get.response.json')).toHaveProperty(field);
    for (const field of ['lineType', 'lineObjectNumber', 'quantity']) expect(fixture('bc_v2_salesShipmentLine_get.response.json')).toHaveProperty(field);
    for (const field of ['id', 'lineType', 'lineObjectNumber', 'quantity', 'shippedQuantity', 'shipQuantity', 'locationId']) expect(fixture('bc_v2_salesOrderLine_create.response.json')).toHaveProperty(field);
  });

  it('nets lines per item, leaves out lines that are not items, and calls an undone shipment cancelled', () => {
    const line = documentedLine();
    const shipment = (lines: unknown[]): BcSalesShipment => ({ id: 's', number: 'S-1', lastModifiedDateTime: '2026-12-05T10:00:00.123Z', salesShipmentLines: lines as BcSalesShipment['salesShipmentLines'] });
    const comment = { lineType: 'Comment', lineObjectNumber: '', quantity: 0 };
    expect(erp.toShipmentRecord(shipment([line, { ...line, quantity: 2 }, comment])).lines).toEqual([{ sku: '1928-S', quantity: 5, warehouse: null }]);
    // Undo Shipment adds a correction line of the opposite quantity to the same document.
    const undone = erp.toShipmentRecord(shipment([line, { ...line, quantity: -3 }]));
    expect(undone).toMatchObject({ cancelled: true, lines: [], shippedAt: '2026-12-05T10:00:00.123Z', changedAt: '2026-12-05T10:00:00.123Z', trackingNumber: null, carrier: null });
    expect(erp.toShipmentRecord(shipment([comment])).cancelled).toBe(false);
  });

  it('maps a line\'s location back to Crossdock\'s warehouse where a page carries one (API v2.0\'s lines have none)', () => {
    const line = documentedLine();
    const record = erp.toShipmentRecord({
      id: 's', number: 'S-2', lastModifiedDateTime: '2026-12-05T10:00:00Z',
      salesShipmentLines: [{ ...line, locationId: 'loc-east' }, { ...line, quantity: 1, locationCode: 'WEST' }, { ...line, quantity: 2, locationCode: 'NOWHERE' }],
    });
    expect(record.lines).toEqual([{ sku: '1928-S', quantity: 3, warehouse: 'WH-EAST' }, { sku: '1928-S', quantity: 1, warehouse: 'WH-WEST' }, { sku: '1928-S', quantity: 2, warehouse: null }]);
  });
});

describe('BusinessCentralConfig of shipments', () => {
  const problems = (config: Record<string, unknown>) => validatePlain(BusinessCentralConfig, { ...base, ...config }).errors.map((e) => `${e.field}: ${e.message}`);

  it('takes a posting action by name and a tracking page with or without its API route', () => {
    expect(problems({ shipmentPostingAction: 'ship', shipmentTrackingPage: 'salesShipmentTracking' })).toEqual([]);
    expect(problems({ shipmentTrackingPage: 'contoso/shipping/v1.0/salesShipmentTracking' })).toEqual([]);
  });

  it('refuses what is not the name of an action or a page', () => {
    expect(problems({ shipmentPostingAction: 'Microsoft.NAV.ship' })).toEqual(['shipmentPostingAction: shipmentPostingAction must be the name of a bound action, such as shipAndInvoice']);
    expect(problems({ shipmentPostingAction: 'ship?x=1' })).toHaveLength(1);
    expect(problems({ shipmentTrackingPage: '../../salesShipmentTracking' })[0]).toMatch(/^shipmentTrackingPage: /);
    expect(problems({ shipmentTrackingPage: 'https://example.com/tracking' })).toHaveLength(1);
  });
});
