import { Inject, Injectable } from '@nestjs/common';
import type pg from 'pg';
import { PG_POOL } from '../../platform/database/pg-pool.js';
import { TargetDirectory, type Target } from '../../platform/delivery/target-directory.js';
import type { MaintenanceWindow } from '../../platform/governor/maintenance-window.js';
import { SecretBox } from '../../platform/security/secret-box.js';
import { ChannelDirectory } from './channel-directory.js';
import { transformSecrets } from './domain/secrets.js';
import { secretsOf } from './resource-validation.js';

const CACHE_MS = 5_000;

/** The targets' settings for the connectors, as stored here: a change is seen everywhere within 5 s. */
@Injectable()
export class ConfiguredTargets extends TargetDirectory {
  private readonly backends = new Map<string, { backend: Target | null; until: number }>();

  constructor(
    @Inject(PG_POOL) private readonly pool: pg.Pool,
    private readonly channels: ChannelDirectory,
    private readonly box: SecretBox,
  ) {
    super();
  }

  async erpBackend(id: string): Promise<Target | null> {
    const cached = this.backends.get(id);
    if (cached && cached.until > Date.now()) return cached.backend;
    const { rows: [row] } = await this.pool.query<{ id: string; kind: string; config: Record<string, unknown>; limits: Target['limits']; maintenanceWindows: MaintenanceWindow[] }>(
      'select id, kind, config, limits, maintenance_windows as "maintenanceWindows" from erp_backend where id = $1', [id],
    );
    const secretFields = row ? secretsOf('erp-backend', row.kind) : [];
    const backend = row ? { ...row, config: transformSecrets(row.config, secretFields, (v) => this.box.open(v)), maintenanceWindows: row.maintenanceWindows ?? [] } : null;
    this.backends.set(id, { backend, until: Date.now() + CACHE_MS });
    return backend;
  }

  async channel(id: string): Promise<Target | null> {
    const channel = await this.channels.find(id);
    return channel ? { id: channel.id, kind: channel.kind, config: channel.config, limits: channel.limits, maintenanceWindows: [] } : null;
  }
}
