import { CUSTOMER_FIELDS, type CustomerChange, type CustomerField, type CustomerFields, type CustomerSystem, type Ownership } from './customer.js';

export interface MergeInput {
  /** The record now; null for an account Crossdock does not hold yet. */
  current: CustomerFields | null;
  /** Per field, the value the change's system last saw from Crossdock (absent: never exchanged). */
  lastSeen: Partial<CustomerFields>;
  /** Fields held by an open manual conflict: nothing applies to them. */
  held: ReadonlySet<CustomerField>;
  ownership: Ownership;
  change: CustomerChange;
}

export interface FieldConflict {
  field: CustomerField;
  owner: CustomerSystem;
  current: unknown;
  incoming: unknown;
  resolution: 'owner-wins' | 'held';
}

/** The judgement of a change: each field the change sends is in exactly one list, each list in CUSTOMER_FIELDS order. */
export interface MergeResult {
  /** The values to write. */
  applied: Partial<CustomerFields>;
  /** Sent, equal to the record. */
  unchanged: CustomerField[];
  /** A non-owner sent back what it last saw from Crossdock: dropped. */
  echoes: CustomerField[];
  /** A non-owner changed a field it does not own, the record unchanged since it last saw it. */
  refused: CustomerField[];
  /** A non-owner changed it while the record changed too since it last saw it. */
  conflicts: FieldConflict[];
  /** Fields of the change that an open manual conflict holds. */
  held: CustomerField[];
}

/**
 * Judges a change field by field against the record and what its system last saw from Crossdock: the owner's
 * value applies, a non-owner's never does to an existing record (it is an echo, a refusal or a conflict). A new
 * account takes every field of its first change, whoever sends it: the record must start from something.
 */
export function mergeCustomerChange(input: MergeInput): MergeResult {
  const { current, lastSeen, held, ownership, change } = input;
  const result: MergeResult = { applied: {}, unchanged: [], echoes: [], refused: [], conflicts: [], held: [] };
  for (const field of CUSTOMER_FIELDS) {
    const incoming = valueOf(change.fields, field);
    if (incoming === undefined) continue;
    if (current !== null && sameValue(incoming, current[field])) result.unchanged.push(field);
    else if (held.has(field)) result.held.push(field);
    else if (ownership.fields[field] === change.system || current === null) assign(result.applied, field, incoming);
    else {
      const seen = valueOf(lastSeen, field);
      if (seen !== undefined && sameValue(incoming, seen)) result.echoes.push(field);
      else if (seen === undefined || sameValue(current[field], seen)) result.refused.push(field);
      else {
        const resolution = ownership.onConflict === 'owner-wins' ? 'owner-wins' : 'held';
        result.conflicts.push({ field, owner: ownership.fields[field], current: current[field], incoming, resolution });
      }
    }
  }
  return result;
}

/** What a new record holds in the fields its first change did not send. */
const NEW_RECORD: CustomerFields = {
  name: null, email: null, phone: null, billingAddress: null, shippingAddress: null, taxId: null,
  blocked: '', creditLimit: 0, balanceDue: 0, priceList: null, paymentTerms: null,
};

/** The record after a merge: the current one (or a new one from defaults) with the applied values written over it. */
export function applyMerge(current: CustomerFields | null, applied: Partial<CustomerFields>): CustomerFields {
  const record: CustomerFields = { ...(current ?? NEW_RECORD) };
  for (const field of CUSTOMER_FIELDS) {
    const value = valueOf(applied, field);
    if (value !== undefined) assign(record, field, value);
  }
  return record;
}

/**
 * Whether two field values are the same: numbers as numbers, objects (addresses) by their keys with non-null
 * values, so that `{line2: null}` and a missing line2 do not count as a change.
 */
export function sameValue(a: unknown, b: unknown): boolean {
  if (typeof a === 'number' && typeof b === 'number') return a === b || (Number.isNaN(a) && Number.isNaN(b));
  if (Array.isArray(a) || Array.isArray(b)) {
    return Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((item, i) => sameValue(item, b[i]));
  }
  if (isObject(a) && isObject(b)) {
    const keys = presentKeys(a);
    const otherKeys = presentKeys(b);
    return keys.length === otherKeys.length && keys.every((key, i) => key === otherKeys[i] && sameValue(a[key], b[key]));
  }
  return a === b;
}

// An undefined value is a field not sent: JSON has no undefined, and `{...x, email: undefined}` sends nothing.
function valueOf<K extends CustomerField>(fields: Partial<CustomerFields>, field: K): CustomerFields[K] | undefined {
  return Object.hasOwn(fields, field) ? fields[field] : undefined;
}

function assign<K extends CustomerField>(target: Partial<CustomerFields>, field: K, value: CustomerFields[K]): void {
  target[field] = value;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}

function presentKeys(value: Record<string, unknown>): string[] {
  return Object.keys(value).filter((key) => value[key] !== null && value[key] !== undefined).sort();
}
