/** Every scope an API key can carry; an endpoint names the ones it needs. */
export const SCOPES = [
  'orders:write', 'orders:read',
  'inventory:write', 'inventory:read',
  'shipments:write', 'shipments:read',
  'prices:read', 'prices:write',
  'customers:read', 'customers:write',
] as const;
export type Scope = (typeof SCOPES)[number];
