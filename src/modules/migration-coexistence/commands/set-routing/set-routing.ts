import { isDeepStrictEqual } from 'node:util';
import { Command, CommandHandler, QueryBus, type ICommandHandler } from '@nestjs/cqrs';
import { LockMode, MikroORM, UniqueConstraintViolationException } from '@mikro-orm/postgresql';
import { AuditLog } from '../../../../platform/audit/audit-log.js';
import { problems } from '../../../../platform/http/problem.js';
import type { PutResult } from '../../../../platform/http/resource-id.js';
import { ErpBackendQuery } from '../../../configuration/index.js';
import { routingProblems, type RoutingDomain, type RoutingRule } from '../../domain/routing.js';
import { RoutingEntity } from '../../entities/routing.entity.js';

/** Routes a domain to its ERP backend(s), audited; takes effect for messages made after it commits. */
export class SetRoutingCommand extends Command<PutResult> {
  constructor(
    readonly domain: RoutingDomain,
    readonly rule: RoutingRule,
    readonly actor: string,
  ) {
    super();
  }
}

export const routingView = (r: RoutingEntity) => ({ domain: r.domain, mode: r.mode, primary: r.primary, shadow: r.shadow, updatedAt: r.updatedAt });

@CommandHandler(SetRoutingCommand)
export class SetRoutingHandler implements ICommandHandler<SetRoutingCommand, PutResult> {
  constructor(
    private readonly orm: MikroORM,
    private readonly audit: AuditLog,
    private readonly queries: QueryBus,
  ) {}

  async execute({ domain, rule, actor }: SetRoutingCommand): Promise<PutResult> {
    const ids = [rule.primary, rule.shadow].filter((v): v is string => !!v);
    const backends = await Promise.all(ids.map((id) => this.queries.execute(new ErpBackendQuery(id))));
    const roles = new Map(backends.filter((b) => b !== null).map((b) => [b.id, b.role]));
    const invalid = routingProblems(rule, (id) => roles.get(id));
    if (invalid.length > 0) throw problems.validation(invalid);
    // A backend deleted meanwhile is caught by the routing table's foreign keys; two first writes of one
    // domain race on its primary key, and the loser runs again as an update.
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.write(domain, rule, actor);
      } catch (error) {
        if (!(error instanceof UniqueConstraintViolationException) || attempt >= 3) throw error;
      }
    }
  }

  private write(domain: RoutingDomain, rule: RoutingRule, actor: string): Promise<PutResult> {
    return this.orm.em.fork().transactional(async (em) => {
      const stored = await em.findOne(RoutingEntity, { domain }, { lockMode: LockMode.PESSIMISTIC_WRITE });
      const content = { mode: rule.mode, primary: rule.primary, shadow: rule.shadow ?? null };
      const before = stored ? routingView(stored) : null;
      if (stored && isDeepStrictEqual({ mode: stored.mode, primary: stored.primary, shadow: stored.shadow }, content)) return { created: false, changed: false, view: before! };
      const entity = stored ?? em.create(RoutingEntity, { domain, ...content, updatedAt: new Date() });
      Object.assign(entity, content, { updatedAt: new Date() });
      em.persist(entity);
      const after = routingView(entity);
      this.audit.record(em, { actor, action: stored ? 'update' : 'create', resourceType: 'routing', resourceId: domain, before, after });
      return { created: !stored, changed: true, view: after };
    });
  }
}
