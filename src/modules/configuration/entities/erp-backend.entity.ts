import { Entity, PrimaryKey, Property } from '@mikro-orm/decorators/legacy';
import type { DelayObjective } from '../../../platform/delivery/delay-objectives.js';
import type { ReconcileSchedules } from '../../../platform/reconciliation/reconcilers.js';

@Entity({ tableName: 'erp_backend' })
export class ErpBackendEntity {
  @PrimaryKey({ type: 'text' })
  id: string;

  @Property({ type: 'text' })
  kind: string;

  @Property({ type: 'text' })
  role: 'legacy' | 'cloud';

  @Property({ type: 'json' })
  config: Record<string, unknown>;

  @Property({ type: 'json' })
  limits: { ratePerSecond: number; burst: number; concurrency: number };

  @Property({ type: 'json' })
  maintenanceWindows: Array<Record<string, unknown>> = [];

  @Property({ type: 'json', nullable: true })
  slo: DelayObjective | null = null;

  /** Per domain, how often it is reconciled with this target. */
  @Property({ type: 'json', nullable: true })
  reconcile: ReconcileSchedules | null = null;

  @Property({ type: 'timestamptz' })
  createdAt: Date = new Date();

  @Property({ type: 'timestamptz' })
  updatedAt: Date = new Date();
}
