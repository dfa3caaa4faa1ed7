import type { MaintenanceWindow } from '../governor/maintenance-window.js';

/** A system Crossdock delivers to, as configured: an ERP backend or a channel. */
export interface Target {
  id: string;
  kind: string;
  /** The connector's settings, secrets included (never logged or answered). */
  config: Record<string, unknown>;
  /** null: the connector's default pace. */
  limits: { ratePerSecond: number; burst: number; concurrency: number } | null;
  maintenanceWindows: readonly MaintenanceWindow[];
}

/**
 * Where the connectors read the targets' settings from. The platform names the port; the configuration
 * module provides it, so that connectors depend on no module. Reads may be cached for a few seconds.
 */
export abstract class TargetDirectory {
  abstract erpBackend(id: string): Promise<Target | null>;
  abstract channel(id: string): Promise<Target | null>;
}
