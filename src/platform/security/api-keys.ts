import { randomUUID, timingSafeEqual } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { OutboxSignals } from '../outbox/outbox-signals.js';
import { MikroORM } from '@mikro-orm/postgresql';
import type { EntityManager } from '@mikro-orm/postgresql';
import { ApiKeyEntity, type PrincipalType } from './api-key.entity.js';
import { generateApiKey, parseApiKey, secretsEqual } from './api-key-format.js';

export interface KeyPrincipal {
  type: PrincipalType;
  id: string;
}

export interface AuthenticatedKey extends KeyPrincipal {
  keyId: string;
  scopes: readonly string[];
}

export interface ApiKeyView {
  id: string;
  name: string | null;
  prefix: string;
  scopes: string[];
  createdAt: Date;
  revokedAt: Date | null;
}

interface CachedKey {
  entity: Pick<ApiKeyEntity, 'id' | 'principalType' | 'principalId' | 'secretHash' | 'scopes' | 'revokedAt'> | null;
  expiresAt: number;
  /** The secret once it has matched the hash, so that later requests compare bytes instead of hashing. */
  verified?: Buffer;
  principal?: AuthenticatedKey;
}

// Keys are looked up by prefix once per CACHE_TTL_MS per instance; a revocation applies at once on this
// instance, and on the others as soon as they hear its NOTIFY (within the TTL should a notification be lost).
const CACHE_TTL_MS = 10_000;
const CACHE_MAX_ENTRIES = 10_000;

@Injectable()
export class ApiKeys {
  private readonly cache = new Map<string, CachedKey>();
  /**
   * Lookups under way, by prefix: the requests that find a key's entry expired at the same moment (every
   * connection of a busy channel, once per TTL) wait for one lookup instead of each taking a pooled connection.
   */
  private readonly lookups = new Map<string, Promise<CachedKey>>();
  /** Moves on at every drop: a lookup that began before a revocation does not cache what it read. */
  private generation = 0;

  constructor(
    private readonly orm: MikroORM,
    private readonly signals: OutboxSignals,
  ) {
    signals.on('keys', (prefixes) => (prefixes ? this.drop(prefixes) : this.dropAll()));
  }

  /** Creates a key for `principal`; the returned `key` is the only time the secret exists outside the caller. */
  issue(em: EntityManager, principal: KeyPrincipal, scopes: string[], name: string | null) {
    const generated = generateApiKey();
    const entity = em.create(ApiKeyEntity, {
      id: randomUUID(),
      principalType: principal.type,
      principalId: principal.id,
      name,
      prefix: generated.prefix,
      secretHash: generated.secretHash,
      scopes: [...new Set(scopes)],
      createdAt: new Date(),
      revokedAt: null,
    });
    em.persist(entity);
    return { key: generated.key, view: toView(entity) };
  }

  async list(em: EntityManager, principal: KeyPrincipal): Promise<ApiKeyView[]> {
    const keys = await em.find(
      ApiKeyEntity,
      { principalType: principal.type, principalId: principal.id },
      { orderBy: { createdAt: 'asc' } },
    );
    return keys.map(toView);
  }

  /** Revokes one key of `principal`; undefined when it has no such key. Idempotent. */
  async revoke(em: EntityManager, principal: KeyPrincipal, keyId: string): Promise<ApiKeyView | undefined> {
    const entity = await em.findOne(ApiKeyEntity, { id: keyId, principalType: principal.type, principalId: principal.id });
    if (!entity) return undefined;
    entity.revokedAt ??= new Date();
    this.drop([entity.prefix]);
    return toView(entity);
  }

  /** Revokes every key of a principal that is being removed. */
  async revokeAll(em: EntityManager, principal: KeyPrincipal): Promise<string[]> {
    const keys = await em.find(ApiKeyEntity, { principalType: principal.type, principalId: principal.id, revokedAt: null });
    for (const key of keys) key.revokedAt = new Date();
    this.drop(keys.map((key) => key.prefix));
    return keys.map((key) => key.prefix);
  }

  /** Drops cached lookups; callers call it again after the transaction that revoked the keys commits. */
  forget(prefixes: readonly string[]): void {
    this.drop(prefixes);
    // Every other instance drops them too.
    if (prefixes.length > 0) this.signals.committed('keys', prefixes);
  }

  private drop(prefixes: readonly string[]): void {
    this.generation++;
    for (const presented of prefixes) {
      const prefix = presented.replace(/^cdk_/, '');
      this.cache.delete(prefix);
      this.lookups.delete(prefix);
    }
  }

  private dropAll(): void {
    this.generation++;
    this.cache.clear();
    this.lookups.clear();
  }

  /**
   * The principal of a presented key, or undefined when the key is malformed, unknown, wrong or revoked.
   * Answers synchronously while the key's row is cached (the hot path), with a promise otherwise.
   */
  authenticate(presented: string): AuthenticatedKey | undefined | Promise<AuthenticatedKey | undefined> {
    const parsed = parseApiKey(presented);
    if (!parsed) return undefined;
    const cached = this.cache.get(parsed.prefix);
    if (cached && cached.expiresAt > Date.now()) return this.verify(cached, parsed.secret);
    let lookup = this.lookups.get(parsed.prefix);
    if (!lookup) {
      lookup = this.lookup(parsed.prefix).finally(() => {
        if (this.lookups.get(parsed.prefix) === lookup) this.lookups.delete(parsed.prefix);
      });
      this.lookups.set(parsed.prefix, lookup);
    }
    return lookup.then((entry) => this.verify(entry, parsed.secret));
  }

  private verify(entry: CachedKey, secret: string): AuthenticatedKey | undefined {
    const entity = entry.entity;
    if (!entity || entity.revokedAt !== null) return undefined;
    if (entry.verified && entry.principal) {
      const presented = Buffer.from(secret);
      return presented.length === entry.verified.length && timingSafeEqual(presented, entry.verified) ? entry.principal : undefined;
    }
    if (!secretsEqual(secret, entity.secretHash)) return undefined;
    entry.verified = Buffer.from(secret);
    entry.principal = { type: entity.principalType, id: entity.principalId, keyId: entity.id, scopes: entity.scopes };
    return entry.principal;
  }

  private async lookup(prefix: string): Promise<CachedKey> {
    const now = Date.now();
    const generation = this.generation;
    const entity = await this.orm.em.fork().findOne(ApiKeyEntity, { prefix }, { fields: ['id', 'principalType', 'principalId', 'secretHash', 'scopes', 'revokedAt'] });
    const entry: CachedKey = { entity, expiresAt: now + CACHE_TTL_MS };
    if (generation !== this.generation) return entry;
    if (this.cache.size >= CACHE_MAX_ENTRIES) this.cache.clear();
    this.cache.set(prefix, entry);
    return entry;
  }
}

function toView(entity: ApiKeyEntity): ApiKeyView {
  return {
    id: entity.id,
    name: entity.name,
    prefix: `cdk_${entity.prefix}`,
    scopes: entity.scopes,
    createdAt: entity.createdAt,
    revokedAt: entity.revokedAt,
  };
}
