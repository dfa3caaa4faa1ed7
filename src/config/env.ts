import { isAbsolute, resolve } from 'node:path';
import { ConfigError } from './config-error.js';
import type { AlertSettings } from '../platform/alerting/alert-settings.js';

export const ROLES = ['api', 'worker', 'all'] as const;
export type Role = (typeof ROLES)[number];
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** Process-level settings, read from environment variables only. */
export interface Env {
  databaseUrl?: string;
  port: number;
  host: string;
  role: Role;
  adminToken?: string;
  configFile?: string;
  dataDir: string;
  logLevel: LogLevel;
  logFormat: 'json' | 'pretty';
  bodyLimitBytes: number;
  shutdownTimeoutMs: number;
  /** How long a database query may go unanswered before its connection is dropped (a failover's vanished primary). */
  databaseQueryTimeoutMs: number;
  apiKeyRateLimit: { perSecond: number; burst: number };
  /** Console sessions: how long one lasts without a request, and at most. */
  consoleSession: { idleMinutes: number; maxHours: number };
  /** The console links trace ids here: a URL with `{traceId}` in it (a Jaeger or Tempo trace page). */
  traceUrl?: string;
  /** The key connector secrets are sealed with (AES-256-GCM), and the ones a rotation still opens. */
  secrets: { key?: Buffer; previous: Buffer[] };
  delivery: {
    maxAttempts: number;
    baseDelayMs: number;
    maxDelayMs: number;
    callTimeoutMs: number;
    concurrencyPerQueue: number;
    heartbeatSeconds: number;
    superviseIntervalSeconds: number;
    jobRetryMaxSeconds: number;
    circuitFailures: number;
    circuitOpenMs: number;
  };
  retention: { outboxDays: number; traceDays: number; inboxDays: number; idempotencyDays: number; jobDays: number };
  /**
   * Customer read model pulls from the ERP; how long a cancel waits for the ERP's answer; the intake's group
   * commit: at most `intakeBatch` orders a transaction, `intakeLanes` transactions at once.
   */
  orders: { customerSyncSeconds: number; cancelWaitMs: number; intakeBatch: number; intakeLanes: number; intakeGatherMs: number };
  /**
   * Where the ERPs reach this service (`CROSSDOCK_PUBLIC_URL`): without it, no ERP is asked for change notifications
   * and customers come by the pull alone. How often subscriptions are checked, and how long before their expiry they
   * are renewed.
   */
  customers: { publicUrl?: string; subscriptionCheckSeconds: number; renewBeforeSeconds: number };
  /** How often stock is polled from ERP backends that cannot push it. */
  inventory: { stockPollSeconds: number };
  /** How often each target's reconciliation schedule is looked at (and a run cut short resumed). */
  reconciliation: { tickMs: number };
  /** How often shipment documents are polled from the ERP routed for `shipments`. */
  shipments: { pollSeconds: number };
  /** How often prices are pulled from the ERP routed for `pricing`; how often dated prices are checked for a start or an end. */
  pricing: { pollSeconds: number; clockMs: number };
  /** Delay objectives: how often they are checked, and the webhook and email their breaches are told to. */
  alerts: AlertSettings;
}

const MIN_ADMIN_TOKEN_LENGTH = 16;

export function readEnv(env: NodeJS.ProcessEnv = process.env): Env {
  const databaseUrl = optional(env, 'DATABASE_URL');
  if (databaseUrl !== undefined) assertPostgresUrl('DATABASE_URL', databaseUrl);
  const adminToken = optional(env, 'CROSSDOCK_ADMIN_TOKEN');
  if (adminToken !== undefined && adminToken.length < MIN_ADMIN_TOKEN_LENGTH) {
    throw new ConfigError('CROSSDOCK_ADMIN_TOKEN', `must be at least ${MIN_ADMIN_TOKEN_LENGTH} characters`);
  }
  const configFile = optional(env, 'CROSSDOCK_CONFIG');
  const dataDir = optional(env, 'CROSSDOCK_DATA_DIR') ?? './.data';
  const logFormat = optional(env, 'LOG_FORMAT') ?? (process.stdout.isTTY ? 'pretty' : 'json');
  return {
    databaseUrl,
    port: integer(env, 'PORT', 3000, 0, 65535),
    host: optional(env, 'HOST') ?? '0.0.0.0',
    role: oneOf(env, 'CROSSDOCK_ROLE', ROLES, 'all'),
    adminToken,
    configFile: configFile === undefined ? undefined : absolute(configFile),
    dataDir: absolute(dataDir),
    logLevel: oneOf(env, 'LOG_LEVEL', LOG_LEVELS, 'info'),
    logFormat: oneOf({ LOG_FORMAT: logFormat }, 'LOG_FORMAT', ['json', 'pretty'] as const, 'json'),
    bodyLimitBytes: integer(env, 'CROSSDOCK_BODY_LIMIT_BYTES', 1024 * 1024, 1024, 64 * 1024 * 1024),
    shutdownTimeoutMs: integer(env, 'CROSSDOCK_SHUTDOWN_TIMEOUT_MS', 10_000, 0, 600_000),
    databaseQueryTimeoutMs: integer(env, 'CROSSDOCK_DB_QUERY_TIMEOUT_MS', 30_000, 100, 3_600_000),
    secrets: {
      key: optional(env, 'CROSSDOCK_SECRET_KEY') === undefined ? undefined : secretKey('CROSSDOCK_SECRET_KEY', optional(env, 'CROSSDOCK_SECRET_KEY')!),
      previous: (optional(env, 'CROSSDOCK_SECRET_KEY_PREVIOUS') ?? '').split(',').map((k) => k.trim()).filter(Boolean).map((k) => secretKey('CROSSDOCK_SECRET_KEY_PREVIOUS', k)),
    },
    apiKeyRateLimit: {
      perSecond: integer(env, 'CROSSDOCK_API_KEY_RATE_PER_SECOND', 100, 1, 1_000_000),
      burst: integer(env, 'CROSSDOCK_API_KEY_RATE_BURST', 200, 1, 1_000_000),
    },
    traceUrl: traceUrl(env, 'CROSSDOCK_TRACE_URL'),
    consoleSession: {
      idleMinutes: integer(env, 'CROSSDOCK_CONSOLE_SESSION_IDLE_MINUTES', 30, 1, 7 * 24 * 60),
      maxHours: integer(env, 'CROSSDOCK_CONSOLE_SESSION_MAX_HOURS', 12, 1, 24 * 30),
    },
    delivery: {
      maxAttempts: integer(env, 'CROSSDOCK_DELIVERY_MAX_ATTEMPTS', 10, 1, 1000),
      baseDelayMs: integer(env, 'CROSSDOCK_DELIVERY_BASE_DELAY_MS', 1_000, 1, 3_600_000),
      maxDelayMs: integer(env, 'CROSSDOCK_DELIVERY_MAX_DELAY_MS', 300_000, 1, 86_400_000),
      callTimeoutMs: integer(env, 'CROSSDOCK_CALL_TIMEOUT_MS', 30_000, 100, 600_000),
      concurrencyPerQueue: integer(env, 'CROSSDOCK_WORKER_CONCURRENCY', 8, 1, 1000),
      heartbeatSeconds: integer(env, 'CROSSDOCK_JOB_HEARTBEAT_SECONDS', 30, 10, 3600),
      superviseIntervalSeconds: integer(env, 'CROSSDOCK_JOB_SUPERVISE_SECONDS', 10, 1, 3600),
      jobRetryMaxSeconds: integer(env, 'CROSSDOCK_JOB_RETRY_MAX_SECONDS', 30, 1, 3600),
      circuitFailures: integer(env, 'CROSSDOCK_CIRCUIT_FAILURES', 5, 1, 1000),
      circuitOpenMs: integer(env, 'CROSSDOCK_CIRCUIT_OPEN_MS', 30_000, 100, 3_600_000),
    },
    orders: {
      customerSyncSeconds: integer(env, 'CROSSDOCK_CUSTOMER_SYNC_SECONDS', 300, 1, 86_400),
      cancelWaitMs: integer(env, 'CROSSDOCK_CANCEL_WAIT_MS', 10_000, 0, 120_000),
      intakeBatch: integer(env, 'CROSSDOCK_INTAKE_BATCH', 32, 1, 1000),
      intakeLanes: integer(env, 'CROSSDOCK_INTAKE_LANES', 2, 1, 100),
      intakeGatherMs: integer(env, 'CROSSDOCK_INTAKE_GATHER_MS', 2, 0, 1000),
    },
    customers: {
      publicUrl: publicUrl(env, 'CROSSDOCK_PUBLIC_URL'),
      subscriptionCheckSeconds: integer(env, 'CROSSDOCK_ERP_SUBSCRIPTION_CHECK_SECONDS', 3_600, 1, 86_400),
      renewBeforeSeconds: integer(env, 'CROSSDOCK_ERP_SUBSCRIPTION_RENEW_BEFORE_SECONDS', 86_400, 1, 259_200),
    },
    inventory: {
      stockPollSeconds: integer(env, 'CROSSDOCK_STOCK_POLL_SECONDS', 60, 1, 86_400),
    },
    shipments: {
      pollSeconds: integer(env, 'CROSSDOCK_SHIPMENT_POLL_SECONDS', 60, 1, 86_400),
    },
    pricing: {
      pollSeconds: integer(env, 'CROSSDOCK_PRICE_POLL_SECONDS', 300, 1, 86_400),
      clockMs: integer(env, 'CROSSDOCK_PRICE_CLOCK_MS', 5_000, 50, 3_600_000),
    },
    alerts: readAlertSettings(env),
    reconciliation: {
      tickMs: integer(env, 'CROSSDOCK_RECONCILE_TICK_MS', 30_000, 100, 3_600_000),
    },
    retention: {
      outboxDays: integer(env, 'CROSSDOCK_RETENTION_OUTBOX_DAYS', 7, 1, 3650),
      traceDays: integer(env, 'CROSSDOCK_RETENTION_TRACE_DAYS', 14, 1, 3650),
      inboxDays: integer(env, 'CROSSDOCK_RETENTION_INBOX_DAYS', 30, 1, 3650),
      idempotencyDays: integer(env, 'CROSSDOCK_RETENTION_IDEMPOTENCY_DAYS', 7, 1, 3650),
      jobDays: integer(env, 'CROSSDOCK_RETENTION_JOB_DAYS', 1, 1, 365),
    },
  };
}

/** 32 random bytes in base64 (`openssl rand -base64 32`). */
function secretKey(name: string, value: string): Buffer {
  if (!/^[A-Za-z0-9+/]{43}=?$/.test(value)) {
    throw new ConfigError(name, 'must be 32 bytes in base64 (openssl rand -base64 32)');
  }
  return Buffer.from(value, 'base64');
}

function optional(env: NodeJS.ProcessEnv, key: string): string | undefined {
  const value = env[key]?.trim();
  return value === undefined || value === '' ? undefined : value;
}

function integer(env: NodeJS.ProcessEnv, key: string, fallback: number, min: number, max: number): number {
  const raw = optional(env, key);
  if (raw === undefined) return fallback;
  if (!/^\d+$/.test(raw)) throw new ConfigError(key, `must be a whole number, got "${raw}"`);
  const value = Number(raw);
  if (value < min || value > max) throw new ConfigError(key, `must be between ${min} and ${max}, got ${value}`);
  return value;
}

function oneOf<const T extends readonly string[]>(
  env: NodeJS.ProcessEnv,
  key: string,
  allowed: T,
  fallback: T[number],
): T[number] {
  const raw = optional(env, key);
  if (raw === undefined) return fallback;
  if (!allowed.includes(raw)) throw new ConfigError(key, `must be one of ${allowed.join(', ')}, got "${raw}"`);
  return raw;
}

/** An http(s) base URL, without a trailing slash. */
function publicUrl(env: NodeJS.ProcessEnv, key: string): string | undefined {
  const value = optional(env, key);
  if (value === undefined) return undefined;
  const url = urlOf(key, value, ['https:', 'http:'], 'https://crossdock.example.com');
  if (url.search || url.hash) throw new ConfigError(key, 'must be a base URL, without a query or fragment');
  return url.href.replace(/\/+$/, '');
}

function traceUrl(env: NodeJS.ProcessEnv, key: string): string | undefined {
  const value = optional(env, key);
  if (value === undefined) return undefined;
  if (!value.includes('{traceId}')) throw new ConfigError(key, 'must contain {traceId}, where the trace id goes (https://tempo.example.com/trace/{traceId})');
  urlOf(key, value.replace('{traceId}', '0'), ['https:', 'http:'], 'https://tempo.example.com/trace/{traceId}');
  return value;
}

function assertPostgresUrl(key: string, value: string): void {
  urlOf(key, value, ['postgres:', 'postgresql:'], 'postgres://user@host:port/database');
}

/** `value` parsed as a URL of one of `protocols`. */
function urlOf(key: string, value: string, protocols: readonly string[], example: string): URL {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new ConfigError(key, `is not a valid URL (expected ${example})`);
  }
  if (!protocols.includes(url.protocol)) throw new ConfigError(key, `must use ${protocols.map((p) => `${p}//`).join(' or ')}, got "${url.protocol}"`);
  return url;
}

function absolute(path: string): string {
  return isAbsolute(path) ? path : resolve(process.cwd(), path);
}

const WEBHOOK_SECRET = /^whsec_[A-Za-z0-9+/]{16,}={0,2}$/;
const EMAIL_ADDRESS = /^[^\s@<>,;"]+@[^\s@<>,;"]+$/;

/**
 * Where breaches of delay objectives are told: a signed webhook, email, both or neither. Read by readEnv at start
 * (a mistake stops the process) and by the operations module, which evaluates the objectives.
 */
export function readAlertSettings(env: NodeJS.ProcessEnv = process.env): AlertSettings {
  const url = optional(env, 'CROSSDOCK_ALERT_WEBHOOK_URL');
  const secret = optional(env, 'CROSSDOCK_ALERT_WEBHOOK_SECRET');
  if (url !== undefined) urlOf('CROSSDOCK_ALERT_WEBHOOK_URL', url, ['https:', 'http:'], 'https://alerts.example.com/crossdock');
  if (url !== undefined && secret === undefined) throw new ConfigError('CROSSDOCK_ALERT_WEBHOOK_SECRET', 'must be set with CROSSDOCK_ALERT_WEBHOOK_URL (whsec_<base64 key>)');
  if (secret !== undefined && url === undefined) throw new ConfigError('CROSSDOCK_ALERT_WEBHOOK_SECRET', 'is set but CROSSDOCK_ALERT_WEBHOOK_URL is not');
  if (secret !== undefined && !WEBHOOK_SECRET.test(secret)) throw new ConfigError('CROSSDOCK_ALERT_WEBHOOK_SECRET', 'must be whsec_ followed by a base64 key of at least 12 bytes');

  const smtpUrl = optional(env, 'CROSSDOCK_SMTP_URL');
  const to = optional(env, 'CROSSDOCK_ALERT_EMAIL_TO');
  const from = optional(env, 'CROSSDOCK_ALERT_EMAIL_FROM');
  if (smtpUrl !== undefined) {
    urlOf('CROSSDOCK_SMTP_URL', smtpUrl, ['smtp:', 'smtps:'], 'smtp://user:password@mail.example.com:587');
  } else {
    const stray = to !== undefined ? 'CROSSDOCK_ALERT_EMAIL_TO' : from !== undefined ? 'CROSSDOCK_ALERT_EMAIL_FROM' : undefined;
    if (stray) throw new ConfigError(stray, 'is set but CROSSDOCK_SMTP_URL is not');
  }
  const recipients = (to ?? '').split(',').map((address) => address.trim()).filter(Boolean);
  if (smtpUrl !== undefined && recipients.length === 0) throw new ConfigError('CROSSDOCK_ALERT_EMAIL_TO', 'must be set with CROSSDOCK_SMTP_URL (comma-separated addresses)');
  const wrong = recipients.find((address) => !EMAIL_ADDRESS.test(address));
  if (wrong !== undefined) throw new ConfigError('CROSSDOCK_ALERT_EMAIL_TO', `"${wrong}" is not an email address`);
  // The sender may carry a display name: Crossdock <crossdock@example.com>.
  if (from !== undefined && !EMAIL_ADDRESS.test(/<([^<>]+)>\s*$/.exec(from)?.[1] ?? from)) throw new ConfigError('CROSSDOCK_ALERT_EMAIL_FROM', `"${from}" is not an email address`);
  return {
    checkMs: integer(env, 'CROSSDOCK_SLO_CHECK_MS', 15_000, 100, 3_600_000),
    webhook: url !== undefined && secret !== undefined ? { url, secret } : undefined,
    email: smtpUrl !== undefined ? { smtpUrl, from: from ?? 'Crossdock <crossdock@localhost>', to: recipients } : undefined,
  };
}
