import { applyDecorators } from '@nestjs/common';
import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsBoolean, IsIn, IsOptional } from 'class-validator';

/** The settings every ERP backend takes whatever its kind. */
export type ErpPosting = 'none' | 'ship';

/** `erpPosting` on a connector's config class: whether shipments from elsewhere are posted in this ERP. */
export function ErpPostingField(): PropertyDecorator {
  return applyDecorators(
    ApiPropertyOptional({
      enum: ['none', 'ship'], default: 'none',
      description: '`ship`: a shipment reported by another system (the warehouse, a store) is posted in this ERP against its sales order; ' +
        '`none`: the ERP is not told (it ships by itself, or another system posts there)',
    }),
    IsOptional(),
    IsIn(['none', 'ship']),
  );
}

/** `acceptNewCustomers` on a connector's config class: whether accounts first made elsewhere are created in this ERP. */
export function AcceptNewCustomersField(): PropertyDecorator {
  return applyDecorators(
    ApiPropertyOptional({
      type: Boolean, default: false,
      description: '`true`: a customer first made by another system (a portal, a CRM: `PUT /v1/customers/{accountNumber}` of an account the ' +
        'ERP does not have) is created in this ERP under its account number, once it passes the quality rules; `false`: it is refused (404)',
    }),
    IsOptional(),
    IsBoolean(),
  );
}
