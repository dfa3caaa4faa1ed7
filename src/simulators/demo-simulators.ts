import type { FastifyPluginAsync } from 'fastify';
import type { ConfigurationDocument } from '../modules/configuration/index.js';
import { createBusinessCentralSimulator } from './business-central/bc-simulator.js';
import { createShopifySimulator } from './shopify/shopify-simulator.js';
import { createWebhookReceiver } from './webhook-receiver/webhook-receiver.js';

/** Where demo mode serves the simulators, on the service's own port. */
export const SIMULATORS_PREFIX = '/simulators';

/**
 * The simulators the demo configuration points at, to mount under {@link SIMULATORS_PREFIX}: each accepts the
 * credentials and secrets that configuration gives Crossdock's connectors, so nothing is written down twice.
 */
export function demoSimulators(configuration: ConfigurationDocument): FastifyPluginAsync {
  const backend = Object.values(configuration.erpBackends).find(
    (b) => b.kind === 'business-central' && String(b.config.baseUrl).includes(`${SIMULATORS_PREFIX}/business-central/`),
  );
  const businessCentral = createBusinessCentralSimulator({
    latencyMs: [20, 120],
    // Twice what the governor can let through in any second (its burst plus a second's refill), so that
    // Crossdock's own limits pace the calls rather than 429s.
    ratePerSecond: backend ? 2 * (backend.limits.burst + backend.limits.ratePerSecond) : undefined,
    clientId: backend?.config.clientId as string | undefined,
    clientSecret: backend?.config.clientSecret as string | undefined,
    keepRequests: 1000,
  });
  const shop = Object.values(configuration.channels).find(
    (c) => c.kind === 'shopify' && String(c.config.adminApiBaseUrl ?? '').includes(`${SIMULATORS_PREFIX}/shopify/`),
  );
  const shopify = createShopifySimulator({
    latencyMs: [20, 80],
    accessToken: shop?.config.accessToken as string | undefined,
    shopDomain: shop?.config.shopDomain as string | undefined,
    apiVersion: shop?.config.apiVersion as string | undefined,
    keepRequests: 1000,
  });
  const receiver = createWebhookReceiver({ secrets: webhookReceiverSecrets(configuration) });
  return async (instance) => {
    await instance.register(businessCentral.plugin, { prefix: '/business-central' });
    await instance.register(shopify.plugin, { prefix: '/shopify' });
    await instance.register(receiver.plugin, { prefix: '/webhook-receiver' });
  };
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
