import { HttpException, HttpStatus } from '@nestjs/common';
import { isDatabaseUnavailable } from '../database/database-errors.js';
import type { FieldError } from './field-errors.js';

export { isDatabaseUnavailable };

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';
const TYPE_BASE = 'urn:crossdock:problem:';

/** An RFC 9457 problem details document. */
export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  instance?: string;
  correlationId?: string;
  errors?: FieldError[];
  [extension: string]: unknown;
}

/** Thrown anywhere to answer with a specific problem; `slug` becomes the end of its `type`. */
export class ProblemException extends HttpException {
  constructor(status: number, slug: string, title: string, detail: string, extensions: Record<string, unknown> = {}) {
    super({ type: TYPE_BASE + slug, title, status, detail, ...extensions } satisfies Problem, status);
  }

  get problem(): Problem {
    return this.getResponse() as Problem;
  }
}

export const problems = {
  validation: (errors: FieldError[], detail?: string) =>
    new ProblemException(
      HttpStatus.BAD_REQUEST,
      'validation',
      'The request is not valid',
      detail ?? `${errors.length} field${errors.length === 1 ? ' is' : 's are'} invalid: ${[...new Set(errors.map((e) => e.field))].join(', ')}`,
      { errors },
    ),
  notFound: (what: string) => new ProblemException(HttpStatus.NOT_FOUND, 'not-found', 'Not found', `${what} does not exist`),
  conflict: (detail: string, extensions?: Record<string, unknown>) =>
    new ProblemException(HttpStatus.CONFLICT, 'conflict', 'Conflict', detail, extensions),
  unauthorized: (detail: string) => new ProblemException(HttpStatus.UNAUTHORIZED, 'unauthorized', 'Unauthorized', detail),
  forbidden: (detail: string) => new ProblemException(HttpStatus.FORBIDDEN, 'forbidden', 'Forbidden', detail),
  rateLimited: (retryAfterSeconds: number) =>
    new ProblemException(HttpStatus.TOO_MANY_REQUESTS, 'rate-limited', 'Too many requests',
      `This API key is over its request rate; retry after ${retryAfterSeconds} s`, { retryAfter: retryAfterSeconds }),
};

const FASTIFY_ERRORS: Record<string, { status: number; slug: string; title: string; detail: string }> = {
  FST_ERR_CTP_INVALID_JSON_BODY: { status: 400, slug: 'malformed-json', title: 'Malformed JSON', detail: 'The request body is not valid JSON' },
  FST_ERR_CTP_EMPTY_JSON_BODY: { status: 400, slug: 'malformed-json', title: 'Malformed JSON', detail: 'The request declares JSON but its body is empty' },
  FST_ERR_CTP_BODY_TOO_LARGE: { status: 413, slug: 'body-too-large', title: 'Request body too large', detail: 'The request body is larger than the limit' },
  FST_ERR_CTP_INVALID_MEDIA_TYPE: { status: 415, slug: 'unsupported-media-type', title: 'Unsupported media type', detail: 'Send application/json' },
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: { status: 400, slug: 'bad-request', title: 'Bad request', detail: 'Content-Length does not match the body' },
};

/**
 * Turns anything thrown while serving a request into a problem. Unknown errors become a generic 500 whose
 * detail names only the correlation id: no message, stack or SQL of the cause reaches the client.
 */
export function toProblem(error: unknown): { problem: Problem; internal: boolean; headers?: Record<string, string> } {
  if (error instanceof ProblemException) {
    const problem = error.problem;
    const headers = typeof problem.retryAfter === 'number' ? { 'retry-after': String(problem.retryAfter) } : undefined;
    return { problem: { ...problem }, internal: false, headers };
  }
  // Nest wraps Fastify's own errors (body parsing, limits) in an HttpException whose cause is the original.
  const fastifyError = error instanceof HttpException && error.cause ? error.cause : error;
  const code = (fastifyError as { code?: unknown })?.code;
  const known = typeof code === 'string' ? FASTIFY_ERRORS[code] : undefined;
  if (known) return { problem: { type: TYPE_BASE + known.slug, title: known.title, status: known.status, detail: known.detail }, internal: false };
  if (error instanceof HttpException) {
    const status = error.getStatus();
    const response = error.getResponse();
    const message = typeof response === 'string' ? response : (response as { message?: unknown }).message;
    const title = reasonPhrase(status);
    const problem: Problem = {
      type: 'about:blank',
      title,
      status,
      detail: status === 404 ? 'No route or resource at this address' : typeof message === 'string' ? message : title,
    };
    // A failed health check carries the state of each dependency; keep it.
    const checks = typeof response === 'object' ? (response as { details?: Record<string, { status: string }> }).details : undefined;
    if (checks) {
      problem.checks = checks;
      problem.detail = `Not ready: ${Object.entries(checks).filter(([, c]) => c.status !== 'up').map(([name]) => name).join(', ')}`;
      return { problem, internal: false };
    }
    return { problem, internal: status >= 500 };
  }
  if (isDatabaseUnavailable(error)) {
    // Every pooled connection busy for the whole wait is load, not an unreachable database.
    const busy = /^timeout exceeded when trying to connect/.test(String((error as { message?: unknown })?.message));
    const detail = busy ? 'The service is at capacity; retry shortly' : 'The database cannot be reached; retry shortly';
    return {
      problem: { type: TYPE_BASE + (busy ? 'at-capacity' : 'database-unavailable'), title: 'Service unavailable', status: 503, detail, retryAfter: 5 },
      internal: false,
      headers: { 'retry-after': '5' },
    };
  }
  const statusCode = (error as { statusCode?: unknown })?.statusCode;
  if (typeof statusCode === 'number' && statusCode >= 400 && statusCode < 500) {
    return { problem: { type: 'about:blank', title: reasonPhrase(statusCode), status: statusCode, detail: reasonPhrase(statusCode) }, internal: false };
  }
  return {
    problem: { type: TYPE_BASE + 'internal', title: 'Internal error', status: 500, detail: 'The request could not be completed; quote the correlation id when reporting it' },
    internal: true,
  };
}

function reasonPhrase(status: number): string {
  const name = HttpStatus[status];
  if (!name) return `HTTP ${status}`;
  return name.charAt(0) + name.slice(1).toLowerCase().replaceAll('_', ' ');
}
