import { Injectable } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { SetRoutingCommand, type RoutingDomain, type RoutingRule } from '../migration-coexistence/index.js';
import type { ChannelDto, ErpBackendDto, SourceDto } from './api/resources.dto.js';
import { ConfigurationService } from './configuration.service.js';

/** The resources of a configuration file, already validated as the admin API would. */
export interface ConfigurationDocument {
  erpBackends: Record<string, ErpBackendDto>;
  channels: Record<string, ChannelDto>;
  sources: Record<string, SourceDto>;
  routing: Partial<Record<RoutingDomain, RoutingRule>>;
}

export const CONFIG_FILE_ACTOR = 'config-file';

/** Writes a configuration file's resources through the admin API's own path; unchanged ones are not audited. */
@Injectable()
export class ConfigurationSeeder {
  constructor(
    private readonly configuration: ConfigurationService,
    private readonly commands: CommandBus,
  ) {}

  async seed(document: ConfigurationDocument): Promise<{ changed: number; unchanged: number }> {
    let changed = 0;
    let unchanged = 0;
    const count = (result: { changed: boolean }) => (result.changed ? changed++ : unchanged++);
    for (const [id, body] of Object.entries(document.erpBackends)) count(await this.configuration.erpBackends.put(id, body, CONFIG_FILE_ACTOR));
    for (const [id, body] of Object.entries(document.channels)) count(await this.configuration.channels.put(id, body, CONFIG_FILE_ACTOR));
    for (const [id, body] of Object.entries(document.sources)) count(await this.configuration.sources.put(id, body, CONFIG_FILE_ACTOR));
    for (const [domain, rule] of Object.entries(document.routing)) {
      count(await this.commands.execute(new SetRoutingCommand(domain as RoutingDomain, rule!, CONFIG_FILE_ACTOR)));
    }
    return { changed, unchanged };
  }
}
