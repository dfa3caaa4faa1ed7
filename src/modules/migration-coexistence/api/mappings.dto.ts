import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { ArrayMaxSize, IsArray, IsIn, IsOptional, IsString, Matches, MaxLength, ValidateNested } from 'class-validator';
import { RESOURCE_ID } from '../../../platform/http/resource-id.js';
import { VALUE_MAP_KINDS, type ValueMapKind } from '../domain/mappings-values.js';

/** Overrides of one pair: far more than a company has currencies, warehouses, or renumbered accounts and items. */
const MAX_VALUE_MAPS = 10_000;

export class MappingsQueryDto {
  @ApiPropertyOptional({ description: 'The legacy (SAP Business One) backend; defaults to the first legacy backend' })
  @IsOptional() @IsString() @Matches(RESOURCE_ID, { message: 'legacy must be an ERP backend id' })
  legacy?: string;

  @ApiPropertyOptional({ description: 'The cloud (Business Central) backend; defaults to the first cloud backend' })
  @IsOptional() @IsString() @Matches(RESOURCE_ID, { message: 'cloud must be an ERP backend id' })
  cloud?: string;
}

export class ValueMapDto {
  @ApiProperty({ enum: VALUE_MAP_KINDS })
  @IsIn(VALUE_MAP_KINDS)
  kind: ValueMapKind;

  @ApiProperty({ description: 'The SAP Business One value (a currency code, tYES/tNO, a WarehouseCode, a CardCode, an ItemCode)', example: '$' })
  @IsString() @MaxLength(100)
  legacy: string;

  @ApiProperty({ description: 'The Business Central value (a currency code, blank for the local one; blocked; a location code; a customer or item number)', example: '' })
  @IsString() @MaxLength(100)
  cloud: string;
}

export class ValueMapsDto {
  @ApiProperty({ type: [ValueMapDto], description: 'Every override of the pair: what is not listed falls back to the defaults from the backends\' configuration' })
  @IsArray() @ArrayMaxSize(MAX_VALUE_MAPS) @ValidateNested({ each: true }) @Type(() => ValueMapDto)
  maps: ValueMapDto[];
}
