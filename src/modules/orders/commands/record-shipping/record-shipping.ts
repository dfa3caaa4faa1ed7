import { Command, CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import type { Sql } from '../../../../platform/database/transaction.js';
import { OrderStatusLog } from '../order-status-log.js';

/**
 * The order's shipments left some of it (`partially_shipped`) or all of it (`shipped`) on its way, in the
 * shipment's transaction: the status moves and the channel hears `order.status.changed`. True when it moved.
 */
export class RecordShippingCommand extends Command<boolean> {
  constructor(
    readonly sql: Sql,
    readonly orderId: string,
    readonly status: 'partially_shipped' | 'shipped',
    readonly reason: string,
  ) {
    super();
  }
}

@CommandHandler(RecordShippingCommand)
export class RecordShippingHandler implements ICommandHandler<RecordShippingCommand, boolean> {
  constructor(private readonly log: OrderStatusLog) {}

  execute({ sql, orderId, status, reason }: RecordShippingCommand): Promise<boolean> {
    return this.log.move(sql, orderId, status, { reason });
  }
}
