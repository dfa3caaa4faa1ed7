import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsISO8601, IsInt, IsNotEmpty, IsOptional, IsString, Matches, Max, MaxLength, Min } from 'class-validator';
import { IsDecimal } from '../../../platform/http/decimal.js';

/** One price from a source system (POST /v1/prices). */
export class PriceItemDto {
  @ApiProperty({ description: "The source's event id: an event is applied once" })
  @IsString() @IsNotEmpty() @MaxLength(128)
  eventId: string;

  @ApiProperty({ example: 'WHOLESALE', description: "The list the price belongs to; `base` is the item's base price" })
  @IsString() @IsNotEmpty() @MaxLength(100)
  priceList: string;

  @ApiProperty({ example: '1896-S' })
  @IsString() @IsNotEmpty() @MaxLength(64)
  sku: string;

  @ApiProperty({ example: 'USD', description: 'ISO 4217' })
  @Matches(/^[A-Z]{3}$/, { message: 'currency must be an ISO 4217 code such as USD' })
  currency: string;

  @ApiProperty({ example: 12.5, description: 'Per unit, not negative, at most 6 decimals' })
  @IsDecimal(6) @Min(0) @Max(1e12)
  unitPrice: number;

  @ApiPropertyOptional({ example: 10, default: 0, description: 'The quantity break: the price applies from this quantity up' })
  @IsOptional() @IsDecimal(3) @Min(0) @Max(1e12)
  minQuantity?: number;

  @ApiPropertyOptional({ example: '10000', description: "An ERP account number: the customer's own price" })
  @IsOptional() @IsString() @IsNotEmpty() @MaxLength(64)
  customer?: string;

  @ApiPropertyOptional({ example: '2027-01-01T00:00:00Z', description: 'From when the price holds (a date means its start, UTC); open when absent' })
  @IsOptional() @IsISO8601({ strict: true }, { message: 'validFrom must be an ISO 8601 date or date-time' })
  validFrom?: string;

  @ApiPropertyOptional({ example: '2027-02-01T00:00:00Z', description: 'Until when, exclusive; open when absent' })
  @IsOptional() @IsISO8601({ strict: true }, { message: 'validTo must be an ISO 8601 date or date-time' })
  validTo?: string;

  @ApiPropertyOptional({ description: 'Grows with each change of this price; or send occurredAt' })
  @IsOptional() @IsInt() @Min(0) @Max(Number.MAX_SAFE_INTEGER)
  sequence?: number;

  @ApiPropertyOptional({ example: '2026-12-05T09:30:00Z', description: 'When the price was set at the source; or send sequence' })
  @IsOptional() @IsISO8601({ strict: true }, { message: 'occurredAt must be an ISO 8601 date-time' })
  occurredAt?: string;
}
