import type { LoggerService, LogLevel as NestLogLevel } from '@nestjs/common';
import { pino, type Logger } from 'pino';
import { currentCorrelationId } from './correlation.js';

export type { Logger } from 'pino';

export interface LoggerSettings {
  level: string;
  format: 'json' | 'pretty';
  destination?: NodeJS.WritableStream;
}

/** Field names (any case, any depth) whose values are secrets wherever they appear in a log line. */
export const SECRET_FIELD_NAMES = [
  'authorization', 'password', 'secret', 'clientSecret', 'accessToken', 'webhookSecret', 'token', 'apiKey',
  'adminToken', 'refreshToken', 'x-shopify-access-token', 'x-api-key', 'cookie', 'set-cookie', 'key',
];
const SECRET_KEYS = new Set(SECRET_FIELD_NAMES.map((name) => name.toLowerCase()));
const REDACTED = '[redacted]';
const MAX_DEPTH = 6;

/**
 * Replaces secret fields by name, copying only the objects that hold one. Flat log lines (the common case)
 * cost one pass over their keys; pino's path-based redaction with wildcards cost half the request rate.
 */
export function redactSecrets<T>(value: T, depth = 0): T {
  if (value === null || typeof value !== 'object' || depth > MAX_DEPTH || value instanceof Error) return value;
  if (Array.isArray(value)) {
    let copy: unknown[] | undefined;
    value.forEach((item, i) => {
      const redacted = redactSecrets(item, depth + 1);
      if (redacted !== item) (copy ??= [...value])[i] = redacted;
    });
    return (copy ?? value) as T;
  }
  const record = value as Record<string, unknown>;
  let copy: Record<string, unknown> | undefined;
  for (const key in record) {
    const item = record[key];
    if (SECRET_KEYS.has(key.toLowerCase())) {
      if (item !== undefined && item !== null) (copy ??= { ...record })[key] = REDACTED;
    } else if (item !== null && typeof item === 'object') {
      const redacted = redactSecrets(item, depth + 1);
      if (redacted !== item) (copy ??= { ...record })[key] = redacted;
    }
  }
  return (copy ?? value) as T;
}

/** The service's logger: structured JSON (pretty in a terminal), each line carrying the correlation id. */
export function createLogger(settings: LoggerSettings): Logger {
  const options = {
    level: settings.level,
    base: { service: 'crossdock' },
    formatters: { log: (object: Record<string, unknown>) => redactSecrets(object) },
    mixin: () => {
      const correlationId = currentCorrelationId();
      return correlationId === undefined ? {} : { correlationId };
    },
  };
  if (settings.format === 'pretty') {
    return pino({ ...options, transport: { target: 'pino-pretty', options: { colorize: true, ignore: 'pid,hostname,service' } } });
  }
  // Asynchronous writes: lines logged while a write is in flight go out together in the next one, so a busy
  // service makes far fewer system calls; pino flushes what is pending when the process exits.
  const destination = settings.destination ?? pino.destination({ dest: 1, sync: false });
  return pino(options, destination as never);
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
