import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  ArrayMaxSize, ArrayMinSize, ArrayUnique, IsArray, IsISO31661Alpha2, IsISO4217CurrencyCode, IsNotEmpty, IsObject,
  IsOptional, IsString, Matches, Max, MaxLength, Min, ValidateNested,
} from 'class-validator';
import { IsDecimal } from '../../../platform/http/decimal.js';
import { ORDER_STATUSES } from '../domain/order-status.js';

const ID_LENGTH = 64;

export class OrderCustomerDto {
  @ApiProperty({ example: '10000', description: "The customer's account number in the ERP" })
  @IsString() @IsNotEmpty() @MaxLength(ID_LENGTH)
  accountNumber: string;
}

export class OrderLineDto {
  @ApiProperty({ example: '1', description: "The channel's line id, unique in the order" })
  @IsString() @IsNotEmpty() @MaxLength(ID_LENGTH)
  lineId: string;

  @ApiProperty({ example: '1896-S' })
  @IsString() @IsNotEmpty() @MaxLength(ID_LENGTH)
  sku: string;

  @ApiProperty({ example: 2, description: 'Positive, at most 3 decimals' })
  @IsDecimal(3, { message: 'quantity must be a number with at most 3 decimals' })
  @Min(0.001, { message: 'quantity must be positive' }) @Max(1_000_000_000)
  quantity: number;

  @ApiProperty({ example: 1000.8, description: 'Not negative, at most 4 decimals' })
  @IsDecimal(4, { message: 'unitPrice must be a number with at most 4 decimals' })
  @Min(0, { message: 'unitPrice must not be negative' }) @Max(1_000_000_000)
  unitPrice: number;
}

export class ShipToDto {
  @ApiPropertyOptional({ example: 'Adatum Corporation' })
  @IsOptional() @IsString() @MaxLength(200)
  name?: string;

  @ApiPropertyOptional({ example: 'Station Road, 21' })
  @IsOptional() @IsString() @MaxLength(200)
  line1?: string;

  @ApiPropertyOptional()
  @IsOptional() @IsString() @MaxLength(200)
  line2?: string;

  @ApiPropertyOptional({ example: 'Cambridge' })
  @IsOptional() @IsString() @MaxLength(100)
  city?: string;

  @ApiPropertyOptional({ example: 'CB1 2FB' })
  @IsOptional() @IsString() @MaxLength(20)
  postalCode?: string;

  @ApiPropertyOptional()
  @IsOptional() @IsString() @MaxLength(100)
  region?: string;

  @ApiProperty({ example: 'GB', description: 'ISO 3166-1 alpha-2' })
  @IsISO31661Alpha2({ message: 'country must be an ISO 3166-1 alpha-2 code' })
  country: string;
}

export class CreateOrderDto {
  @ApiProperty({ example: 'PORTAL-100045', description: "The channel's order id; one order per id and channel" })
  @IsString() @IsNotEmpty() @MaxLength(ID_LENGTH)
  channelOrderId: string;

  @ApiProperty({ type: () => OrderCustomerDto })
  @ValidateNested() @Type(() => OrderCustomerDto) @IsObject()
  customer: OrderCustomerDto;

  @ApiProperty({ example: 'EUR', description: 'ISO 4217' })
  @IsISO4217CurrencyCode({ message: 'currency must be an ISO 4217 code' })
  currency: string;

  @ApiProperty({ type: () => [OrderLineDto], minItems: 1, maxItems: 500 })
  @IsArray() @ArrayMinSize(1) @ArrayMaxSize(500)
  @ArrayUnique((line: OrderLineDto) => line?.lineId, { message: 'lines must have unique lineIds' })
  @ValidateNested({ each: true }) @Type(() => OrderLineDto)
  lines: OrderLineDto[];

  @ApiProperty({ type: () => ShipToDto })
  @ValidateNested() @Type(() => ShipToDto) @IsObject()
  shipTo: ShipToDto;

  @ApiPropertyOptional({ example: '2026-12-01' })
  @IsOptional() @Matches(/^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$/, { message: 'requestedShipDate must be a date as YYYY-MM-DD' })
  requestedShipDate?: string;

  @ApiPropertyOptional()
  @IsOptional() @IsString() @MaxLength(2000)
  notes?: string;
}

export class OrderAcceptedDto {
  @ApiProperty({ format: 'uuid' }) orderId: string;
  @ApiProperty({ enum: ORDER_STATUSES }) status: string;
  @ApiProperty() correlationId: string;
}

export class OrderQueryDto {
  @ApiPropertyOptional({ description: "The channel's order id" })
  @IsOptional() @IsString() @IsNotEmpty() @MaxLength(ID_LENGTH)
  channelOrderId?: string;

  @ApiPropertyOptional({ description: 'Admin only: the channel whose order id this is' })
  @IsOptional() @IsString() @IsNotEmpty() @MaxLength(ID_LENGTH)
  channelId?: string;
}
