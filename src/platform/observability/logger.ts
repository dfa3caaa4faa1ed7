import type { LoggerService, LogLevel as NestLogLevel } from '@nestjs/common';
import { pino, type Logger } from 'pino';
import { currentCorrelationId } from './correlation.js';

export type { Logger } from 'pino';

export interface LoggerSettings {
  level: string;
  format: 'json' | 'pretty';
  destination?: NodeJS.WritableStream;
}

/** Field names whose values are secrets wherever they appear (one or two levels deep). */
export const SECRET_FIELD_NAMES = [
  'authorization', 'password', 'secret', 'clientSecret', 'accessToken', 'webhookSecret', 'token', 'key',
  'apiKey', 'adminToken', 'refreshToken', 'x-shopify-access-token', 'x-api-key', 'cookie', 'set-cookie',
];

const REDACT_PATHS = SECRET_FIELD_NAMES.flatMap((name) => {
  const key = /^[A-Za-z_$][\w$]*$/.test(name) ? name : `["${name}"]`;
  const dotted = key.startsWith('[') ? key : `.${key}`;
  return [key, `*${dotted}`, `*.*${dotted}`];
});

/** The service's logger: structured JSON (pretty in a terminal), each line carrying the correlation id. */
export function createLogger(settings: LoggerSettings): Logger {
  const options = {
    level: settings.level,
    base: { service: 'crossdock' },
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    mixin: () => {
      const correlationId = currentCorrelationId();
      return correlationId === undefined ? {} : { correlationId };
    },
    timestamp: pino.stdTimeFunctions.isoTime,
  };
  if (settings.format === 'pretty') {
    return pino({ ...options, transport: { target: 'pino-pretty', options: { colorize: true, ignore: 'pid,hostname,service' } } });
  }
  return settings.destination ? pino(options, settings.destination as never) : pino(options);
}

/** Lets Nest's own messages go through the service's logger. */
export class NestPinoLogger implements LoggerService {
  constructor(private readonly logger: Logger) {}

  // Nest's own `log` messages are start-up chatter (modules loaded, routes mapped): debug, not info.
  log(message: unknown, context?: string): void {
    this.write('debug', message, context);
  }
  error(message: unknown, ...rest: unknown[]): void {
    const context = typeof rest.at(-1) === 'string' ? (rest.at(-1) as string) : undefined;
    const stack = typeof rest[0] === 'string' && rest.length > 1 ? rest[0] : undefined;
    this.logger.error({ context, stack }, String(message));
  }
  warn(message: unknown, context?: string): void {
    this.write('warn', message, context);
  }
  debug(message: unknown, context?: string): void {
    this.write('debug', message, context);
  }
  verbose(message: unknown, context?: string): void {
    this.write('trace', message, context);
  }
  fatal(message: unknown, context?: string): void {
    this.write('fatal', message, context);
  }
  setLogLevels(_levels: NestLogLevel[]): void {}

  private write(level: 'info' | 'warn' | 'debug' | 'trace' | 'fatal', message: unknown, context?: string): void {
    if (typeof message === 'object' && message !== null) this.logger[level]({ context, ...message });
    else this.logger[level]({ context }, String(message));
  }
}
