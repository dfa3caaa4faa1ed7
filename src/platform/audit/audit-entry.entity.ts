import { Entity, PrimaryKey, Property } from '@mikro-orm/decorators/legacy';

/** One administrative change: who made it, to what, and the resource before and after (secrets masked). */
@Entity({ tableName: 'audit_entry' })
export class AuditEntryEntity {
  @PrimaryKey({ type: 'bigint', autoincrement: true })
  id: string;

  @Property({ type: 'timestamptz' })
  at: Date = new Date();

  @Property({ type: 'text' })
  actor: string;

  @Property({ type: 'text' })
  action: string;

  @Property({ type: 'text' })
  resourceType: string;

  @Property({ type: 'text' })
  resourceId: string;

  @Property({ type: 'json', nullable: true })
  before: unknown = null;

  @Property({ type: 'json', nullable: true })
  after: unknown = null;

  @Property({ type: 'text', nullable: true })
  correlationId: string | null = null;
}
