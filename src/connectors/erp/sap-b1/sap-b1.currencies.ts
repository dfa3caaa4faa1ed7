/**
 * SAP Business One keeps currencies under the company's own codes (`$`, `EUR`, `Can`), Crossdock under ISO 4217.
 * The backend's table (`currencies`, SAP code to ISO code) is read both ways; a code it lacks passes unchanged
 * when it has the shape of an ISO code, which is how most companies name theirs.
 */
export type CurrencyTable = Readonly<Record<string, string>>;

const ISO_CODE = /^[A-Z]{3}$/;
/** SAP's "all currencies" on a business partner: no one currency. */
export const ALL_CURRENCIES = '##';

/** The ISO code of a SAP currency code; undefined when there is none (blank, `##`, or a code neither mapped nor ISO-shaped). */
export function isoCurrency(table: CurrencyTable, sapCode: string | null | undefined): string | undefined {
  if (!sapCode || sapCode === ALL_CURRENCIES) return undefined;
  if (Object.hasOwn(table, sapCode)) return table[sapCode];
  return ISO_CODE.test(sapCode) ? sapCode : undefined;
}

/** The SAP code of an ISO currency: the table's entry that maps to it, else the ISO code itself. */
export function sapCurrency(table: CurrencyTable, isoCode: string): string {
  for (const [sapCode, iso] of Object.entries(table)) if (iso === isoCode) return sapCode;
  return isoCode;
}
