import { createHash, timingSafeEqual } from 'node:crypto';
import { Inject, Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { FastifyRequest } from 'fastify';
import { problems } from '../http/problem.js';
import { ApiKeys, type AuthenticatedKey } from './api-keys.js';
import { ConsoleSessions, cookieValue, type ConsoleSessionSettings, CSRF_HEADER, csrfMatches, SESSION_COOKIE, type ConsoleSession } from './console-sessions.js';
import { ACCESS_METADATA, type AccessRule } from './principal.js';
import { Instances } from './instances.js';
import { TokenBucketLimiter } from './rate-limiter.js';

export const SECURITY_SETTINGS = Symbol('SECURITY_SETTINGS');
export interface SecuritySettings {
  adminToken: string;
  apiKeyRateLimit: { perSecond: number; burst: number };
  consoleSession: ConsoleSessionSettings;
}

const ACTOR_SHAPE = /^[A-Za-z0-9._@+-]{1,64}$/;

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * The one gate of every route: `@Access('public')`, `@Access({ scopes })` for channel and source keys,
 * and admin-only for everything else. Authenticated keys are rate limited per key. A request without a
 * bearer token may come from the console's session cookie instead: it speaks for whoever signed in, and one
 * that changes anything must carry the session's CSRF token in `X-CSRF-Token`.
 */
@Injectable()
export class AuthGuard implements CanActivate {
  private readonly adminTokenHash: Buffer;
  private readonly limiter: TokenBucketLimiter;

  constructor(
    private readonly reflector: Reflector,
    private readonly apiKeys: ApiKeys,
    private readonly sessions: ConsoleSessions,
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
    if (token === undefined) {
      const sessionId = request.headers.authorization === undefined ? cookieValue(request.headers.cookie, SESSION_COOKIE) : undefined;
      if (sessionId === undefined) throw problems.unauthorized('Send Authorization: Bearer <token>');
      return this.sessions.resolve(sessionId).then((session) => this.admitSession(request, session, rule));
    }

    if (rule === 'admin' || (rule.orAdmin && timingSafeEqual(sha256(token), this.adminTokenHash))) {
      if (!timingSafeEqual(sha256(token), this.adminTokenHash)) return this.refuseAdmin(token);
      const actor = request.headers['x-actor'];
      request.principal = { type: 'admin', actor: typeof actor === 'string' && ACTOR_SHAPE.test(actor) ? `admin:${actor}` : 'admin' };
      return true;
    }

    const key = this.apiKeys.authenticate(token);
    return key instanceof Promise ? key.then((k) => this.admitKey(request, k, rule.scopes)) : this.admitKey(request, key, rule.scopes);
  }

  private admitSession(request: FastifyRequest, session: ConsoleSession | undefined, rule: Exclude<AccessRule, 'public'>): boolean {
    if (!session) throw problems.unauthorized('The console session has ended; sign in again');
    if (!SAFE_METHODS.has(request.method) && !csrfMatches(session, request.headers[CSRF_HEADER])) throw problems.forbidden(`A change made with a console session needs its CSRF token in ${CSRF_HEADER}`);
    const principal = session.principal;
    if (principal.type === 'admin') {
      if (rule !== 'admin' && !rule.orAdmin) throw problems.forbidden('This endpoint is for API keys of its scopes');
      request.principal = principal;
      return true;
    }
    if (rule === 'admin') throw problems.forbidden('This endpoint needs the admin token, not an API key');
    return this.admitKey(request, { ...principal, keyId: principal.keyId, scopes: principal.scopes }, rule.scopes);
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
