/** A postal address as Crossdock's canonical customer keeps it, and as connectors take it: the country ISO 3166-1 alpha-2. */
export interface PostalAddress {
  line1: string;
  line2?: string | null;
  city: string;
  postalCode?: string | null;
  region?: string | null;
  country: string;
}
