import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsNotEmpty, IsObject, IsOptional, IsString, IsUrl, MaxLength } from 'class-validator';

/** Business Central API v2.0 connection, as an Entra ID app registration with client credentials sees it. */
export class BusinessCentralConfig {
  @ApiProperty({ description: 'Entra ID tenant (directory) id' })
  @IsString() @IsNotEmpty() @MaxLength(100)
  tenantId: string;

  @ApiProperty({ example: 'production' })
  @IsString() @IsNotEmpty() @MaxLength(100)
  environment: string;

  @ApiProperty({ description: 'Business Central company id (GUID)' })
  @IsString() @IsNotEmpty() @MaxLength(100)
  companyId: string;

  @ApiProperty()
  @IsString() @IsNotEmpty() @MaxLength(200)
  clientId: string;

  @ApiProperty({ description: 'Secret; masked in every response and log' })
  @IsString() @IsNotEmpty() @MaxLength(500)
  clientSecret: string;

  @ApiPropertyOptional({ description: 'Defaults to https://api.businesscentral.dynamics.com/v2.0/{tenantId}/{environment}/api/v2.0' })
  @IsOptional() @IsUrl({ require_tld: false, require_protocol: true })
  baseUrl?: string;

  @ApiPropertyOptional({ description: 'Defaults to https://login.microsoftonline.com/{tenantId}/oauth2/v2.0/token' })
  @IsOptional() @IsUrl({ require_tld: false, require_protocol: true })
  tokenUrl?: string;

  @ApiPropertyOptional({ description: 'Crossdock warehouse code to Business Central location id, for the lines of sales orders', example: { 'WH-EAST': 'b6a2b8d6-...' } })
  @IsOptional() @IsObject()
  locations?: Record<string, string>;
}
