import { createParamDecorator, SetMetadata, type ExecutionContext } from '@nestjs/common';
import type { PrincipalType } from './api-key.entity.js';
import { problems } from '../http/problem.js';
import type { Scope } from './scopes.js';

/** Who made the request: the admin, or a channel or source system through one of its API keys. */
export type Principal =
  | { type: 'admin'; actor: string }
  | { type: PrincipalType; id: string; keyId: string; scopes: readonly string[] };

/** `orAdmin`: the admin token is accepted too (operators reading or acting on any channel's data). */
export type AccessRule = 'public' | 'admin' | { scopes: readonly Scope[]; orAdmin?: boolean };
export const ACCESS_METADATA = 'crossdock:access';

/** Declares who may call a route; a route without it is admin-only. */
export const Access = (rule: AccessRule) => SetMetadata(ACCESS_METADATA, rule);

declare module 'fastify' {
  interface FastifyRequest {
    principal?: Principal;
  }
}

export const CurrentPrincipal = createParamDecorator((_: unknown, ctx: ExecutionContext): Principal => {
  const principal = ctx.switchToHttp().getRequest<{ principal?: Principal }>().principal;
  if (!principal) throw new Error('CurrentPrincipal used on a route without authentication');
  return principal;
});

/** Who did it, for the audit log: the admin's name, or the key's principal. */
export function actorOf(principal: Principal): string {
  return principal.type === 'admin' ? principal.actor : `${principal.type}:${principal.id}`;
}

/**
 * The source system a request speaks for, as inboxes and its records name it (`source:<id>`); any other
 * principal is refused with `refusal`.
 */
export function sourceOf(principal: Principal, refusal: string): string {
  if (principal.type !== 'source') throw problems.forbidden(refusal);
  return actorOf(principal);
}
