import { applyDecorators } from '@nestjs/common';
import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsOptional } from 'class-validator';

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
