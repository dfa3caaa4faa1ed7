import { Entity, PrimaryKey, Property } from '@mikro-orm/decorators/legacy';

/** A person who works the operations API and console, with API keys of scopes `ops:read` and `ops:write`. */
@Entity({ tableName: 'operator' })
export class OperatorEntity {
  @PrimaryKey({ type: 'text' })
  id: string;

  @Property({ type: 'text' })
  name: string;

  @Property({ type: 'timestamptz' })
  createdAt: Date = new Date();

  @Property({ type: 'timestamptz' })
  updatedAt: Date = new Date();
}
