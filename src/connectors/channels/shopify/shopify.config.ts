import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsNotEmpty, IsObject, IsOptional, IsString, IsUrl, Matches, MaxLength } from 'class-validator';

/** A Shopify store reached through the Admin GraphQL API, sending webhooks signed with the app's secret. */
export class ShopifyConfig {
  @ApiProperty({ example: 'acme-eu.myshopify.com' })
  @Matches(/^[a-z0-9][a-z0-9-]*\.myshopify\.com$/, { message: 'shopDomain must look like name.myshopify.com' })
  shopDomain: string;

  @ApiProperty({ example: '2025-07' })
  @Matches(/^\d{4}-\d{2}$/, { message: 'apiVersion must look like 2025-07' })
  apiVersion: string;

  @ApiProperty({ description: 'Admin API access token; masked in every response and log' })
  @IsString() @IsNotEmpty() @MaxLength(500)
  accessToken: string;

  @ApiProperty({ description: "The app's webhook signing secret; masked in every response and log" })
  @IsString() @IsNotEmpty() @MaxLength(500)
  webhookSecret: string;

  @ApiPropertyOptional({ description: 'Overrides https://{shopDomain}/admin/api/{apiVersion} (simulators, proxies)' })
  @IsOptional() @IsUrl({ require_tld: false, require_protocol: true })
  adminApiBaseUrl?: string;

  @ApiPropertyOptional({ description: 'Crossdock warehouse code to Shopify location id', example: { 'WH-EAST': 'gid://shopify/Location/1' } })
  @IsOptional() @IsObject()
  locations?: Record<string, string>;
}
