import { expectShape, type Shape } from '../../answer-shape.js';
import type { ErpAddress, ErpCustomer, ErpCustomerCreate, ErpCustomerUpdate } from '../erp-contract.js';
import { sapStamp } from './sap-b1.client.js';

/**
 * A customer in SAP Business One's words, pure, both ways: what the customers pull reads of a business partner;
 * against the business partner as the Service Layer holds it, the PATCH of `BusinessPartners` that writes only what
 * differs, and the fields it has no room for (and why); the POST that creates one.
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
/** The fields of ErpCustomerUpdate that hold text, and those that hold an address. */
const TEXT_FIELDS = new Set(['name', 'email', 'phone', 'taxId', 'paymentTerms']);
const ADDRESS_FIELDS = new Set(['billingAddress', 'shippingAddress']);

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

/** The customer fields of ErpCustomer that a business partner's record gives (the pull adds its standing). */
export type SapCustomerFields = Pick<ErpCustomer, 'email' | 'phone' | 'taxId' | 'billingAddress' | 'shippingAddress' | 'paymentTerms' | 'modifiedAt'>;

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
 * What a customer's fields are in the business partner, as the pull reads them (the reverse of sapPartnerPatch):
 * EmailAddress, Phone1 (as SAP keeps it) and FederalTaxID; the default bill-to and ship-to addresses (see
 * defaultAddressOf), null when the partner has none or it lacks its street, city or country; the name of the
 * payment terms PayTermsGrpCode names (`paymentTermsNames`: PaymentTermsTypes' GroupNumber to its name), left out
 * when the table has no such group; modifiedAt from UpdateDate and UpdateTime, the server's wall clock written as
 * UTC (as the shipments' changedAt), left out unless SAP gives both. Blank text is null.
 */
export function sapCustomerFields(partner: SapPartnerRecord & { UpdateDate?: SapText; UpdateTime?: SapText }, paymentTermsNames: ReadonlyMap<number, string>): SapCustomerFields {
  const terms = partner.PayTermsGrpCode == null ? null : paymentTermsNames.get(partner.PayTermsGrpCode);
  const stamp = sapStamp(partner.UpdateDate, partner.UpdateTime);
  return {
    email: orNull(partner.EmailAddress),
    phone: orNull(partner.Phone1),
    taxId: orNull(partner.FederalTaxID),
    billingAddress: erpAddress(defaultAddressOf(partner, BILL_TO)),
    shippingAddress: erpAddress(defaultAddressOf(partner, SHIP_TO)),
    ...(terms === undefined ? {} : { paymentTerms: orNull(terms) }),
    ...(stamp === undefined ? {} : { modifiedAt: new Date(stamp).toISOString() }),
  };
}

/**
 * Why a customer update or create cannot be written, whatever SAP holds: a blank number, a field of text that is
 * neither text nor null, an address that is neither null nor one with its line1, city and country. Undefined when it
 * can. A message that fails it never will: the caller makes it permanent rather than let it fail as a TypeError.
 */
export function customerWriteProblem(write: ErpCustomerUpdate | ErpCustomerCreate): string | undefined {
  if (typeof write.number !== 'string' || write.number.trim() === '') return `the account number is ${JSON.stringify(write.number)}, not a code`;
  if (typeof write.fields !== 'object' || write.fields === null || Array.isArray(write.fields)) return 'the fields are not an object';
  for (const [field, value] of Object.entries(write.fields)) {
    if (value === undefined || value === null) continue;
    if (TEXT_FIELDS.has(field) && typeof value !== 'string') return `${field} is ${JSON.stringify(value)}, not text`;
    if (ADDRESS_FIELDS.has(field) && !isAddress(value)) return `${field} is not an address with its line1, city and country: ${JSON.stringify(value)}`;
  }
  return undefined;
}

/**
 * The POST of `BusinessPartners` that creates the customer: CardCode the number, CardType cCustomer, CardName the
 * name (the number when it has none), and the other fields as sapPartnerPatch writes them to a partner that holds
 * nothing yet (the addresses "Bill To" and "Ship To", each its type's default). A null field is left out: a new
 * account has nothing to clear (SAP gives it its default payment terms).
 */
export function sapPartnerCreate(create: ErpCustomerCreate, paymentTermsGroup: number | undefined): SapPartnerPatch {
  const given = Object.fromEntries(Object.entries(create.fields).filter(([, value]) => value !== null));
  const { patch, written, skipped } = sapPartnerPatch({ number: create.number, fields: given }, { CardCode: create.number }, paymentTermsGroup);
  return { patch: { CardCode: create.number, CardName: create.number, CardType: 'cCustomer', ...patch }, written, skipped };
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
  const current = defaultAddressOf(partner, type);
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

/** The partner's default address of `type` (bo_BillTo: BilltoDefault, bo_ShipTo: ShipToDefault), else the first of the type. */
function defaultAddressOf(partner: SapPartnerRecord, type: string): SapAddressRecord | undefined {
  const ofType = (partner.BPAddresses ?? []).filter((a) => a.AddressType === type);
  const named = partner[type === BILL_TO ? 'BilltoDefault' : 'ShipToDefault'];
  return ofType.find((a) => a.AddressName === named) ?? ofType[0];
}

/** An address row as Crossdock's address (the reverse of addressElement), or null without its street, city or country. */
function erpAddress(address: SapAddressRecord | undefined): ErpAddress | null {
  const line1 = orNull(address?.Street);
  const city = orNull(address?.City);
  const country = orNull(address?.Country);
  if (line1 === null || city === null || country === null) return null;
  return { line1, line2: orNull(address?.Block), city, postalCode: orNull(address?.ZipCode), region: orNull(address?.State), country };
}

function isAddress(value: unknown): value is ErpAddress {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const address = value as Record<string, unknown>;
  const filled = (field: string) => typeof address[field] === 'string' && (address[field] as string).trim() !== '';
  const optional = (field: string) => address[field] == null || typeof address[field] === 'string';
  return filled('line1') && filled('city') && filled('country') && optional('line2') && optional('postalCode') && optional('region');
}

function text(value: SapText): string {
  return value ?? '';
}

/** SAP's text, null when blank. */
function orNull(value: SapText): string | null {
  return value == null || value.trim() === '' ? null : value;
}

/** An address property as compared: countries are codes, in capitals. */
function held(property: string, value: SapText): string {
  return property === 'Country' ? text(value).toUpperCase() : text(value);
}
