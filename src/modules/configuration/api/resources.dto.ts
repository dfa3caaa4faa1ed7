import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  ArrayMaxSize, ArrayUnique, IsArray, IsIn, IsInt, IsNotEmpty, IsNumber, IsObject, IsOptional, IsString, Matches,
  Max, MaxLength, Min, ValidateNested, registerDecorator, type ValidationOptions,
} from 'class-validator';
import { RESOURCE_ID } from '../../../platform/http/resource-id.js';

const WEEKDAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;
const TIME_OF_DAY = /^([01]\d|2[0-3]):[0-5]\d$/;

function IsTimeZone(options?: ValidationOptions) {
  return (object: object, propertyName: string) =>
    registerDecorator({
      name: 'isTimeZone',
      target: object.constructor,
      propertyName,
      options: { message: `${propertyName} must be an IANA time zone such as Europe/Berlin`, ...options },
      validator: {
        validate(value: unknown) {
          if (typeof value !== 'string') return false;
          try {
            new Intl.DateTimeFormat('en', { timeZone: value });
            return true;
          } catch {
            return false;
          }
        },
      },
    });
}

/** How hard Crossdock may drive a target, shared by all instances. */
export class TargetLimitsDto {
  @ApiProperty({ example: 5, description: 'Sustained calls per second' })
  @IsNumber({ allowNaN: false, allowInfinity: false }) @Min(0.01) @Max(10_000)
  ratePerSecond: number;

  @ApiProperty({ example: 10, description: 'Calls allowed at once above the sustained rate' })
  @IsInt() @Min(1) @Max(10_000)
  burst: number;

  @ApiProperty({ example: 4, description: 'Calls in flight at once' })
  @IsInt() @Min(1) @Max(1_000)
  concurrency: number;
}

/** A recurring period, in the target's own time zone, when no call is made to it. */
export class MaintenanceWindowDto {
  @ApiProperty({ example: 'Europe/Berlin' })
  @IsTimeZone()
  timeZone: string;

  @ApiPropertyOptional({ enum: WEEKDAYS, isArray: true, description: 'Days the window starts on; every day when absent' })
  @IsOptional() @IsArray() @ArrayUnique() @IsIn(WEEKDAYS, { each: true })
  days?: (typeof WEEKDAYS)[number][];

  @ApiProperty({ example: '22:00' })
  @Matches(TIME_OF_DAY, { message: 'start must be HH:MM (24-hour)' })
  start: string;

  @ApiProperty({ example: '02:00', description: 'May be earlier than start: the window then runs past midnight' })
  @Matches(TIME_OF_DAY, { message: 'end must be HH:MM (24-hour)' })
  end: string;

  @ApiPropertyOptional()
  @IsOptional() @IsString() @MaxLength(200)
  description?: string;
}

export class ErpBackendDto {
  @ApiProperty({ enum: ['business-central', 'sap-b1'] })
  @IsString() @IsNotEmpty()
  kind: string;

  @ApiProperty({ enum: ['legacy', 'cloud'] })
  @IsIn(['legacy', 'cloud'])
  role: 'legacy' | 'cloud';

  @ApiProperty({ type: 'object', additionalProperties: true, description: "Connection settings; their shape depends on kind" })
  @IsObject()
  config: Record<string, unknown>;

  @ApiProperty({ type: () => TargetLimitsDto })
  @ValidateNested() @Type(() => TargetLimitsDto) @IsObject()
  limits: TargetLimitsDto;

  @ApiPropertyOptional({ type: () => [MaintenanceWindowDto], default: [] })
  @IsOptional() @IsArray() @ArrayMaxSize(50) @ValidateNested({ each: true }) @Type(() => MaintenanceWindowDto)
  maintenanceWindows?: MaintenanceWindowDto[];
}

export class ChannelInventoryDto {
  @ApiProperty({ example: ['WH-EAST', 'WH-WEST'], description: 'Warehouses whose stock this channel may sell, in order of preference' })
  @IsArray() @ArrayMaxSize(100) @ArrayUnique() @IsString({ each: true }) @Matches(RESOURCE_ID, { each: true, message: 'each warehouse must be a code of letters, digits, . _ -' })
  warehouses: string[];

  @ApiProperty({ example: 2, description: 'Units held back from this channel per SKU' })
  @IsInt() @Min(0) @Max(1_000_000_000)
  safetyStock: number;

  @ApiProperty({ example: 100, description: 'Share of the remaining stock offered to this channel, in percent' })
  @IsNumber({ allowNaN: false, allowInfinity: false }) @Min(0) @Max(100)
  allocationPercent: number;

  @ApiPropertyOptional({ example: 5, description: 'At or below this figure a SKU is low on stock: its updates go first (default 5)' })
  @IsOptional() @IsInt() @Min(0) @Max(1_000_000_000)
  lowStockThreshold?: number;
}

export class ChannelPricingDto {
  @ApiProperty({ example: 'RETAIL', description: "The price list the channel sells from (its prices beat the items' base prices)" })
  @IsString() @IsNotEmpty() @MaxLength(100)
  priceList: string;

  @ApiProperty({ example: 'USD', description: 'ISO 4217: the currency the channel sells in; prices in other currencies are not its prices' })
  @Matches(/^[A-Z]{3}$/, { message: 'currency must be an ISO 4217 code such as USD' })
  currency: string;

  @ApiPropertyOptional({ example: 0.01, default: 0.005, description: "Order intake: a line's unit price may differ from the effective price by this much per unit" })
  @IsOptional() @IsNumber({ allowNaN: false, allowInfinity: false }) @Min(0)
  tolerance?: number;

  @ApiPropertyOptional({ example: 1, default: 0, description: 'Order intake: or by this share of the effective price, in percent, where that is more' })
  @IsOptional() @IsNumber({ allowNaN: false, allowInfinity: false }) @Min(0) @Max(100)
  tolerancePercent?: number;

  @ApiPropertyOptional({
    enum: ['ignore', 'flag', 'hold', 'refuse'], default: 'ignore',
    description: 'Order intake, when a line differs from the effective price beyond the tolerance: `flag` accepts the order and records the lines; ' +
      '`hold` keeps it from the ERP (on hold, `price-mismatch`) until an operator releases it; `refuse` answers 422 naming the lines',
  })
  @IsOptional() @IsIn(['ignore', 'flag', 'hold', 'refuse'])
  onMismatch?: 'ignore' | 'flag' | 'hold' | 'refuse';
}

export class ChannelDto {
  @ApiProperty({ enum: ['shopify', 'webhook', 'api'] })
  @IsIn(['shopify', 'webhook', 'api'])
  kind: 'shopify' | 'webhook' | 'api';

  @ApiPropertyOptional({ example: 'Acme EU storefront' })
  @IsOptional() @IsString() @MaxLength(200)
  name?: string;

  @ApiProperty({ type: 'object', additionalProperties: true, description: 'Connection settings; their shape depends on kind' })
  @IsObject()
  config: Record<string, unknown>;

  @ApiProperty({ type: () => ChannelInventoryDto })
  @ValidateNested() @Type(() => ChannelInventoryDto) @IsObject()
  inventory: ChannelInventoryDto;

  @ApiProperty({ enum: ['reject', 'backorder'] })
  @IsIn(['reject', 'backorder'])
  oversell: 'reject' | 'backorder';

  @ApiPropertyOptional({ type: () => ChannelPricingDto, description: 'The prices this channel sells at; without it the channel is given no prices' })
  @IsOptional() @ValidateNested() @Type(() => ChannelPricingDto) @IsObject()
  pricing?: ChannelPricingDto;

  @ApiPropertyOptional({ type: () => TargetLimitsDto, description: 'Limits for calls to this channel (shopify, webhook)' })
  @IsOptional() @ValidateNested() @Type(() => TargetLimitsDto) @IsObject()
  limits?: TargetLimitsDto;
}

export class OperatorDto {
  @ApiProperty({ example: 'Dana Ops' })
  @IsString() @IsNotEmpty() @MaxLength(200)
  name: string;
}

export class SourceDto {
  @ApiProperty({ example: 'Main warehouse WMS' })
  @IsString() @IsNotEmpty() @MaxLength(200)
  name: string;

  @ApiPropertyOptional({ example: 'wms' })
  @IsOptional() @IsString() @MaxLength(64)
  kind?: string;
}
