import type { DynamicModule, Type } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import type { MigrationObject } from '@mikro-orm/core';
import { AppModule } from './app.module.js';
import type { Env } from './config/env.js';
import { installHttpStack } from './platform/http/http-stack.js';
import { NestPinoLogger, type Logger } from './platform/observability/logger.js';
import { Metrics } from './platform/observability/metrics.js';
import { SecretBox } from './platform/security/secret-box.js';
import { ConfigurationSeeder } from './modules/configuration/configuration.module.js';
import type { ConfigurationDocument } from './modules/configuration/index.js';
import { DeliveryWorker } from './platform/delivery/delivery-worker.js';
import { StateDispatcher } from './platform/delivery/state-dispatcher.js';

export interface AppSettings {
  env: Env;
  databaseUrl: string;
  adminToken: string;
  migrations: MigrationObject[];
  logger: Logger;
  /** Resources to write at start (the CROSSDOCK_CONFIG file, or the demo configuration). */
  configuration?: ConfigurationDocument;
  /** Modules added to the service (embedding it, tests). */
  additionalModules?: Array<Type | DynamicModule>;
}

/** Builds the service, initialised and seeded but not yet listening; the caller listens and closes it. */
export async function createApp(settings: AppSettings): Promise<NestFastifyApplication> {
  const { env, logger } = settings;
  const metrics = new Metrics();
  const adapter = new FastifyAdapter({
    bodyLimit: env.bodyLimitBytes,
    logger: false,
    return503OnClosing: true,
    forceCloseConnections: 'idle',
  });
  const app = await NestFactory.create<NestFastifyApplication>(
    AppModule.register({
      role: env.role,
      databaseUrl: settings.databaseUrl,
      migrations: settings.migrations,
      logger,
      metrics,
      security: { adminToken: settings.adminToken, apiKeyRateLimit: env.apiKeyRateLimit, consoleSession: env.consoleSession },
      secretBox: new SecretBox(env.secrets.key, env.secrets.previous),
      shutdownTimeoutMs: env.shutdownTimeoutMs,
      databaseQueryTimeoutMs: env.databaseQueryTimeoutMs,
      delivery: env.delivery,
      retention: env.retention,
      orders: env.orders,
      inventory: env.inventory,
      shipments: env.shipments,
      pricing: env.pricing,
      customers: env.customers,
      alerts: env.alerts,
      reconciliation: env.reconciliation,
      traceUrl: env.traceUrl,
      additionalModules: settings.additionalModules,
    }),
    adapter,
    { logger: new NestPinoLogger(logger), rawBody: true, bodyParser: false, abortOnError: false },
  );
  installHttpStack(app, logger, metrics, env.bodyLimitBytes);
  if (env.role !== 'worker') mountApiDocs(app);
  await app.init();
  if (settings.configuration) {
    const { changed, unchanged } = await app.get(ConfigurationSeeder).seed(settings.configuration);
    logger.info({ changed, unchanged }, 'configuration file applied');
  }
  await app.get(DeliveryWorker).start();
  app.get(StateDispatcher).start();
  return app;
}

function mountApiDocs(app: NestFastifyApplication): void {
  const config = new DocumentBuilder()
    .setTitle('Crossdock')
    .setDescription(
      'Integration service between an ERP and its sales channels. Errors are RFC 9457 application/problem+json; ' +
        'every response carries X-Correlation-Id.',
    )
    .setVersion('1')
    .addBearerAuth({ type: 'http', scheme: 'bearer', description: 'CROSSDOCK_ADMIN_TOKEN' }, 'admin')
    .addBearerAuth({ type: 'http', scheme: 'bearer', description: 'API key of a channel or source system' }, 'apiKey')
    .build();
  const document = SwaggerModule.createDocument(app, config);
  SwaggerModule.setup('docs', app, document, { jsonDocumentUrl: 'docs-json', yamlDocumentUrl: 'docs-yaml' });
}
