import { Injectable } from '@nestjs/common';
import type { EntityManager } from '@mikro-orm/postgresql';
import { currentCorrelationId } from '../observability/correlation.js';
import { AuditEntryEntity } from './audit-entry.entity.js';
import type { Tx } from '../database/transaction.js';

export interface AuditRecord {
  actor: string;
  action: string;
  resourceType: string;
  resourceId: string;
  /** Already masked by the caller, who knows which fields are secrets. */
  before?: unknown;
  after?: unknown;
}

export interface AuditQuery {
  resourceType?: string;
  resourceId?: string;
  limit: number;
  /** Entries with an id below this one (the previous page's `nextCursor`). */
  before?: string;
}

@Injectable()
export class AuditLog {
  /** Adds the entry to `em`'s unit of work: it commits or rolls back with the change it describes. */
  record(em: EntityManager, entry: AuditRecord): void {
    em.persist(
      em.create(AuditEntryEntity, {
        actor: entry.actor,
        action: entry.action,
        resourceType: entry.resourceType,
        resourceId: entry.resourceId,
        before: entry.before ?? null,
        after: entry.after ?? null,
        correlationId: currentCorrelationId() ?? null,
        at: new Date(),
      }),
    );
  }

  /** The same entry, for machinery that works on a plain SQL transaction. */
  async recordInTransaction(tx: Pick<Tx, 'query'>, entry: AuditRecord): Promise<void> {
    await tx.query(
      `insert into audit_entry (actor, action, resource_type, resource_id, before, after, correlation_id) values ($1, $2, $3, $4, $5, $6, $7)`,
      [entry.actor, entry.action, entry.resourceType, entry.resourceId, JSON.stringify(entry.before ?? null), JSON.stringify(entry.after ?? null), currentCorrelationId() ?? null],
    );
  }

  async list(em: EntityManager, query: AuditQuery): Promise<{ items: AuditEntryEntity[]; nextCursor: string | null }> {
    const where: Record<string, unknown> = {};
    if (query.resourceType) where.resourceType = query.resourceType;
    if (query.resourceId) where.resourceId = query.resourceId;
    if (query.before) where.id = { $lt: query.before };
    const items = await em.find(AuditEntryEntity, where, { orderBy: { id: 'desc' }, limit: query.limit + 1 });
    const more = items.length > query.limit;
    if (more) items.pop();
    return { items, nextCursor: more ? items.at(-1)!.id : null };
  }
}
