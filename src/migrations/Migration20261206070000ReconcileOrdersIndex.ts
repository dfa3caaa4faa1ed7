import { Migration } from '@mikro-orm/migrations';

/**
 * The orders' reconciliation reads each backend's placed orders a page at a time in reference order: an index in
 * that order, of the orders an ERP has numbered, so that a page is a range read rather than a scan of every order.
 */
export class Migration20261206070000ReconcileOrdersIndex extends Migration {
  override up(): void {
    this.addSql('create index if not exists sales_order_reconcile_idx on sales_order (erp_backend_id, reference) where erp_order_ref is not null;');
  }

  override down(): void {
    this.addSql('drop index if exists sales_order_reconcile_idx;');
  }
}
