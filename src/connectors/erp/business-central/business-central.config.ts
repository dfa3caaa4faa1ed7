import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsNotEmpty, IsOptional, IsString, IsUrl, MaxLength } from 'class-validator';

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
}
