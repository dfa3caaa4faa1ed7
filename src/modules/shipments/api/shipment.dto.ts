import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { ArrayMaxSize, ArrayMinSize, IsArray, IsIn, IsISO8601, IsNotEmpty, IsOptional, IsString, IsUrl, Max, MaxLength, Min, ValidateNested } from 'class-validator';
import { IsDecimal } from '../../../platform/http/decimal.js';
import type { FieldError } from '../../../platform/http/field-errors.js';

export const SHIPMENT_STATUSES = ['shipped', 'in_transit', 'delivered', 'cancelled'] as const;

export class ShipmentLineDto {
  @ApiProperty({ example: '1896-S' })
  @IsString() @IsNotEmpty() @MaxLength(64)
  sku: string;

  @ApiProperty({ example: 2, description: 'More than 0, at most 3 decimals' })
  @IsDecimal(3) @Min(0.001) @Max(1e12)
  quantity: number;

  @ApiPropertyOptional({ description: "The order line's id; without it the line is matched by SKU" })
  @IsOptional() @IsString() @IsNotEmpty() @MaxLength(64)
  lineId?: string;
}

/** `POST /v1/shipments/events`: the order named by one of orderId, channelOrderId, erpOrderRef. */
export class ShipmentEventDto {
  @ApiProperty({ description: "The source's event id: an event is applied once" })
  @IsString() @IsNotEmpty() @MaxLength(128)
  eventId: string;

  @ApiPropertyOptional() @IsOptional() @IsString() @IsNotEmpty() @MaxLength(64)
  orderId?: string;

  @ApiPropertyOptional() @IsOptional() @IsString() @IsNotEmpty() @MaxLength(128)
  channelOrderId?: string;

  @ApiPropertyOptional() @IsOptional() @IsString() @IsNotEmpty() @MaxLength(64)
  erpOrderRef?: string;

  @ApiProperty({ description: "The source's id for the shipment (opaque)" })
  @IsString() @IsNotEmpty() @MaxLength(128)
  shipmentId: string;

  @ApiProperty({ enum: SHIPMENT_STATUSES })
  @IsIn(SHIPMENT_STATUSES)
  status: (typeof SHIPMENT_STATUSES)[number];

  @ApiPropertyOptional({ example: 'DHL' }) @IsOptional() @IsString() @MaxLength(64)
  carrier?: string;

  @ApiPropertyOptional() @IsOptional() @IsString() @MaxLength(128)
  trackingNumber?: string;

  @ApiPropertyOptional() @IsOptional() @IsUrl({ require_protocol: true, protocols: ['http', 'https'] }) @MaxLength(2048)
  trackingUrl?: string;

  @ApiProperty({ type: [ShipmentLineDto] })
  @IsArray() @ArrayMinSize(1) @ArrayMaxSize(500) @ValidateNested({ each: true }) @Type(() => ShipmentLineDto)
  lines: ShipmentLineDto[];

  @ApiProperty({ example: '2026-12-02T09:30:00Z', description: 'When it happened at the source: an older event for the same shipment is stale' })
  @IsISO8601({ strict: true }, { message: 'occurredAt must be an ISO 8601 date-time' })
  occurredAt: string;
}

/** What the class's rules cannot say of an event: it names its order once, and happened in a time we can store. */
export function shipmentEventErrors(event: ShipmentEventDto): FieldError[] {
  const errors: FieldError[] = [];
  const named = [event.orderId, event.channelOrderId, event.erpOrderRef].filter((r) => r !== undefined);
  if (named.length !== 1) errors.push({ field: 'orderId', message: 'name the order by exactly one of orderId, channelOrderId and erpOrderRef' });
  const at = Date.parse(event.occurredAt);
  if (!(at >= Date.UTC(1970, 0, 1) && at < Date.UTC(10000, 0, 1))) errors.push({ field: 'occurredAt', message: 'occurredAt must be a time between 1970 and 9999' });
  return errors;
}
