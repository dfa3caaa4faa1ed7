import { Injectable, type PipeTransform } from '@nestjs/common';
import { problems } from '../../../platform/http/problem.js';
import type { Principal } from '../../../platform/security/principal.js';
import { ROUTING_DOMAINS, type RoutingDomain } from '../domain/routing.js';
import { RESOURCE_ID } from './resources.dto.js';

/** Resource ids in paths: letters, digits, `.`, `_`, `-`; up to 64 characters. */
@Injectable()
export class ResourceIdPipe implements PipeTransform<string, string> {
  transform(value: string): string {
    if (!RESOURCE_ID.test(value)) {
      throw problems.validation([{ field: 'id', message: 'id must be 1-64 letters, digits, ".", "_" or "-", starting with a letter or digit' }]);
    }
    return value;
  }
}

@Injectable()
export class RoutingDomainPipe implements PipeTransform<string, RoutingDomain> {
  transform(value: string): RoutingDomain {
    if (!(ROUTING_DOMAINS as readonly string[]).includes(value)) {
      throw problems.validation([{ field: 'domain', message: `domain must be one of ${ROUTING_DOMAINS.join(', ')}` }]);
    }
    return value as RoutingDomain;
  }
}

export function actorOf(principal: Principal): string {
  return principal.type === 'admin' ? principal.actor : `${principal.type}:${principal.id}`;
}
