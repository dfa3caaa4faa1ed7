import type { FastifyPluginAsync } from 'fastify';
import type { ConfigurationDocument } from '../modules/configuration/index.js';
import { createBusinessCentralSimulator, defaultSimulatorData } from './business-central/bc-simulator.js';
import { createSapB1Simulator, sapB1Company, type SapB1SimulatorData } from './sap-b1/sap-b1-simulator.js';
import { createShopifySimulator } from './shopify/shopify-simulator.js';
import { createWebhookReceiver } from './webhook-receiver/webhook-receiver.js';

/** Where demo mode serves the simulators, on the service's own port. */
export const SIMULATORS_PREFIX = '/simulators';

/**
 * The simulators the demo configuration points at, to mount under {@link SIMULATORS_PREFIX}: each accepts the
 * credentials and secrets that configuration gives Crossdock's connectors, so nothing is written down twice.
 */
export function demoSimulators(configuration: ConfigurationDocument): FastifyPluginAsync {
  const backend = simulated(Object.values(configuration.erpBackends), 'business-central', 'baseUrl');
  const businessCentral = createBusinessCentralSimulator({
    latencyMs: [20, 120],
    // Twice what the governor can let through in any second (its burst plus a second's refill), so that
    // Crossdock's own limits pace the calls rather than 429s.
    ratePerSecond: backend ? 2 * (backend.limits.burst + backend.limits.ratePerSecond) : undefined,
    ...settingsOf(backend, { clientId: 'clientId', clientSecret: 'clientSecret', customerPricesApi: 'customerPricesApi' }),
    keepRequests: 1000,
  });
  const shop = simulated(Object.values(configuration.channels), 'shopify', 'adminApiBaseUrl');
  const shopify = createShopifySimulator({ latencyMs: [20, 80], ...settingsOf(shop, { accessToken: 'accessToken', shopDomain: 'shopDomain', apiVersion: 'apiVersion' }), keepRequests: 1000 });
  const sap = simulated(Object.values(configuration.erpBackends), 'sap-b1', 'baseUrl');
  const sapB1 = createSapB1Simulator({
    latencyMs: [20, 120], ...settingsOf(sap, { companyDb: 'companyDb', userName: 'username', password: 'password' }), keepRequests: 1000,
    data: legacyCompany(DEMO_DISAGREEMENTS),
  });
  const receiver = createWebhookReceiver({ secrets: webhookReceiverSecrets(configuration) });
  return async (instance) => {
    await instance.register(businessCentral.plugin, { prefix: '/business-central' });
    await instance.register(shopify.plugin, { prefix: '/shopify' });
    await instance.register(sapB1.plugin, { prefix: '/sap-b1' });
    await instance.register(receiver.plugin, { prefix: '/webhook-receiver' });
  };
}

/** The first target of `kind` whose `urlField` points at its simulator here (under /simulators/<kind>/). */
function simulated<T extends { kind: string; config: Record<string, unknown> }>(targets: T[], kind: string, urlField: string): T | undefined {
  return targets.find((t) => t.kind === kind && String(t.config[urlField] ?? '').includes(`${SIMULATORS_PREFIX}/${kind}/`));
}

/** A simulator's option named in `fields` takes the target's setting of the name it maps to, so the two agree. */
function settingsOf<K extends string>(target: { config: Record<string, unknown> } | undefined, fields: Record<K, string>): Record<K, string | undefined> {
  return Object.fromEntries(Object.entries<string>(fields).map(([option, field]) => [option, target?.config[field] as string | undefined])) as Record<K, string | undefined>;
}

/** Where the legacy company is not Business Central's seed: accounts it does not block, items it prices otherwise. */
export interface Disagreements {
  unblocked?: string[];
  prices?: Record<string, number>;
}

/**
 * The demo's legacy ERP disagrees with the cloud one as a company mid-migration does, so that the coexistence report
 * shows real mismatches: it never blocked School of Fine Art (30000), and it prices two items otherwise.
 */
export const DEMO_DISAGREEMENTS: Disagreements = { unblocked: ['30000'], prices: { '1900-S': 199.9, '1908-S': 205 } };

/**
 * The legacy ERP of a distributor migrating to Business Central holds the same customers and items: the SAP
 * Business One company of the demo is the Business Central simulator's seed (customers 10000-40000 as CardCodes,
 * its items, and its EAST, WEST and CENTRAL stock in warehouses 01, 02 and 03), so that any domain can be routed
 * to either ERP.
 */
export function legacyCompany(disagreements: Disagreements = {}): SapB1SimulatorData {
  const bc = defaultSimulatorData();
  const unblocked = new Set(disagreements.unblocked ?? []);
  const warehouseOf: Record<string, string> = { EAST: '01', WEST: '02', CENTRAL: '03' };
  const stock = (itemNumber: string) =>
    Object.fromEntries(bc.openingStock.filter((s) => s.itemNumber === itemNumber).map((s) => [warehouseOf[s.locationCode]!, s.quantity]));
  return sapB1Company({
    warehouses: bc.locations.map((l) => ({ WarehouseCode: warehouseOf[l.code]!, WarehouseName: l.displayName })),
    customers: bc.customers.map((c) => ({
      CardCode: c.number, CardName: c.displayName, Frozen: c.blocked.trim() && !unblocked.has(c.number) ? 'tYES' : 'tNO', CreditLimit: c.creditLimit, CurrentAccountBalance: c.balanceDue, Currency: '$',
    })),
    items: bc.items.map((i) => ({ code: i.number, name: i.displayName, price: disagreements.prices?.[i.number] ?? i.unitPrice, inStock: stock(i.number) })),
  });
}

/** Receiver name to secret, for each webhook channel whose URL is one of the simulated receivers. */
function webhookReceiverSecrets(configuration: ConfigurationDocument): Record<string, string> {
  const receiverPath = new RegExp(`^${SIMULATORS_PREFIX}/webhook-receiver/([^/]+)$`);
  const secrets: Record<string, string> = {};
  for (const channel of Object.values(configuration.channels)) {
    const name = channel.kind === 'webhook' ? receiverPath.exec(new URL(String(channel.config.url)).pathname)?.[1] : undefined;
    if (name !== undefined) secrets[name] = String(channel.config.secret);
  }
  return secrets;
}
