import { CUSTOMER_FIELDS, type CustomerField, type CustomerFields, type Ownership } from './customer.js';
import { applyMerge, mergeCustomerChange, type MergeResult } from './customer-merge.js';
import { checkCustomerQuality } from './customer-quality.js';

export interface ErpDriftInput {
  accountNumber: string;
  /** The ERP's fields as its connector reads them (an absent field is one it does not read). */
  erp: Partial<CustomerFields>;
  /** The record now; null when Crossdock does not hold the account. */
  current: CustomerFields | null;
  /** What the ERP last saw from Crossdock (customer_sync). */
  lastSeen: Partial<CustomerFields>;
  /** Fields an open manual conflict holds: an operator is deciding them. */
  held: ReadonlySet<CustomerField>;
  ownership: Ownership;
  /** The fields an ERP write can carry: only those can be sent again. */
  writable: ReadonlySet<CustomerField>;
}

/** One field the ERP holds otherwise than the record. */
export interface FieldDrift {
  field: CustomerField;
  erp: unknown;
  record: unknown;
}

/**
 * Where an ERP's customer and the record part, by whose truth differs. Each list is in CUSTOMER_FIELDS order.
 * - `source`: what the ERP owns (or the whole account, when Crossdock lacks it): the ERP is right.
 * - `target`: a field owned elsewhere that the ERP still holds as it last saw it from Crossdock: it missed our update.
 * - `changedInErp`: a field owned elsewhere that the ERP changed itself (neither the record's value nor what it
 *   last saw): a person's decision.
 */
export interface ErpCustomerDrift {
  missing: boolean;
  source: FieldDrift[];
  target: FieldDrift[];
  changedInErp: FieldDrift[];
}

/**
 * The ERP's customer judged as the pull would judge it (the same normalisation, the same mergeCustomerChange), and
 * the judgement read as drift: what the pull would apply is the ERP's truth; an echo (the ERP holds what it last saw,
 * the record has moved on) is an update it missed; a refusal or a conflict (the ERP's value is neither) is its own
 * change of a field it does not own. Held fields and fields no ERP write carries are not drift Crossdock can act on.
 */
export function erpCustomerDrift(input: ErpDriftInput): ErpCustomerDrift {
  const { accountNumber, erp, current, lastSeen, held, ownership, writable } = input;
  // As CustomerRecords.change formats an incoming change: a phone the ERP keeps in its own format is not a change.
  const formatted = checkCustomerQuality(accountNumber, applyMerge(current, erp)).normalized;
  const fields = Object.fromEntries(Object.keys(erp).map((f) => [f, formatted[f as CustomerField]])) as Partial<CustomerFields>;
  const merge: MergeResult = mergeCustomerChange({ current, lastSeen, held, ownership, change: { system: 'erp', fields } });
  const drift = (field: CustomerField): FieldDrift => ({ field, erp: fields[field], record: current ? current[field] : null });
  const conflicted = new Set(merge.conflicts.map((c) => c.field));
  return {
    missing: current === null,
    source: CUSTOMER_FIELDS.filter((f) => Object.hasOwn(merge.applied, f)).map(drift),
    target: merge.echoes.filter((f) => writable.has(f)).map(drift),
    changedInErp: CUSTOMER_FIELDS.filter((f) => merge.refused.includes(f) || conflicted.has(f)).filter((f) => writable.has(f)).map(drift),
  };
}

/** Whether the drift holds anything. */
export function drifts(drift: ErpCustomerDrift): boolean {
  return drift.source.length + drift.target.length + drift.changedInErp.length > 0;
}
