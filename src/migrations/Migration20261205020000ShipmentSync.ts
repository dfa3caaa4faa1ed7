import { Migration } from '@mikro-orm/migrations';

/**
 * What the ERP and the storefronts hold of each shipment. `shipment.erp_*`: the ERP's document once a posting
 * settled; `shipment_poll`: where each backend's poll of its shipment documents stands; `shipment_channel_sync`:
 * a shipment's delivery to a store has settled; `shipment_channel_fulfillment`: the store's fulfillments that are
 * the shipment's, so that their webhooks coming back are recognised and not applied as shipments of their own.
 */
export class Migration20261205020000ShipmentSync extends Migration {
  override up(): void {
    this.addSql('alter table shipment add column erp_posting text check (erp_posting in (\'pending\', \'posted\', \'dead\')), add column erp_shipment_ref text, add column erp_document_id text;');
    this.addSql('create unique index shipment_erp_document_idx on shipment (source, erp_document_id) where erp_document_id is not null;');
    this.addSql(`
      create table shipment_poll (
        erp_backend_id text primary key,
        polled_through timestamptz,
        polled_at timestamptz not null default clock_timestamp()
      );`);
    this.addSql(`
      create table shipment_channel_sync (
        shipment_id text not null references shipment (id) on delete cascade,
        channel_id text not null,
        synced_at timestamptz not null default clock_timestamp(),
        primary key (shipment_id, channel_id)
      );`);
    this.addSql(`
      create table shipment_channel_fulfillment (
        channel_id text not null,
        fulfillment_id text not null,
        shipment_id text not null references shipment (id) on delete cascade,
        recorded_at timestamptz not null default clock_timestamp(),
        primary key (channel_id, fulfillment_id)
      );`);
  }

  override down(): void {
    this.addSql('drop table if exists shipment_channel_fulfillment, shipment_channel_sync, shipment_poll;');
    this.addSql('alter table shipment drop column if exists erp_posting, drop column if exists erp_shipment_ref, drop column if exists erp_document_id;');
  }
}
