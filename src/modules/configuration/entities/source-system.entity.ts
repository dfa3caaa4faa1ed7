import { Entity, PrimaryKey, Property } from '@mikro-orm/decorators/legacy';

/** A system (ERP, WMS) that pushes events to Crossdock with its own API keys. */
@Entity({ tableName: 'source_system' })
export class SourceSystemEntity {
  @PrimaryKey({ type: 'text' })
  id: string;

  @Property({ type: 'text' })
  name: string;

  @Property({ type: 'text', nullable: true })
  kind: string | null = null;

  /** The ERP backend whose stock this source reports, if it is an ERP's. */
  @Property({ type: 'text', nullable: true, fieldName: 'erp_backend_id' })
  erpBackend: string | null = null;

  @Property({ type: 'timestamptz' })
  createdAt: Date = new Date();

  @Property({ type: 'timestamptz' })
  updatedAt: Date = new Date();
}
