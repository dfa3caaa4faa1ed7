/**
 * A store told of a change to one of its levels (Shopify's `inventory_levels/update`): a merchant's edit, another
 * app's, or Crossdock's own coming back. Published durably by the module to itself, keyed by the level, so that the
 * level is checked against what the store was last sent outside the webhook's transaction (finding its SKU may take
 * a call to the store).
 */
export class StoreLevelReported {
  static readonly type = 'inventory.store-level-reported';

  constructor(
    readonly channelId: string,
    readonly inventoryItemId: string,
    readonly locationId: string,
    readonly available: number | null,
    readonly updatedAt: string | null,
  ) {}
}
