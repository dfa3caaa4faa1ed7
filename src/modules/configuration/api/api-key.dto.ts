import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { ArrayMaxSize, ArrayMinSize, IsArray, IsIn, IsOptional, IsString, MaxLength } from 'class-validator';
import { SCOPES } from '../../../platform/security/scopes.js';

export class CreateApiKeyDto {
  @ApiProperty({ enum: SCOPES, isArray: true, example: ['orders:write', 'orders:read'] })
  @IsArray() @ArrayMinSize(1) @ArrayMaxSize(SCOPES.length) @IsIn(SCOPES, { each: true })
  scopes: string[];

  @ApiPropertyOptional({ example: 'storefront 2026-11' })
  @IsOptional() @IsString() @MaxLength(100)
  name?: string;
}

export class CreatedApiKeyDto {
  @ApiProperty() id: string;
  @ApiProperty({ description: 'The key; shown this once and never again' }) key: string;
  @ApiProperty({ isArray: true, enum: SCOPES }) scopes: string[];
  @ApiProperty() prefix: string;
  @ApiPropertyOptional() name: string | null;
  @ApiProperty() createdAt: Date;
}
