/**
 * The read model of one ERP backend's customers was refreshed: holds may be lifted, new blocks apply. Durable:
 * published through the outbox in the transaction that stored the figures.
 */
export class CustomersSynced {
  static readonly type = 'customers.synced';

  constructor(
    readonly backendId: string,
    readonly customerNumbers: readonly string[],
  ) {}
}
