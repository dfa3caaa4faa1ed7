import 'reflect-metadata';
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { createApp } from './app.js';
import { loadConfigurationFile } from './config/config-file.js';
import { ConfigError } from './config/config-error.js';
import { readEnv, type Env } from './config/env.js';
import { MIGRATIONS } from './migrations/index.js';
import { DataDirError, startEmbeddedPostgres, type EmbeddedDatabase } from './platform/database/embedded-postgres.js';
import { migrateDatabase } from './platform/database/migrate.js';
import { createLogger, type Logger } from './platform/observability/logger.js';
import { stopTracing } from './platform/observability/tracing.js';
import { demoSimulators, SIMULATORS_PREFIX } from './simulators/demo-simulators.js';

const EXIT_CONFIG = 2;
const DEMO_CONFIG = join(dirname(fileURLToPath(import.meta.url)), 'config', 'demo.yaml');

async function main(): Promise<void> {
  const env = readEnvOrExit();
  const logger = createLogger({ level: env.logLevel, format: env.logFormat });
  const demo = env.databaseUrl === undefined && env.configFile === undefined;
  if (env.databaseUrl !== undefined && env.adminToken === undefined) {
    configExit(new ConfigError('CROSSDOCK_ADMIN_TOKEN', 'must be set when DATABASE_URL is set (it guards /v1/admin and /v1/ops)'));
  }
  const configuration = configOrExit(() =>
    env.configFile ? loadConfigurationFile(env.configFile) : demo ? loadConfigurationFile(DEMO_CONFIG, { ...process.env, PORT: String(env.port) }) : undefined,
  );
  const adminToken = env.adminToken ?? demoAdminToken(env.dataDir);

  let embedded: EmbeddedDatabase | undefined;
  let app: NestFastifyApplication | undefined;
  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    const force = setTimeout(() => {
      logger.error('shutdown took too long; exiting');
      process.exit(1);
    }, env.shutdownTimeoutMs + 10_000);
    force.unref();
    // In-flight requests and jobs get the shutdown timeout; after it the pools close under them.
    const closing = app?.close().catch((error: unknown) => logger.error({ err: error }, 'error while closing'));
    const timedOut = await Promise.race([closing?.then(() => false), sleep(env.shutdownTimeoutMs).then(() => true)]);
    if (timedOut) logger.warn({ timeoutMs: env.shutdownTimeoutMs }, 'work still in flight at the shutdown timeout');
    await embedded?.stop().catch((error: unknown) => logger.error({ err: error }, 'embedded PostgreSQL did not stop cleanly'));
    await stopTracing(); // the spans still buffered go out (nothing when tracing is off)
    logger.info('stopped');
    await flushed(logger);
    process.exit(0);
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));

  try {
    if (env.databaseUrl === undefined) embedded = await startEmbeddedPostgres(env.dataDir, logger);
    const databaseUrl = env.databaseUrl ?? embedded!.url;
    const applied = await migrateDatabase(databaseUrl, MIGRATIONS);
    if (applied.length > 0) logger.info({ applied }, 'migrations applied');
    app = await createApp({ env, databaseUrl, adminToken, migrations: MIGRATIONS, logger, configuration });
    // Plain Fastify routes beside Nest's: outside the API's guards, body parsers and OpenAPI document.
    if (demo && configuration) await app.register(demoSimulators(configuration), { prefix: SIMULATORS_PREFIX });
    await app.listen({ port: env.port, host: env.host });
    if (stopping) return;
    printBanner(logger, env, demo, embedded, adminToken === env.adminToken);
  } catch (error) {
    const problem = error instanceof ConfigError ? error : environmentProblem(error, env);
    if (problem) {
      await app?.close().catch(() => undefined);
      await embedded?.stop().catch(() => undefined);
      configExit(problem);
    }
    logger.fatal({ err: error }, 'start failed');
    await app?.close().catch(() => undefined);
    await embedded?.stop().catch(() => undefined);
    await flushed(logger);
    process.exit(1);
  }
}

function readEnvOrExit(): Env {
  return configOrExit(() => readEnv());
}

function configOrExit<T>(read: () => T): T {
  try {
    return read();
  } catch (error) {
    if (error instanceof ConfigError) configExit(error);
    throw error;
  }
}

/** A configuration mistake: one line naming the key and the problem, exit code 2, no stack trace. */
function configExit(error: ConfigError): never {
  process.stderr.write(`crossdock: configuration error: ${error.message}\n`);
  process.exit(EXIT_CONFIG);
}

/**
 * What the environment got wrong at start, as a configuration error naming the setting: the data folder the
 * database cannot use, a port already taken, a database that refuses the credentials. Anything else is a bug.
 */
function environmentProblem(error: unknown, env: Env): ConfigError | undefined {
  if (error instanceof DataDirError) return new ConfigError(`CROSSDOCK_DATA_DIR (${error.dataDir})`, error.problem);
  const { code, message } = error as { code?: string; message?: string };
  if (code === 'EADDRINUSE') return new ConfigError('PORT', `${env.port} is already in use on ${env.host}`);
  if (code === 'EACCES' && /listen/.test(message ?? '')) return new ConfigError('PORT', `${env.port} may not be listened on by this user`);
  // PostgreSQL's invalid_authorization_specification and invalid_password.
  if (code === '28000' || code === '28P01') return new ConfigError('DATABASE_URL', `the database refused the credentials: ${message}`);
  if (code === '3D000') return new ConfigError('DATABASE_URL', `the database does not exist: ${message}`);
  return undefined;
}

/** Demo mode needs an admin token; it is generated once and kept (readable by its owner only) in the data dir. */
function demoAdminToken(dataDir: string): string {
  const path = join(dataDir, 'admin-token');
  if (existsSync(path)) return readFileSync(path, 'utf8').trim();
  mkdirSync(dataDir, { recursive: true });
  const token = randomBytes(24).toString('base64url');
  writeFileSync(path, token + '\n', { mode: 0o600 });
  chmodSync(path, 0o600);
  return token;
}

function printBanner(logger: Logger, env: Env, demo: boolean, embedded: EmbeddedDatabase | undefined, tokenFromEnv: boolean): void {
  const base = `http://${env.host === '0.0.0.0' ? 'localhost' : env.host}:${env.port}`;
  logger.info({ role: env.role, url: base, database: embedded ? `embedded PostgreSQL on port ${embedded.port} (${env.dataDir}/postgres)` : 'DATABASE_URL' }, 'Crossdock is ready');
  const lines = [
    '',
    `  Crossdock is ready (role ${env.role})`,
    `    API docs   ${base}/docs`,
    `    Console    ${base}/console`,
    `    Health     ${base}/health/ready`,
    `    Metrics    ${base}/metrics`,
    `    Admin token: ${tokenFromEnv ? 'CROSSDOCK_ADMIN_TOKEN' : `in ${join(env.dataDir, 'admin-token')}`}`,
  ];
  if (demo) {
    lines.push(
      '',
      '  DEMO MODE: the ERP backends and the channels are SIMULATED by this process; no real system is called.',
      `    Simulators ${base}${SIMULATORS_PREFIX}/business-central/_control/state, ${base}${SIMULATORS_PREFIX}/webhook-receiver/{name}`,
      '    Orders     npm run demo:orders',
      '  Set DATABASE_URL and CROSSDOCK_CONFIG to run against real systems.',
    );
  }
  process.stdout.write(lines.join('\n') + '\n\n');
}

/** Log lines are written asynchronously: wait for the last ones before the process exits. */
const flushed = (logger: Logger) => new Promise<void>((resolve) => logger.flush(() => resolve()));

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms).unref());

void main();
