import { Command, CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import type { StoreLevelChange } from '../../../../connectors/channels/shopify/shopify-webhooks.js';
import type { Sql } from '../../../../platform/database/transaction.js';
import { IntegrationEvents } from '../../../../platform/outbox/integration-events.js';
import { StoreLevelReported } from '../../events/store-level-reported.js';

/** A level as a store's webhook tells of it (ids as the webhook sends them; `available` null: not tracked, nothing to check). */
export type StoreLevel = StoreLevelChange;

/**
 * A store's level changed: it is checked against what the store was last sent once the caller's transaction (the
 * webhook's) commits, and a difference is repaired at once (docs/INVENTORY.md, "Reconciliation").
 */
export class CheckStoreLevelCommand extends Command<void> {
  constructor(
    readonly sql: Sql,
    readonly channelId: string,
    readonly level: StoreLevel,
  ) {
    super();
  }
}

@CommandHandler(CheckStoreLevelCommand)
export class CheckStoreLevelHandler implements ICommandHandler<CheckStoreLevelCommand, void> {
  constructor(private readonly events: IntegrationEvents) {}

  async execute({ sql, channelId, level }: CheckStoreLevelCommand): Promise<void> {
    if (level.available === null) return;
    const event = new StoreLevelReported(channelId, level.inventoryItemId, level.locationId, level.available, level.updatedAt);
    await this.events.publish(sql, event, `${channelId}|${level.inventoryItemId}|${level.locationId}`);
  }
}
