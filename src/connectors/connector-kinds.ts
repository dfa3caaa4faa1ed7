import { ShopifyConfig } from './channels/shopify/shopify.config.js';
import { WebhookConfig } from './channels/webhook/webhook.config.js';
import { BusinessCentralConfig } from './erp/business-central/business-central.config.js';
import { SapB1Config } from './erp/sap-b1/sap-b1.config.js';

/** What a connector kind needs to be configured: the shape of its `config`, and which of its fields are secrets. */
export interface ConnectorKind {
  kind: string;
  /** The class that validates `config`; null for a kind that takes no settings (its config must be empty). */
  configSchema: (new () => object) | null;
  secretFields: readonly string[];
}

export const ERP_CONNECTOR_KINDS: readonly ConnectorKind[] = [
  { kind: 'business-central', configSchema: BusinessCentralConfig, secretFields: ['clientSecret'] },
  { kind: 'sap-b1', configSchema: SapB1Config, secretFields: ['password'] },
];

export const CHANNEL_CONNECTOR_KINDS: readonly ConnectorKind[] = [
  { kind: 'shopify', configSchema: ShopifyConfig, secretFields: ['accessToken', 'webhookSecret'] },
  { kind: 'webhook', configSchema: WebhookConfig, secretFields: ['secret'] },
  { kind: 'api', configSchema: null, secretFields: [] },
];
