import { Injectable, type PipeTransform } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { problems } from './problem.js';

/** The ids of configured things (ERP backends, channels, sources): letters, digits, `.`, `_`, `-`; up to 64. */
export const RESOURCE_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/** Resource ids in paths. */
@Injectable()
export class ResourceIdPipe implements PipeTransform<string, string> {
  transform(value: string): string {
    if (!RESOURCE_ID.test(value)) {
      throw problems.validation([{ field: 'id', message: 'id must be 1-64 letters, digits, ".", "_" or "-", starting with a letter or digit' }]);
    }
    return value;
  }
}

/** What a create-or-replace did: PUT answers 201 when it created the resource, 200 when it replaced or confirmed it. */
export interface PutResult {
  created: boolean;
  changed: boolean;
  view: Record<string, unknown>;
}

export function answerPut(reply: FastifyReply, result: PutResult) {
  void reply.status(result.created ? 201 : 200);
  return result.view;
}
