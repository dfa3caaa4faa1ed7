import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  ArrayMaxSize, ArrayUnique, IsArray, IsIn, IsInt, IsNotEmpty, IsNumber, IsObject, IsOptional, IsString, Matches,
  Max, MaxLength, Min, ValidateNested, registerDecorator, type ValidationOptions,
} from 'class-validator';
import { RESOURCE_ID } from '../../../platform/http/resource-id.js';

const WEEKDAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;
const TIME_OF_DAY = /^([01]\d|2[0-3]):[0-5]\d$/;

/** A property decorator from a check that says what is wrong with a value, if anything. */
function checkedBy(name: string, problem: (value: unknown, propertyName: string) => string | undefined) {
  return (options?: ValidationOptions) => (object: object, propertyName: string) =>
    registerDecorator({
      name,
      target: object.constructor,
      propertyName,
      options,
      validator: {
        validate: (value: unknown) => problem(value, propertyName) === undefined,
        defaultMessage: (args) => problem(args?.value, propertyName) ?? `${propertyName} is not valid`,
      },
    });
}

function isTimeZone(value: unknown): boolean {
  if (typeof value !== 'string') return false;
  try {
    new Intl.DateTimeFormat('en', { timeZone: value });
    return true;
  } catch {
    return false;
  }
}

const IsTimeZone = checkedBy('isTimeZone', (value, propertyName) => (isTimeZone(value) ? undefined : `${propertyName} must be an IANA time zone such as Europe/Berlin`));

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

const MAX_OBJECTIVE_SECONDS = 30 * 24 * 3600;
const FLOW_TYPE = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,99}$/;
const MAX_FLOW_OBJECTIVES = 100;

/** What is wrong with a map of message type to `{maxAgeSeconds}`, if anything. */
function flowObjectivesProblem(value: unknown, propertyName: string): string | undefined {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return `${propertyName} must be a mapping of message type to {maxAgeSeconds}`;
  const entries = Object.entries(value);
  if (entries.length > MAX_FLOW_OBJECTIVES) return `${propertyName} may name at most ${MAX_FLOW_OBJECTIVES} message types`;
  for (const [flow, objective] of entries) {
    if (!FLOW_TYPE.test(flow)) return `${propertyName}: "${flow}" is not a message type (such as erp.sales-order.create)`;
    const keys = objective !== null && typeof objective === 'object' ? Object.keys(objective) : [];
    const seconds = (objective as { maxAgeSeconds?: unknown } | null)?.maxAgeSeconds;
    if (keys.length !== 1 || keys[0] !== 'maxAgeSeconds' || !Number.isInteger(seconds) || (seconds as number) < 1 || (seconds as number) > MAX_OBJECTIVE_SECONDS) {
      return `${propertyName}.${flow} must be {maxAgeSeconds: a whole number of seconds from 1 to ${MAX_OBJECTIVE_SECONDS}}`;
    }
  }
  return undefined;
}

const IsFlowObjectives = checkedBy('isFlowObjectives', flowObjectivesProblem);

const MAX_RECONCILE_MINUTES = 7 * 24 * 60;

/** How often one domain is reconciled with this target. */
export class ReconcileScheduleDto {
  @ApiProperty({ example: 60, minimum: 1, maximum: MAX_RECONCILE_MINUTES, description: 'Minutes from the end of one run to the start of the next' })
  @IsInt() @Min(1) @Max(MAX_RECONCILE_MINUTES)
  intervalMinutes: number;
}

/** Per domain, how often its reconciliation compares this target with what it should hold (docs/RECONCILIATION.md). */
export class ReconcileDto {
  @ApiPropertyOptional({ type: () => ReconcileScheduleDto, description: "Stock: the target's figures against what Crossdock published (channels) or the truth (ERP)" })
  @IsOptional() @ValidateNested() @Type(() => ReconcileScheduleDto) @IsObject()
  inventory?: ReconcileScheduleDto;

  @ApiPropertyOptional({ type: () => ReconcileScheduleDto, description: "Orders: the ERP's orders against the orders Crossdock placed there" })
  @IsOptional() @ValidateNested() @Type(() => ReconcileScheduleDto) @IsObject()
  orders?: ReconcileScheduleDto;

  @ApiPropertyOptional({ type: () => ReconcileScheduleDto, description: "Prices: the target's prices against what Crossdock published (channels) or the truth (the ERP routed for pricing)" })
  @IsOptional() @ValidateNested() @Type(() => ReconcileScheduleDto) @IsObject()
  prices?: ReconcileScheduleDto;

  @ApiPropertyOptional({ type: () => ReconcileScheduleDto, description: "Customers: the ERP's customers against the record, field by field as each is owned; a store's customers and companies against what it was sent" })
  @IsOptional() @ValidateNested() @Type(() => ReconcileScheduleDto) @IsObject()
  customers?: ReconcileScheduleDto;
}

/**
 * A delay objective for the messages going to one destination: the oldest one not yet delivered should be at
 * most this old. Past it, a breach is opened and told once (GET /v1/ops/slo, the alert webhook and email).
 */
export class DelayObjectiveDto {
  @ApiPropertyOptional({ example: 300, minimum: 1, maximum: MAX_OBJECTIVE_SECONDS, description: 'For every flow (message type) to this destination that has no objective of its own' })
  @IsOptional() @IsInt() @Min(1) @Max(MAX_OBJECTIVE_SECONDS)
  maxAgeSeconds?: number;

  @ApiPropertyOptional({
    type: 'object', additionalProperties: { type: 'object', properties: { maxAgeSeconds: { type: 'integer', minimum: 1, maximum: MAX_OBJECTIVE_SECONDS } } },
    example: { 'erp.sales-order.create': { maxAgeSeconds: 120 } },
    description: 'Per flow (message type): its own objective, over the default',
  })
  @IsOptional() @IsFlowObjectives()
  flows?: Record<string, { maxAgeSeconds: number }>;
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

  @ApiPropertyOptional({ type: () => DelayObjectiveDto, description: 'Delay objective of the messages to this backend' })
  @IsOptional() @ValidateNested() @Type(() => DelayObjectiveDto) @IsObject()
  slo?: DelayObjectiveDto;

  @ApiPropertyOptional({ type: () => ReconcileDto, description: 'How often each domain is reconciled with this backend', example: { orders: { intervalMinutes: 60 } } })
  @IsOptional() @ValidateNested() @Type(() => ReconcileDto) @IsObject()
  reconcile?: ReconcileDto;
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

  @ApiPropertyOptional({ type: () => DelayObjectiveDto, description: 'Delay objective of the messages to this channel' })
  @IsOptional() @ValidateNested() @Type(() => DelayObjectiveDto) @IsObject()
  slo?: DelayObjectiveDto;

  @ApiPropertyOptional({ type: () => ReconcileDto, description: 'How often each domain is reconciled with this channel', example: { inventory: { intervalMinutes: 15 } } })
  @IsOptional() @ValidateNested() @Type(() => ReconcileDto) @IsObject()
  reconcile?: ReconcileDto;
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

  @ApiPropertyOptional({
    example: 'sap-legacy',
    description: "The ERP backend whose stock this source reports (an ERP's own add-on pushing its levels): they apply only while that backend is the inventory authority; from the shadow of a migration they are compared, never applied; from any other backend they are refused",
  })
  @IsOptional() @Matches(RESOURCE_ID, { message: 'erpBackend must be an ERP backend id' })
  erpBackend?: string;
}
