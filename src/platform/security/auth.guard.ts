import { createHash, timingSafeEqual } from 'node:crypto';
import { Inject, Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { FastifyRequest } from 'fastify';
import { problems } from '../http/problem.js';
import { ApiKeys, type AuthenticatedKey } from './api-keys.js';
import { ACCESS_METADATA, type AccessRule } from './principal.js';
import { Instances } from './instances.js';
import { TokenBucketLimiter } from './rate-limiter.js';

export const SECURITY_SETTINGS = Symbol('SECURITY_SETTINGS');
export interface SecuritySettings {
  adminToken: string;
  apiKeyRateLimit: { perSecond: number; burst: number };
}

const ACTOR_SHAPE = /^[A-Za-z0-9._@+-]{1,64}$/;

/**
 * The one gate of every route: `@Access('public')`, `@Access({ scopes })` for channel and source keys,
 * and admin-only for everything else. Authenticated keys are rate limited per key.
 */
@Injectable()
export class AuthGuard implements CanActivate {
  private readonly adminTokenHash: Buffer;
  private readonly limiter: TokenBucketLimiter;

  constructor(
    private readonly reflector: Reflector,
    private readonly apiKeys: ApiKeys,
    @Inject(SECURITY_SETTINGS) settings: SecuritySettings,
    instances: Instances,
  ) {
    this.adminTokenHash = sha256(settings.adminToken);
    this.limiter = new TokenBucketLimiter(settings.apiKeyRateLimit.perSecond, settings.apiKeyRateLimit.burst, undefined, () => instances.apiShare());
  }

  canActivate(context: ExecutionContext): boolean | Promise<boolean> {
    const rule = this.reflector.getAllAndOverride<AccessRule | undefined>(ACCESS_METADATA, [context.getHandler(), context.getClass()]) ?? 'admin';
    if (rule === 'public') return true;
    const request = context.switchToHttp().getRequest<FastifyRequest>();
    const token = bearerToken(request.headers.authorization);
    if (token === undefined) throw problems.unauthorized('Send Authorization: Bearer <token>');

    if (rule === 'admin' || (rule.orAdmin && timingSafeEqual(sha256(token), this.adminTokenHash))) {
      if (!timingSafeEqual(sha256(token), this.adminTokenHash)) return this.refuseAdmin(token);
      const actor = request.headers['x-actor'];
      request.principal = { type: 'admin', actor: typeof actor === 'string' && ACTOR_SHAPE.test(actor) ? `admin:${actor}` : 'admin' };
      return true;
    }

    const key = this.apiKeys.authenticate(token);
    return key instanceof Promise ? key.then((k) => this.admitKey(request, k, rule.scopes)) : this.admitKey(request, key, rule.scopes);
  }

  private async refuseAdmin(token: string): Promise<never> {
    if (await this.apiKeys.authenticate(token)) throw problems.forbidden('This endpoint needs the admin token, not an API key');
    throw problems.unauthorized('The token is not valid');
  }

  private admitKey(request: FastifyRequest, key: AuthenticatedKey | undefined, scopes: readonly string[]): boolean {
    if (!key) throw problems.unauthorized('The API key is not valid or has been revoked');
    const wait = this.limiter.take(key.keyId);
    if (wait > 0) throw problems.rateLimited(wait);
    const missing = scopes.filter((scope) => !key.scopes.includes(scope));
    if (missing.length > 0) throw problems.forbidden(`This API key lacks the scope${missing.length > 1 ? 's' : ''} ${missing.join(', ')}`);
    request.principal = key;
    return true;
  }
}

function bearerToken(header: string | undefined): string | undefined {
  if (header === undefined) return undefined;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return match?.[1];
}

function sha256(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}
