import { expectShape, type Shape } from '../../answer-shape.js';
import type { ErpAddress, ErpCustomerUpdate } from '../erp-contract.js';

/**
 * A customer update in SAP Business One's words, pure: against the business partner as the Service Layer holds
 * it, the PATCH of `BusinessPartners` that writes only what differs, and the fields it has no room for (and why).
 */
const SYSTEM = 'SAP Business One';
/** What writing a customer reads of its business partner. */
export const PARTNER_FIELDS_READ = ['CardCode', 'CardName', 'CardType', 'EmailAddress', 'Phone1', 'FederalTaxID', 'PayTermsGrpCode', 'BilltoDefault', 'ShipToDefault', 'BPAddresses'];
const PARTNER: Shape = {
  CardCode: 'string', CardName: 'string?', CardType: 'string?', EmailAddress: 'string?', Phone1: 'string?', FederalTaxID: 'string?', PayTermsGrpCode: 'number?',
  BilltoDefault: 'string?', ShipToDefault: 'string?', BPAddresses: 'array?',
};
const ADDRESS: Shape = {
  AddressName: 'string', AddressType: 'string', RowNum: 'number?', Street: 'string?', Block: 'string?', City: 'string?', ZipCode: 'string?', State: 'string?', Country: 'string?',
};
/** OCST's state codes are up to 3 characters. */
const STATE_LENGTH = 3;
const BILL_TO = 'bo_BillTo';
const SHIP_TO = 'bo_ShipTo';
const NULL_ADDRESS_REASON =
  'removing an address from BPAddresses takes B1S-ReplaceCollectionsOnPatch: true, which replaces the whole collection and would drop an ' +
  'address added in SAP since it was read (the business partner carries no etag to guard it); the address is kept';
const NULL_TERMS_REASON = 'SAP Business One keeps payment terms on every business partner (PayTermsGrpCode): there is none to clear to';
const NAME_REASON = 'an SAP Business One business partner keeps its name (CardName): a null name is not written';

type SapText = string | null | undefined;

export interface SapAddressRecord {
  AddressName: string;
  AddressType: string;
  RowNum?: number | null;
  Street?: SapText;
  Block?: SapText;
  City?: SapText;
  ZipCode?: SapText;
  State?: SapText;
  Country?: SapText;
}

export interface SapPartnerRecord {
  CardCode: string;
  CardName?: SapText;
  CardType?: SapText;
  EmailAddress?: SapText;
  Phone1?: SapText;
  FederalTaxID?: SapText;
  PayTermsGrpCode?: number | null;
  BilltoDefault?: SapText;
  ShipToDefault?: SapText;
  BPAddresses?: SapAddressRecord[] | null;
}

/** The PATCH that writes an update, the Crossdock fields it writes, and those skipped with the reason. */
export interface SapPartnerPatch {
  patch: Record<string, unknown>;
  written: string[];
  skipped: Array<{ field: string; reason: string }>;
}

/** A business partner as SAP sent it, checked (a surprise is a retryable TargetError). */
export function readPartnerRecord(record: unknown): SapPartnerRecord {
  const partner = expectShape<SapPartnerRecord>(SYSTEM, 'a business partner', record, PARTNER);
  for (const address of partner.BPAddresses ?? []) expectShape(SYSTEM, `an address of business partner ${partner.CardCode}`, address, ADDRESS);
  return partner;
}

/**
 * What of the update the partner does not hold yet: name → CardName, email → EmailAddress, phone → Phone1 (E.164
 * as is), taxId → FederalTaxID, paymentTerms → PayTermsGrpCode (`paymentTermsGroup`: the GroupNumber SAP found for
 * the name, undefined when it has none), billingAddress / shippingAddress → the partner's default bill-to / ship-to
 * address (BilltoDefault, ShipToDefault; else the first of its type) in BPAddresses: line1 → Street, line2 → Block,
 * city → City, postalCode → ZipCode, region → State, country → Country. An address element carries its RowNum,
 * AddressName and AddressType and only its properties that differ; a partner without an address of the type gets
 * one ("Bill To", "Ship To"), made its default. Blank and null are the same; countries compare in capitals. A field
 * present with null clears it, except the name, an address and the payment terms, skipped with the reason.
 */
export function sapPartnerPatch(update: ErpCustomerUpdate, partner: SapPartnerRecord, paymentTermsGroup: number | undefined): SapPartnerPatch {
  const result: SapPartnerPatch = { patch: {}, written: [], skipped: [] };
  const addresses: Array<Record<string, unknown>> = [];
  const set = (field: string, property: string, value: string | null) => {
    if (text(value) === text(partner[property as keyof SapPartnerRecord] as SapText)) return;
    result.patch[property] = value ?? '';
    result.written.push(field);
  };
  for (const [field, value] of Object.entries(update.fields)) {
    if (value === undefined) continue;
    switch (field) {
      case 'name':
        if (value === null) result.skipped.push({ field, reason: NAME_REASON });
        else set(field, 'CardName', value as string);
        break;
      case 'email':
        set(field, 'EmailAddress', value as string | null);
        break;
      case 'phone':
        set(field, 'Phone1', value as string | null);
        break;
      case 'taxId':
        set(field, 'FederalTaxID', value as string | null);
        break;
      case 'billingAddress':
      case 'shippingAddress': {
        const address = value as ErpAddress | null;
        if (address === null) {
          result.skipped.push({ field, reason: NULL_ADDRESS_REASON });
        } else if ((address.region ?? '').length > STATE_LENGTH) {
          result.skipped.push({ field, reason: `SAP Business One's State is a code of its states table (up to ${STATE_LENGTH} characters), and the region is ${JSON.stringify(address.region)}` });
        } else {
          const element = addressElement(partner, field === 'billingAddress' ? BILL_TO : SHIP_TO, address, result.patch);
          if (element) {
            addresses.push(element);
            result.written.push(field);
          }
        }
        break;
      }
      case 'paymentTerms':
        if (value === null) result.skipped.push({ field, reason: NULL_TERMS_REASON });
        else if (paymentTermsGroup === undefined) result.skipped.push({ field, reason: `SAP Business One has no payment terms named ${JSON.stringify(value)} (PaymentTermsTypes)` });
        else if (partner.PayTermsGrpCode !== paymentTermsGroup) {
          result.patch.PayTermsGrpCode = paymentTermsGroup;
          result.written.push(field);
        }
        break;
      default:
        result.skipped.push({ field, reason: 'not a field the SAP Business One connector writes' });
    }
  }
  if (addresses.length > 0) result.patch.BPAddresses = addresses;
  return result;
}

/**
 * The BPAddresses element that makes the partner's address of `type` the one given, or undefined when it already
 * is. A new address is made the type's default (on `patch`) when the partner has none.
 */
function addressElement(partner: SapPartnerRecord, type: string, address: ErpAddress, patch: Record<string, unknown>): Record<string, unknown> | undefined {
  const wanted: Record<string, string> = {
    Street: address.line1, Block: address.line2 ?? '', City: address.city, ZipCode: address.postalCode ?? '', State: address.region ?? '', Country: address.country.toUpperCase(),
  };
  const defaultField = type === BILL_TO ? 'BilltoDefault' : 'ShipToDefault';
  const ofType = (partner.BPAddresses ?? []).filter((a) => a.AddressType === type);
  const current = ofType.find((a) => a.AddressName === partner[defaultField]) ?? ofType[0];
  if (!current) {
    const name = type === BILL_TO ? 'Bill To' : 'Ship To';
    if (!text(partner[defaultField])) patch[defaultField] = name;
    return { AddressName: name, AddressType: type, BPCode: partner.CardCode, ...wanted };
  }
  const differing = Object.entries(wanted).filter(([property, value]) => held(property, value) !== held(property, current[property as keyof SapAddressRecord] as SapText));
  if (differing.length === 0) return undefined;
  return {
    ...(typeof current.RowNum === 'number' ? { RowNum: current.RowNum } : {}), BPCode: partner.CardCode, AddressName: current.AddressName, AddressType: type, ...Object.fromEntries(differing),
  };
}

function text(value: SapText): string {
  return value ?? '';
}

/** An address property as compared: countries are codes, in capitals. */
function held(property: string, value: SapText): string {
  return property === 'Country' ? text(value).toUpperCase() : text(value);
}
