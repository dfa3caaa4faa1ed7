/** Every scope an API key can carry; an endpoint names the ones it needs. */
export const SCOPES = [
  'orders:write', 'orders:read',
  'inventory:write', 'inventory:read',
  'shipments:write', 'shipments:read',
  'prices:read', 'prices:write',
  'customers:read', 'customers:write',
  'ops:read', 'ops:write',
] as const;
/** The scopes of an operator's keys, and only theirs. */
export const OPS_SCOPES: readonly Scope[] = ['ops:read', 'ops:write'];
export type Scope = (typeof SCOPES)[number];
