/**
 * An ERP notified a change of one of its customers (or, `collection`, of many): read back and applied by the
 * customers module, once, retried while the ERP cannot answer. Durable: published in the transaction that accepted
 * the notification.
 */
export class ErpCustomerNoticed {
  static readonly type = 'erp.customer.noticed';

  constructor(
    readonly backendId: string,
    readonly resource: string,
    readonly changeType: 'created' | 'updated' | 'deleted' | 'collection',
    readonly recordId: string | null,
  ) {}
}
