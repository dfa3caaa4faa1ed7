import { Catch, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from '../observability/logger.js';
import { CORRELATION_HEADER } from '../observability/correlation.js';
import { PROBLEM_CONTENT_TYPE, toProblem } from './problem.js';

/** Answers every error as application/problem+json; 500s are logged with their cause, never sent. */
@Catch()
export class ProblemFilter implements ExceptionFilter {
  constructor(private readonly logger: Logger) {}

  catch(error: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    sendProblem(error, http.getRequest<FastifyRequest>(), http.getResponse<FastifyReply>(), this.logger);
  }
}

export function sendProblem(error: unknown, request: FastifyRequest, reply: FastifyReply, logger: Logger): void {
  const { problem, internal, headers } = toProblem(error);
  const correlationId = reply.getHeader(CORRELATION_HEADER) as string | undefined;
  if (internal) logger.error({ err: error, method: request.method, url: request.url }, 'request failed');
  if (reply.sent) return;
  reply.status(problem.status).header('content-type', PROBLEM_CONTENT_TYPE);
  for (const [name, value] of Object.entries(headers ?? {})) reply.header(name, value);
  void reply.send(JSON.stringify({ ...problem, instance: request.url.split('?')[0], correlationId }));
}
