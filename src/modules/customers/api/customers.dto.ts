import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsIn, IsNotEmpty, IsNumber, IsObject, IsOptional, IsString, MaxLength, ValidateNested } from 'class-validator';
import { CUSTOMER_FIELDS } from '../domain/customer.js';

export class AddressDto {
  @ApiProperty() @IsString() @IsNotEmpty() @MaxLength(200) line1: string;
  @ApiPropertyOptional() @IsOptional() @IsString() @MaxLength(200) line2?: string | null;
  @ApiProperty() @IsString() @IsNotEmpty() @MaxLength(100) city: string;
  @ApiPropertyOptional() @IsOptional() @IsString() @MaxLength(20) postalCode?: string | null;
  @ApiPropertyOptional() @IsOptional() @IsString() @MaxLength(100) region?: string | null;
  @ApiProperty({ example: 'US', description: 'ISO 3166-1 alpha-2' }) @IsString() @MaxLength(2) country: string;
}

/** The fields a system changes; absent ones stay as they are. Quality rules are checked on the whole record. */
export class CustomerChangeDto {
  @ApiPropertyOptional() @IsOptional() @IsString() @MaxLength(200) name?: string | null;
  @ApiPropertyOptional({ example: 'buyer@adatum.example' }) @IsOptional() @IsString() @MaxLength(254) email?: string | null;
  @ApiPropertyOptional({ example: '+14255550100', description: 'Stored in E.164; a national number takes the address country' }) @IsOptional() @IsString() @MaxLength(40) phone?: string | null;
  @ApiPropertyOptional({ type: () => AddressDto }) @IsOptional() @ValidateNested() @Type(() => AddressDto) @IsObject() billingAddress?: AddressDto | null;
  @ApiPropertyOptional({ type: () => AddressDto }) @IsOptional() @ValidateNested() @Type(() => AddressDto) @IsObject() shippingAddress?: AddressDto | null;
  @ApiPropertyOptional() @IsOptional() @IsString() @MaxLength(40) taxId?: string | null;
  @ApiPropertyOptional({ description: 'blank, Ship, Invoice or All' }) @IsOptional() @IsIn(['', 'Ship', 'Invoice', 'All']) blocked?: string;
  @ApiPropertyOptional() @IsOptional() @IsNumber({ allowNaN: false, allowInfinity: false }) creditLimit?: number;
  @ApiPropertyOptional() @IsOptional() @IsNumber({ allowNaN: false, allowInfinity: false }) balanceDue?: number;
  @ApiPropertyOptional() @IsOptional() @IsString() @MaxLength(100) priceList?: string | null;
  @ApiPropertyOptional() @IsOptional() @IsString() @MaxLength(100) paymentTerms?: string | null;
}

export class OwnershipDto {
  @ApiProperty({ description: `Per field (${CUSTOMER_FIELDS.join(', ')}): erp, channel or crm; fields not named keep their owner`, example: { email: 'crm' } })
  @IsObject()
  fields: Record<string, string>;

  @ApiPropertyOptional({ enum: ['owner-wins', 'manual'], default: 'owner-wins' })
  @IsOptional() @IsIn(['owner-wins', 'manual'])
  onConflict?: 'owner-wins' | 'manual';
}

export class ConflictResolutionDto {
  @ApiProperty({ enum: ['current', 'incoming', 'value'], description: "Keep the record's value, take the other side's, or set `value`" })
  @IsIn(['current', 'incoming', 'value'])
  choose: 'current' | 'incoming' | 'value';

  @ApiPropertyOptional({ description: 'With choose: value' })
  @IsOptional()
  value?: unknown;

  @ApiProperty({ description: 'Why, for the audit log' })
  @IsString() @IsNotEmpty() @MaxLength(500)
  reason: string;
}
