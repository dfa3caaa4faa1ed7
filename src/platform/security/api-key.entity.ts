import { Entity, PrimaryKey, Property } from '@mikro-orm/decorators/legacy';

export type PrincipalType = 'channel' | 'source' | 'operator';

/** An API key of one principal. Only the hash of its secret is kept; the key itself is shown once. */
@Entity({ tableName: 'api_key' })
export class ApiKeyEntity {
  @PrimaryKey({ type: 'uuid' })
  id: string;

  @Property({ type: 'text' })
  principalType: PrincipalType;

  @Property({ type: 'text' })
  principalId: string;

  @Property({ type: 'text', nullable: true })
  name: string | null = null;

  @Property({ type: 'text' })
  prefix: string;

  @Property({ type: 'blob', hidden: true })
  secretHash: Buffer;

  @Property({ type: 'text[]' })
  scopes: string[];

  @Property({ type: 'timestamptz' })
  createdAt: Date = new Date();

  @Property({ type: 'timestamptz', nullable: true })
  revokedAt: Date | null = null;
}
