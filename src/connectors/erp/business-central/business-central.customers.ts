import type { ErpAddress, ErpCustomer, ErpCustomerUpdate } from '../erp-contract.js';
import type { BcCustomer, BcCustomerRecord } from './business-central.client.js';

/**
 * Customers between Crossdock's words and Business Central's, pure. Read: API v2.0's customer as an ErpCustomer.
 * Written: which properties of the customer an update's fields write, which fields it has no room for (and why),
 * and, against the customer as Business Central holds it, only the properties that differ.
 */

/** Business Central's blank GUID: a customer without payment terms. */
export const BLANK_GUID = '00000000-0000-0000-0000-000000000000';
/** The Payment Terms table's Code is a Code[10]. */
const PAYMENT_TERMS_CODE_LENGTH = 10;
/** The Customer table's No. is a Code[20]. */
const CUSTOMER_NUMBER_LENGTH = 20;
// Code fields: Business Central stores them in capitals, so a value is compared and sent as it will hold it.
const CODE_PROPERTIES = new Set<string>(['country', 'postalCode']);
const SHIP_TO_REASON =
  'API v2.0\'s customer has one address, the customer\'s own (written from billingAddress); ship-to addresses are the Ship-to Address ' +
  'table, which API v2.0 does not publish (the customer\'s navigations are currency, paymentTerm, shipmentMethod, paymentMethod, ' +
  'customerFinancialDetail, picture, defaultDimensions, agedAccountsReceivable, contactsInformation, documentAttachments)';
const NAME_REASON = 'a Business Central customer keeps its name: a null name is not written';

export type BcCustomerProperty =
  | 'displayName' | 'email' | 'phoneNumber' | 'taxRegistrationNumber' | 'addressLine1' | 'addressLine2' | 'city' | 'state' | 'country' | 'postalCode' | 'paymentTermsId';

/** What an update asks of the customer: each property with its value and the Crossdock field it comes from; the fields skipped. */
export interface BcCustomerWrite {
  properties: Array<{ field: string; property: BcCustomerProperty; value: string }>;
  skipped: Array<{ field: string; reason: string }>;
}

/**
 * A customer as Business Central holds it, in Crossdock's words: its contact, tax registration and address
 * (phone as Business Central keeps it; blank text is null; no address when line 1, city and country are all
 * blank), its payment terms by code (`paymentTermsCodes`: by id in small letters; left out when the id names
 * terms not listed), and when it last changed. No shipping address: see SHIP_TO_REASON. A string: why the
 * customer cannot be read, when its credit limit needs a balance its financial detail does not give.
 */
export function bcErpCustomer(customer: BcCustomer, paymentTermsCodes: ReadonlyMap<string, string>): ErpCustomer | string {
  const creditLimit = customer.creditLimit ?? 0;
  const balance = customer.customerFinancialDetail?.balance;
  if (creditLimit > 0 && typeof balance !== 'number') return `its credit limit needs a balance, and customerFinancialDetail had ${balance === undefined ? 'none' : JSON.stringify(balance)}`;
  const termsId = blankToNull(customer.paymentTermsId);
  const paymentTerms = termsId === null || termsId === BLANK_GUID ? null : paymentTermsCodes.get(termsId.toLowerCase());
  const modifiedAt = Date.parse(customer.lastModifiedDateTime ?? '');
  return {
    erpId: customer.id,
    number: customer.number,
    name: customer.displayName ?? customer.number,
    blocked: customer.blocked ?? '',
    creditLimit,
    balanceDue: typeof balance === 'number' ? balance : 0,
    email: blankToNull(customer.email),
    phone: blankToNull(customer.phoneNumber),
    taxId: blankToNull(customer.taxRegistrationNumber),
    billingAddress: bcAddress(customer),
    ...(paymentTerms === undefined ? {} : { paymentTerms }),
    ...(Number.isNaN(modifiedAt) ? {} : { modifiedAt: new Date(modifiedAt).toISOString() }),
  };
}

/** The customer's one address; the parts it lacks blank (for the canonical record's check to name), the optional ones null. */
function bcAddress(customer: BcCustomer): ErpAddress | null {
  const [line1, city, country] = [customer.addressLine1, customer.city, customer.country].map(blankToNull);
  if (line1 === null && city === null && country === null) return null;
  return {
    line1: line1 ?? '', line2: blankToNull(customer.addressLine2), city: city ?? '', region: blankToNull(customer.state), postalCode: blankToNull(customer.postalCode), country: country ?? '',
  };
}

function blankToNull(value: string | null | undefined): string | null {
  return value == null || value.trim() === '' ? null : value;
}

/** Why Business Central cannot hold `number` as a customer's number as it is (a Code[20]: capitals, no blanks around), or undefined. */
export function bcCustomerNumberProblem(number: string): string | undefined {
  if (number.trim() === '' || number.length > CUSTOMER_NUMBER_LENGTH) return `a Business Central customer number is 1 to ${CUSTOMER_NUMBER_LENGTH} characters, and ${JSON.stringify(number)} is not`;
  if (number !== number.trim().toUpperCase()) return `Business Central would hold customer number ${JSON.stringify(number)} as ${JSON.stringify(number.trim().toUpperCase())} (a code: capitals, no blanks around)`;
  return undefined;
}

/** The payment terms code to look up for a Crossdock value (codes are capitals), or undefined when it cannot be one. */
export function bcPaymentTermsCode(value: string): string | undefined {
  const code = value.trim().toUpperCase();
  return code !== '' && code.length <= PAYMENT_TERMS_CODE_LENGTH ? code : undefined;
}

/**
 * The properties the update writes: name → displayName, email, phone → phoneNumber (E.164 as is), taxId →
 * taxRegistrationNumber, billingAddress → the customer's address (line1, line2, city, region → state, country,
 * postalCode), paymentTerms → paymentTermsId (`paymentTermsId`: the id Business Central found for the code,
 * undefined when it has none). A field present with null clears it (blank text, the blank GUID); a null name and
 * the shipping address are skipped with the reason, as is a payment terms code Business Central does not have.
 */
export function bcCustomerWrite(update: ErpCustomerUpdate, paymentTermsId: string | undefined): BcCustomerWrite {
  const write: BcCustomerWrite = { properties: [], skipped: [] };
  const set = (field: string, property: BcCustomerProperty, value: string | null | undefined) => write.properties.push({ field, property, value: value ?? '' });
  for (const [field, value] of Object.entries(update.fields)) {
    if (value === undefined) continue;
    switch (field) {
      case 'name':
        if (value === null) write.skipped.push({ field, reason: NAME_REASON });
        else set(field, 'displayName', value as string);
        break;
      case 'email':
        set(field, 'email', value as string | null);
        break;
      case 'phone':
        set(field, 'phoneNumber', value as string | null);
        break;
      case 'taxId':
        set(field, 'taxRegistrationNumber', value as string | null);
        break;
      case 'billingAddress': {
        const address = value as ErpAddress | null;
        set(field, 'addressLine1', address?.line1);
        set(field, 'addressLine2', address?.line2);
        set(field, 'city', address?.city);
        set(field, 'state', address?.region);
        set(field, 'country', address?.country);
        set(field, 'postalCode', address?.postalCode);
        break;
      }
      case 'shippingAddress':
        write.skipped.push({ field, reason: SHIP_TO_REASON });
        break;
      case 'paymentTerms':
        if (value === null) set(field, 'paymentTermsId', BLANK_GUID);
        else if (paymentTermsId === undefined) write.skipped.push({ field, reason: `Business Central has no payment terms with code ${JSON.stringify(value)}` });
        else set(field, 'paymentTermsId', paymentTermsId);
        break;
      default:
        write.skipped.push({ field, reason: 'not a field the Business Central connector writes' });
    }
  }
  return write;
}

/**
 * What of `write` the customer does not hold yet: the properties to PATCH, and the Crossdock fields they come from.
 * Blank and absent are the same; codes compare in capitals; payment terms by id, blank being the blank GUID.
 */
export function bcCustomerChanges(write: BcCustomerWrite, customer: BcCustomerRecord): { changes: Record<string, string>; fields: string[] } {
  const changes: Record<string, string> = {};
  const fields = new Set<string>();
  for (const { field, property, value } of write.properties) {
    const wanted = held(property, value);
    if (wanted === held(property, customer[property])) continue;
    changes[property] = wanted;
    fields.add(field);
  }
  return { changes, fields: [...fields] };
}

/** A property's value as Business Central holds it. */
function held(property: BcCustomerProperty, value: string | null | undefined): string {
  const text = value ?? '';
  if (property === 'paymentTermsId') return text === '' ? BLANK_GUID : text.toLowerCase();
  return CODE_PROPERTIES.has(property) ? text.toUpperCase() : text;
}
