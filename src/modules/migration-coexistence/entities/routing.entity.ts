import { Entity, PrimaryKey, Property } from '@mikro-orm/decorators/legacy';
import type { RoutingMode } from '../domain/routing.js';

@Entity({ tableName: 'routing' })
export class RoutingEntity {
  @PrimaryKey({ type: 'text' })
  domain: string;

  @Property({ type: 'text' })
  mode: RoutingMode;

  @Property({ type: 'text', fieldName: 'primary_backend_id' })
  primary: string;

  @Property({ type: 'text', fieldName: 'shadow_backend_id', nullable: true })
  shadow: string | null = null;

  @Property({ type: 'timestamptz' })
  updatedAt: Date = new Date();
}
