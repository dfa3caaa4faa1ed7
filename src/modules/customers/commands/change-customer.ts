import { Command, CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import type { Sql } from '../../../platform/database/transaction.js';
import type { CustomerChange } from '../domain/customer.js';
import { CustomerRecords, type ChangeOutcome, type ChangeRoute, type SystemId } from './customer-records.js';

/**
 * A change of a customer from another module's intake (a store's customers webhook), judged and applied in the
 * caller's transaction like any other: what its system does not own is left out, and a record breaking a quality
 * rule is not written (the outcome says why).
 */
export class ChangeCustomerCommand extends Command<ChangeOutcome> {
  constructor(
    readonly sql: Sql,
    readonly accountNumber: string,
    readonly change: CustomerChange,
    readonly route: Exclude<ChangeRoute, 'api'>,
    readonly source: string,
    readonly systemId?: SystemId | SystemId[],
    /** When the source made the change: an older one than the source's newest is stale. */
    readonly occurredAt?: Date,
  ) {
    super();
  }
}

@CommandHandler(ChangeCustomerCommand)
export class ChangeCustomerHandler implements ICommandHandler<ChangeCustomerCommand, ChangeOutcome> {
  constructor(private readonly records: CustomerRecords) {}

  execute({ sql, accountNumber, change, route, source, systemId, occurredAt }: ChangeCustomerCommand): Promise<ChangeOutcome> {
    return this.records.change(sql, accountNumber, change, route, source, systemId, { occurredAt });
  }
}
