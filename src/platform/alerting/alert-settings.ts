export const ALERT_SETTINGS = Symbol('ALERT_SETTINGS');

/** How delay objectives are checked, and where their breaches are told (neither configured: recorded only). */
export interface AlertSettings {
  /** How often every flow's oldest age is compared with its objective, in ms. */
  checkMs: number;
  /** A signed webhook (Standard Webhooks, a CloudEvent per notice). */
  webhook?: { url: string; secret: string };
  /** Email over SMTP (`smtp://` or `smtps://`, credentials in the URL). */
  email?: { smtpUrl: string; from: string; to: string[] };
}
