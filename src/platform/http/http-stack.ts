import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { FastifyInstance } from 'fastify';
import { acceptOrCreateCorrelationId, CORRELATION_HEADER, withCorrelationId } from '../observability/correlation.js';
import type { Logger } from '../observability/logger.js';
import type { Metrics } from '../observability/metrics.js';
import { ProblemFilter } from './problem.filter.js';
import { createValidationPipe } from './validation.js';

declare module 'fastify' {
  interface FastifyRequest {
    correlationId: string;
  }
}

// Probes and scrapes arrive every few seconds; they are logged at debug so that they do not drown the rest.
const QUIET_ROUTES = new Set(['/health/live', '/health/ready', '/metrics']);

/**
 * The conventions every endpoint shares: correlation id in and out and in every log line, one log line and
 * one histogram sample per request, validation and errors as problem+json.
 */
export function installHttpStack(app: NestFastifyApplication, logger: Logger, metrics: Metrics, bodyLimit: number): void {
  const fastify = app.getHttpAdapter().getInstance() as unknown as FastifyInstance;
  // JSON, with the raw bytes kept on request.rawBody for signature checks; forms for the console (below); any other type is a 415.
  fastify.removeAllContentTypeParsers();
  app.useBodyParser('application/json', { bodyLimit });
  // The console's forms post urlencoded (each with its session's CSRF token); the API under /v1 takes JSON only.
  fastify.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string', bodyLimit }, (request, body, done) => {
    if (request.url.startsWith('/v1/')) {
      done(Object.assign(new Error('Unsupported Media Type: application/x-www-form-urlencoded'), { statusCode: 415, code: 'FST_ERR_CTP_INVALID_MEDIA_TYPE' }), undefined);
      return;
    }
    done(null, Object.fromEntries(new URLSearchParams(body as string)));
  });
  fastify.decorateRequest('correlationId', '');

  fastify.addHook('onRequest', (request, reply, done) => {
    const correlationId = acceptOrCreateCorrelationId(request.headers[CORRELATION_HEADER]);
    request.correlationId = correlationId;
    void reply.header(CORRELATION_HEADER, correlationId);
    withCorrelationId(correlationId, done);
  });

  // On close, in-flight requests finish; their keep-alive connections are closed after the response, or the
  // server would wait for each client's keep-alive timeout before it could stop.
  let closing = false;
  fastify.addHook('preClose', (done) => {
    closing = true;
    done();
  });
  fastify.addHook('onSend', (_request, reply, payload, done) => {
    if (closing) void reply.header('connection', 'close');
    done(null, payload);
  });

  fastify.addHook('onResponse', (request, reply, done) => {
    const route = request.routeOptions.url ?? 'unmatched';
    const status = reply.statusCode;
    const seconds = reply.elapsedTime / 1000;
    metrics.httpDuration.observe({ method: request.method, route, status: String(status) }, seconds);
    const level = status >= 500 ? 'error' : QUIET_ROUTES.has(route) ? 'debug' : 'info';
    if (logger.isLevelEnabled(level)) {
      logger[level]({ correlationId: request.correlationId, method: request.method, route, status, ms: Math.round(reply.elapsedTime * 10) / 10 }, 'request');
    }
    done();
  });

  app.useGlobalFilters(new ProblemFilter(logger));
  app.useGlobalPipes(createValidationPipe());
}
