import { isDeepStrictEqual } from 'node:util';
import { Injectable } from '@nestjs/common';
import { QueryBus } from '@nestjs/cqrs';
import { ForeignKeyConstraintViolationException, LockMode, MikroORM, UniqueConstraintViolationException, type EntityManager } from '@mikro-orm/postgresql';
import { AuditLog } from '../../platform/audit/audit-log.js';
import { problems } from '../../platform/http/problem.js';
import type { PutResult } from '../../platform/http/resource-id.js';
import { ApiKeys, type KeyPrincipal } from '../../platform/security/api-keys.js';
import { SecretBox } from '../../platform/security/secret-box.js';
import { BackendRoutesQuery } from '../migration-coexistence/index.js';
import type { ChannelDto, DelayObjectiveDto, ErpBackendDto, OperatorDto, ReconcileDto, SourceDto } from './api/resources.dto.js';
import type { ReconcileSchedules } from '../../platform/reconciliation/reconcilers.js';
import type { DelayObjective } from '../../platform/delivery/delay-objectives.js';
import { maskSecrets, restoreMaskedSecrets, transformSecrets } from './domain/secrets.js';
import { ChannelEntity } from './entities/channel.entity.js';
import { ErpBackendEntity } from './entities/erp-backend.entity.js';
import { SourceSystemEntity } from './entities/source-system.entity.js';
import { OperatorEntity } from './entities/operator.entity.js';
import { OPS_SCOPES } from '../../platform/security/scopes.js';
import { connectorConfigErrors, secretsOf } from './resource-validation.js';
import { ChannelDirectory } from './channel-directory.js';

type Entity = ErpBackendEntity | ChannelEntity | SourceSystemEntity | OperatorEntity;
type Constructor<E> = new () => E;

/** How one kind of configured resource is stored and shown; the store logic is the same for all. */
interface Resource<E extends Entity, D> {
  type: 'erp-backend' | 'channel' | 'source' | 'operator';
  label: string;
  entity: Constructor<E>;
  /** The stored fields for a validated body, given what is stored now (to keep masked secrets). */
  content(id: string, dto: D, stored: E | null): Record<string, unknown>;
  view(entity: E): Record<string, unknown>;
}


function connectorContent(resource: 'erp-backend' | 'channel', id: string, dto: { kind: string; config: Record<string, unknown> }, stored: { kind: string; config: Record<string, unknown> } | null) {
  const secretFields = secretsOf(resource, dto.kind);
  const { config, unresolved } = restoreMaskedSecrets(dto.config, stored?.kind === dto.kind ? stored.config : undefined, secretFields);
  const errors = [
    ...connectorConfigErrors(resource, dto.kind, config),
    ...unresolved.map((field) => ({ field: `config.${field}`, message: `config.${field} is masked but ${id} has no stored value to keep` })),
  ];
  if (errors.length > 0) throw problems.validation(errors);
  return config;
}

/** A delay objective as stored: plain data, the fields given and nothing else (null: none). */
/** Reconciliation schedules as stored: the domains given, each with its interval only (null: none). */
function reconcileSchedules(reconcile: ReconcileDto | undefined): ReconcileSchedules | null {
  if (!reconcile) return null;
  const entries = Object.entries(reconcile).filter(([, schedule]) => schedule !== undefined) as Array<[string, { intervalMinutes: number }]>;
  return Object.fromEntries(entries.map(([domain, { intervalMinutes }]) => [domain, { intervalMinutes }]));
}

function delayObjective(slo: DelayObjectiveDto | undefined): DelayObjective | null {
  if (!slo) return null;
  return {
    ...(slo.maxAgeSeconds !== undefined ? { maxAgeSeconds: slo.maxAgeSeconds } : {}),
    ...(slo.flows ? { flows: Object.fromEntries(Object.entries(slo.flows).map(([flow, { maxAgeSeconds }]) => [flow, { maxAgeSeconds }])) } : {}),
  };
}

const ERP_BACKEND: Resource<ErpBackendEntity, ErpBackendDto> = {
  type: 'erp-backend',
  label: 'ERP backend',
  entity: ErpBackendEntity,
  content: (id, dto, stored) => ({
    kind: dto.kind,
    role: dto.role,
    config: connectorContent('erp-backend', id, dto, stored),
    limits: { ...dto.limits },
    maintenanceWindows: (dto.maintenanceWindows ?? []).map((w) => ({ ...w })),
    slo: delayObjective(dto.slo),
    reconcile: reconcileSchedules(dto.reconcile),
  }),
  view: (e) => ({
    id: e.id, kind: e.kind, role: e.role, config: maskSecrets(e.config, secretsOf('erp-backend', e.kind)),
    limits: e.limits, maintenanceWindows: e.maintenanceWindows, slo: e.slo, reconcile: e.reconcile, createdAt: e.createdAt, updatedAt: e.updatedAt,
  }),
};

const CHANNEL: Resource<ChannelEntity, ChannelDto> = {
  type: 'channel',
  label: 'Channel',
  entity: ChannelEntity,
  content: (id, dto, stored) => ({
    name: dto.name ?? null,
    kind: dto.kind,
    config: connectorContent('channel', id, dto, stored),
    inventory: { ...dto.inventory },
    oversell: dto.oversell,
    pricing: dto.pricing ? { ...dto.pricing } : null,
    limits: dto.limits ? { ...dto.limits } : null,
    slo: delayObjective(dto.slo),
    reconcile: reconcileSchedules(dto.reconcile),
  }),
  view: (e) => ({
    id: e.id, name: e.name, kind: e.kind, config: maskSecrets(e.config, secretsOf('channel', e.kind)),
    inventory: e.inventory, oversell: e.oversell, pricing: e.pricing, limits: e.limits, slo: e.slo, reconcile: e.reconcile, createdAt: e.createdAt, updatedAt: e.updatedAt,
  }),
};

const SOURCE: Resource<SourceSystemEntity, SourceDto> = {
  type: 'source',
  label: 'Source system',
  entity: SourceSystemEntity,
  content: (_id, dto) => ({ name: dto.name, kind: dto.kind ?? null, erpBackend: dto.erpBackend ?? null }),
  view: (e) => ({ id: e.id, name: e.name, kind: e.kind, erpBackend: e.erpBackend, createdAt: e.createdAt, updatedAt: e.updatedAt }),
};

const OPERATOR: Resource<OperatorEntity, OperatorDto> = {
  type: 'operator',
  label: 'Operator',
  entity: OperatorEntity,
  content: (_id, dto) => ({ name: dto.name }),
  view: (e) => ({ id: e.id, name: e.name, createdAt: e.createdAt, updatedAt: e.updatedAt }),
};

/** The stored configuration: ERP backends, channels, sources, operators and API keys, every change audited. */
@Injectable()
export class ConfigurationService {
  readonly erpBackends = this.store(ERP_BACKEND);
  readonly channels = this.store(CHANNEL);
  readonly sources = this.store(SOURCE);
  readonly operators = this.store(OPERATOR);

  constructor(
    private readonly orm: MikroORM,
    private readonly audit: AuditLog,
    private readonly apiKeys: ApiKeys,
    private readonly queries: QueryBus,
    private readonly box: SecretBox,
    private readonly channelDirectory: ChannelDirectory,
  ) {}

  /** A copy of a resource (or its new content) with its connector's secret fields passed through `transform`. */
  private secrets<T extends object>(type: Resource<Entity, unknown>['type'], resource: T, transform: (value: string) => string): T {
    const { kind, config } = resource as { kind?: string; config?: Record<string, unknown> };
    if (type === 'source' || type === 'operator' || kind === undefined || config === undefined) return { ...resource };
    return { ...resource, config: transformSecrets(config, secretsOf(type, kind), transform) };
  }

  /**
   * Seals every stored connector secret under the current key: after a key rotation (every instance given the
   * new key, the old one in CROSSDOCK_SECRET_KEY_PREVIOUS), or once a key is first set. Audited; counts answered.
   */
  async rotateSecrets(actor: string): Promise<{ resealed: number; resources: number }> {
    if (!this.box.encrypting) throw problems.conflict('CROSSDOCK_SECRET_KEY is not set: there is no key to seal secrets with');
    return this.transaction(async (em) => {
      let resealed = 0;
      let resources = 0;
      for (const [type, entity] of [['erp-backend', ErpBackendEntity], ['channel', ChannelEntity]] as const) {
        for (const stored of await em.find(entity as typeof ErpBackendEntity, {}, { lockMode: LockMode.PESSIMISTIC_WRITE })) {
          const fields = secretsOf(type, stored.kind).filter((f) => typeof stored.config[f] === 'string' && !this.box.isCurrent(stored.config[f]));
          if (fields.length === 0) continue;
          stored.config = transformSecrets(stored.config, fields, (v) => this.box.seal(this.box.open(v)));
          resealed += fields.length;
          resources++;
        }
      }
      this.audit.record(em, { actor, action: 'rotate-secrets', resourceType: 'secrets', resourceId: 'connector-config', before: null, after: { resealed, resources } });
      return { resealed, resources };
    });
  }

  private store<E extends Entity, D>(resource: Resource<E, D>) {
    const principal = resource.type === 'erp-backend' ? undefined : (id: string): KeyPrincipal => ({ type: resource.type as KeyPrincipal['type'], id });
    return {
      list: async () => (await this.orm.em.fork().find(resource.entity, {}, { orderBy: { id: 'asc' } as never })).map(resource.view),
      get: async (id: string) => {
        const entity = await this.orm.em.fork().findOne(resource.entity, { id } as never);
        if (!entity) throw problems.notFound(`${resource.label} "${id}"`);
        return resource.view(entity);
      },
      put: (id: string, dto: D, actor: string): Promise<PutResult> =>
        this.transaction(async (em) => {
          const stored = await em.findOne(resource.entity, { id } as never, { lockMode: LockMode.PESSIMISTIC_WRITE });
          // Compared and merged in the clear; stored sealed. The entity itself is never given a clear secret.
          const current = stored ? this.secrets(resource.type, stored, (v) => this.box.open(v)) : null;
          const content = resource.content(id, dto, current as E | null);
          const before = stored ? resource.view(stored) : null;
          if (current && isDeepStrictEqual(pick(current, Object.keys(content)), content)) {
            return { created: false, changed: false, view: before! };
          }
          const entity = stored ?? em.create(resource.entity, { id, createdAt: new Date() } as never);
          Object.assign(entity, this.secrets(resource.type, content as Partial<E>, (v) => this.box.seal(v)), { updatedAt: new Date() });
          em.persist(entity);
          const after = resource.view(entity);
          this.audit.record(em, { actor, action: stored ? 'update' : 'create', resourceType: resource.type, resourceId: id, before, after });
          return { created: !stored, changed: true, view: after };
        }).finally(() => this.forget(resource.type, id)),
      delete: async (id: string, actor: string): Promise<void> => {
        const revoked = await this.transaction(async (em) => {
          const stored = await em.findOne(resource.entity, { id } as never, { lockMode: LockMode.PESSIMISTIC_WRITE });
          if (!stored) throw problems.notFound(`${resource.label} "${id}"`);
          if (resource.type === 'erp-backend') {
            const routed = await this.queries.execute(new BackendRoutesQuery(id));
            if (routed.length > 0) throw problems.conflict(`ERP backend "${id}" is routed for ${routed.join(', ')}; route those domains elsewhere first`);
          }
          const prefixes = principal ? await this.apiKeys.revokeAll(em, principal(id)) : [];
          em.remove(stored);
          this.audit.record(em, { actor, action: 'delete', resourceType: resource.type, resourceId: id, before: resource.view(stored), after: null });
          return prefixes;
        }).catch((error: unknown) => {
          // A channel that took orders, or a backend they went to, stays: those records name it.
          if (error instanceof ForeignKeyConstraintViolationException) throw problems.conflict(`${resource.label} "${id}" is still referred to by its orders or other records, so it cannot be deleted`);
          throw error;
        });
        this.apiKeys.forget(revoked);
        this.forget(resource.type, id);
      },
    };
  }

  /** A change takes effect at once in this instance: its cached copy goes. */
  private forget(type: Resource<Entity, unknown>['type'], id: string): void {
    if (type === 'channel') this.channelDirectory.forget(id);
  }

  async issueApiKey(principal: KeyPrincipal, scopes: string[], name: string | null, actor: string) {
    // An operator's keys work the operations API and nothing else; no channel's or source's key does.
    const misplaced = scopes.filter((scope) => OPS_SCOPES.includes(scope as never) !== (principal.type === 'operator'));
    if (misplaced.length > 0) {
      throw problems.validation([{ field: 'scopes', message: principal.type === 'operator'
        ? `an operator's key carries only ${OPS_SCOPES.join(' and ')}, not ${misplaced.join(', ')}`
        : `${misplaced.join(', ')} belong to operators' keys (POST /v1/admin/operators/{id}/api-keys)` }]);
    }
    return this.transaction(async (em) => {
      await this.requirePrincipal(em, principal);
      const issued = this.apiKeys.issue(em, principal, scopes, name);
      this.audit.record(em, { actor, action: 'create', resourceType: 'api-key', resourceId: issued.view.id, before: null, after: { principal, ...issued.view } });
      return issued;
    });
  }

  async listApiKeys(principal: KeyPrincipal) {
    const em = this.orm.em.fork();
    await this.requirePrincipal(em, principal);
    return this.apiKeys.list(em, principal);
  }

  async revokeApiKey(principal: KeyPrincipal, keyId: string, actor: string) {
    const view = await this.transaction(async (em) => {
      await this.requirePrincipal(em, principal);
      const revoked = await this.apiKeys.revoke(em, principal, keyId);
      if (!revoked) throw problems.notFound(`API key "${keyId}" of ${principal.type} "${principal.id}"`);
      this.audit.record(em, { actor, action: 'revoke', resourceType: 'api-key', resourceId: keyId, before: null, after: { principal, ...revoked } });
      return revoked;
    });
    this.apiKeys.forget([view.prefix]);
    return view;
  }

  private async requirePrincipal(em: EntityManager, principal: KeyPrincipal): Promise<void> {
    const found = principal.type === 'channel' ? await em.findOne(ChannelEntity, { id: principal.id })
      : principal.type === 'operator' ? await em.findOne(OperatorEntity, { id: principal.id })
        : await em.findOne(SourceSystemEntity, { id: principal.id });
    if (!found) throw problems.notFound(`${principal.type === 'channel' ? 'Channel' : principal.type === 'operator' ? 'Operator' : 'Source system'} "${principal.id}"`);
  }

  /** Runs `work` in a transaction; two creations of one id race on the primary key, and the loser re-reads. */
  private async transaction<T>(work: (em: EntityManager) => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.orm.em.fork().transactional(work);
      } catch (error) {
        if (!(error instanceof UniqueConstraintViolationException) || attempt >= 3) throw error;
      }
    }
  }
}

function pick(entity: object, keys: string[]): Record<string, unknown> {
  return Object.fromEntries(keys.map((k) => [k, (entity as Record<string, unknown>)[k]]));
}
