import { isDeepStrictEqual } from 'node:util';
import { Inject } from '@nestjs/common';
import type pg from 'pg';
import { PG_POOL } from '../../../../platform/database/pg-pool.js';
import { Command, CommandHandler, QueryBus, type ICommandHandler } from '@nestjs/cqrs';
import { LockMode, MikroORM, UniqueConstraintViolationException } from '@mikro-orm/postgresql';
import { AuditLog } from '../../../../platform/audit/audit-log.js';
import { problems } from '../../../../platform/http/problem.js';
import type { PutResult } from '../../../../platform/http/resource-id.js';
import { ErpBackendQuery } from '../../../configuration/index.js';
import { routingProblems, type RoutingDomain, type RoutingRule } from '../../domain/routing.js';
import { RoutingEntity } from '../../entities/routing.entity.js';
import { CoexistenceReport } from '../../queries/report/coexistence-report.js';

/** Routes a domain to its ERP backend(s), audited; takes effect for messages made after it commits. */
export class SetRoutingCommand extends Command<PutResult> {
  constructor(
    readonly domain: RoutingDomain,
    readonly rule: RoutingRule,
    readonly actor: string,
    /** Switch to the cloud ERP even though the domain's readiness is not met (audited as forced). */
    readonly force = false,
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
    private readonly report: CoexistenceReport,
    @Inject(PG_POOL) private readonly pool: pg.Pool,
  ) {}

  async execute({ domain, rule, actor, force }: SetRoutingCommand): Promise<PutResult> {
    const ids = [rule.primary, rule.shadow].filter((v): v is string => !!v);
    const backends = await Promise.all(ids.map((id) => this.queries.execute(new ErpBackendQuery(id))));
    const roles = new Map(backends.filter((b) => b !== null).map((b) => [b.id, b.role]));
    const invalid = routingProblems(rule, (id) => roles.get(id));
    if (invalid.length > 0) throw problems.validation(invalid);
    const forced = await this.readinessGate(domain, rule, force);
    // A backend deleted meanwhile is caught by the routing table's foreign keys; two first writes of one
    // domain race on its primary key, and the loser runs again as an update.
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.write(domain, rule, actor, forced);
      } catch (error) {
        if (!(error instanceof UniqueConstraintViolationException) || attempt >= 3) throw error;
      }
    }
  }

  /**
   * A switch of the domain to the cloud ERP, where the team set a readiness rule, while the rule is not met is
   * refused (409 with the figures) unless forced; answers the verdict a forced switch overrode.
   */
  private async readinessGate(domain: RoutingDomain, rule: RoutingRule, force: boolean): Promise<{ reason: string } | undefined> {
    if (rule.mode !== 'cloud') return undefined;
    const em = this.orm.em.fork();
    const current = await em.findOne(RoutingEntity, { domain });
    if (current?.mode === 'cloud' && current.primary === rule.primary) return undefined;
    const readiness = await this.report.readinessRule(this.pool, domain);
    if (!readiness) return undefined;
    const verdict = await this.report.verdict(this.pool, domain, readiness);
    if (verdict.ready) return undefined;
    if (!force) {
      throw problems.conflict(`${domain} is not ready for the cloud ERP: ${verdict.reason}; switch with force: true to go anyway`, { readiness: { ...readiness, ...verdict } });
    }
    return { reason: verdict.reason };
  }

  private write(domain: RoutingDomain, rule: RoutingRule, actor: string, forced?: { reason: string }): Promise<PutResult> {
    return this.orm.em.fork().transactional(async (em) => {
      const stored = await em.findOne(RoutingEntity, { domain }, { lockMode: LockMode.PESSIMISTIC_WRITE });
      const content = { mode: rule.mode, primary: rule.primary, shadow: rule.shadow ?? null };
      const before = stored ? routingView(stored) : null;
      if (stored && isDeepStrictEqual({ mode: stored.mode, primary: stored.primary, shadow: stored.shadow }, content)) return { created: false, changed: false, view: before! };
      const entity = stored ?? em.create(RoutingEntity, { domain, ...content, updatedAt: new Date() });
      Object.assign(entity, content, { updatedAt: new Date() });
      em.persist(entity);
      const after = routingView(entity);
      this.audit.record(em, { actor, action: stored ? 'update' : 'create', resourceType: 'routing', resourceId: domain, before, after: forced ? { ...after, forced: forced.reason } : after });
      return { created: !stored, changed: true, view: after };
    });
  }
}
