import { Injectable } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { FastifyInstance } from 'fastify';
import { CSRF_HEADER, SESSION_COOKIE, type ConsoleSession } from '../../../platform/security/console-sessions.js';

export interface ApiAnswer<T = any> {
  status: number;
  body: T;
}

/** What the API refused or failed, with its problem's words, for the page to show. */
export class ApiRefusal extends Error {
  constructor(
    readonly status: number,
    readonly detail: string,
  ) {
    super(detail);
  }
}

/**
 * The console is a client of the service's own API, called in-process with the signed-in person's session: every
 * page shows only what the API lets that person read, and every action is the API's, checked by the same guard and
 * audited in the same place. The console itself reads no table.
 */
@Injectable()
export class ConsoleApi {
  constructor(private readonly adapterHost: HttpAdapterHost) {}

  async call<T = any>(session: { id: string; session: ConsoleSession }, method: 'GET' | 'POST' | 'PUT', url: string, body?: unknown): Promise<ApiAnswer<T>> {
    const fastify = this.adapterHost.httpAdapter.getInstance<FastifyInstance>();
    const headers: Record<string, string> = { cookie: `${SESSION_COOKIE}=${session.id}` };
    if (method !== 'GET') {
      headers[CSRF_HEADER] = session.session.csrfToken;
      headers['content-type'] = 'application/json';
    }
    const answer = await fastify.inject({ method, url, headers, payload: body === undefined ? undefined : JSON.stringify(body ?? {}) });
    let parsed: unknown;
    try {
      parsed = answer.body ? JSON.parse(answer.body) : undefined;
    } catch {
      parsed = answer.body;
    }
    return { status: answer.statusCode, body: parsed as T };
  }

  /** The answer's body when it is a success; otherwise an ApiRefusal with the problem's detail. */
  async get<T = any>(session: { id: string; session: ConsoleSession }, url: string): Promise<T> {
    return ok(await this.call<T>(session, 'GET', url));
  }

  async post<T = any>(session: { id: string; session: ConsoleSession }, url: string, body: unknown = {}): Promise<T> {
    return ok(await this.call<T>(session, 'POST', url, body));
  }
}

function ok<T>(answer: ApiAnswer<T>): T {
  if (answer.status < 300) return answer.body;
  const problem = answer.body as { detail?: string; title?: string; errors?: Array<{ field: string; message: string }> } | undefined;
  const detail = problem?.errors?.length ? problem.errors.map((e) => e.message).join('; ') : (problem?.detail ?? problem?.title ?? `HTTP ${answer.status}`);
  throw new ApiRefusal(answer.status, detail);
}
