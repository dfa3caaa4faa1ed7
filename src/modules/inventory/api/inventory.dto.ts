import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsISO8601, IsInt, IsNotEmpty, IsOptional, IsString, Matches, Max, MaxLength, Min } from 'class-validator';
import { IsDecimal } from '../../../platform/http/decimal.js';

const CODE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/** An absolute position: the source's view of one SKU in one warehouse. */
export class StockLevelDto {
  @ApiProperty({ description: "The source's event id: an event is applied once" })
  @IsString() @IsNotEmpty() @MaxLength(128)
  eventId: string;

  @ApiProperty({ example: '1896-S' })
  @IsString() @IsNotEmpty() @MaxLength(64)
  sku: string;

  @ApiProperty({ example: 'WH-EAST' })
  @Matches(CODE, { message: 'warehouse must be a code of letters, digits, . _ - (at most 64)' })
  warehouse: string;

  @ApiProperty({ example: 120, description: 'At most 3 decimals' })
  @IsDecimal(3) @Min(-1e12) @Max(1e12)
  onHand: number;

  @ApiPropertyOptional({ example: 4, description: 'What the source holds back itself' })
  @IsOptional() @IsDecimal(3) @Min(0) @Max(1e12)
  reserved?: number;

  @ApiPropertyOptional({ description: 'Grows with each report of this SKU and warehouse; or send occurredAt' })
  @IsOptional() @IsInt() @Min(0) @Max(Number.MAX_SAFE_INTEGER)
  sequence?: number;

  @ApiPropertyOptional({ example: '2026-11-27T09:30:00Z', description: 'When the position was true at the source; or send sequence' })
  @IsOptional() @IsISO8601({ strict: true }, { message: 'occurredAt must be an ISO 8601 date-time' })
  occurredAt?: string;
}

export class StockMovementDto {
  @ApiProperty() @IsString() @IsNotEmpty() @MaxLength(128)
  eventId: string;

  @ApiProperty() @IsString() @IsNotEmpty() @MaxLength(64)
  sku: string;

  @ApiProperty() @Matches(CODE, { message: 'warehouse must be a code of letters, digits, . _ - (at most 64)' })
  warehouse: string;

  @ApiProperty({ example: -2, description: 'Change of on-hand, at most 3 decimals' })
  @IsDecimal(3) @Min(-1e12) @Max(1e12)
  delta: number;

  @ApiProperty() @IsInt() @Min(0) @Max(Number.MAX_SAFE_INTEGER)
  sequence: number;
}

export class AvailabilityQueryDto {
  @ApiProperty({ description: 'One or more SKUs: repeat the parameter or separate them with commas (at most 100)' })
  sku: string | string[];
}
