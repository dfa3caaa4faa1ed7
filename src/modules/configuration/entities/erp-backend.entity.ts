import { Entity, PrimaryKey, Property } from '@mikro-orm/decorators/legacy';
import type { DelayObjective } from '../../../platform/delivery/delay-objectives.js';

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

  @Property({ type: 'timestamptz' })
  createdAt: Date = new Date();

  @Property({ type: 'timestamptz' })
  updatedAt: Date = new Date();
}
