import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsBoolean, IsIn, IsInt, IsNotEmpty, IsObject, IsOptional, IsString, IsUrl, Matches, Max, MaxLength, Min, ValidateNested } from 'class-validator';

/** Where the store keeps each customer's ERP account number. */
export class AccountNumberSourceDto {
  @ApiProperty({ enum: ['customer-tag', 'note-attribute', 'email'] })
  @IsIn(['customer-tag', 'note-attribute', 'email'])
  source: 'customer-tag' | 'note-attribute' | 'email';

  @ApiPropertyOptional({ example: 'erp:', description: 'customer-tag: the tag is this prefix followed by the account number' })
  @IsOptional() @IsString() @MaxLength(50)
  tagPrefix?: string;

  @ApiPropertyOptional({ example: 'erp_account_number', description: 'note-attribute: the attribute name' })
  @IsOptional() @IsString() @MaxLength(100)
  attribute?: string;

  @ApiPropertyOptional({ example: { 'buyer@adatum.example': '10000' }, description: 'email: account number per customer email' })
  @IsOptional() @IsObject()
  emails?: Record<string, string>;

  @ApiPropertyOptional({ example: '40000', description: 'The account for orders that carry none' })
  @IsOptional() @IsString() @MaxLength(64)
  fallback?: string;
}

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

  @ApiPropertyOptional({
    description: "Crossdock price list to the Shopify B2B price list that takes its prices as fixed prices; a list not named here goes to the variants' own prices",
    example: { 'DEALER-EUR': 'gid://shopify/PriceList/31901516110' },
  })
  @IsOptional() @IsObject()
  priceLists?: Record<string, string>;

  @ApiPropertyOptional({
    default: 250, minimum: 1, maximum: 250,
    description: "Inventory items (or variants, for prices) read a call when reconciling the store (fewer items with several locations: one query costs at most 1,000 points)",
  })
  @IsOptional() @IsInt() @Min(1) @Max(250)
  reconcilePageSize?: number;

  @ApiPropertyOptional({
    enum: ['pages', 'bulk'], default: 'pages',
    description: "How inventory reconciliation reads the store: 'pages' of inventory items, paced by Shopify's query cost, or 'bulk', one bulk "
      + 'operation that reads the whole catalogue for a flat cost (for large stores: minutes instead of an hour at 100,000 SKUs on the Standard plan)',
  })
  @IsOptional() @IsIn(['pages', 'bulk'])
  reconcileRead?: 'pages' | 'bulk';

  @ApiPropertyOptional({ default: true, description: "Shopify emails the customer when Crossdock fulfils a shipment or changes its tracking" })
  @IsOptional() @IsBoolean()
  notifyCustomer?: boolean;

  @ApiPropertyOptional({ type: () => AccountNumberSourceDto, description: 'Defaults to a customer tag erp:<number>' })
  @IsOptional() @ValidateNested() @Type(() => AccountNumberSourceDto) @IsObject()
  customerAccount?: AccountNumberSourceDto;
}
