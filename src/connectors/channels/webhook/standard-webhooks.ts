// The signing lives in the platform, which signs its own alert webhooks with it too.
export { signWebhook, verifyWebhook, webhookKey } from '../../../platform/security/standard-webhooks.js';
