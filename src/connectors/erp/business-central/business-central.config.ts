import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsNotEmpty, IsObject, IsOptional, IsString, IsUrl, Matches, MaxLength, registerDecorator, type ValidationOptions } from 'class-validator';
import { AcceptNewCustomersField, ErpPostingField, type ErpPosting } from '../erp-config.js';

/** Business Central's location Code field holds up to 10 characters; blank is its "no location". */
const LOCATION_CODE_LENGTH = 10;
/** A custom API page: its entity set, optionally after its own API route (`publisher/group/version/`). */
const CUSTOM_PAGE = /^(?:[\w-]+\/[\w-]+\/v\d+\.\d+\/)?[A-Za-z_]\w{0,99}$/;

/** An object whose every value is a string of at most `maxLength` characters (keys are Crossdock warehouse codes). */
function IsStringMap(maxLength: number, options?: ValidationOptions) {
  return (object: object, propertyName: string) =>
    registerDecorator({
      name: 'isStringMap',
      target: object.constructor,
      propertyName,
      options: { message: `${propertyName} must map each warehouse code to a string of at most ${maxLength} characters`, ...options },
      validator: {
        validate: (value: unknown) =>
          value !== null && typeof value === 'object' && !Array.isArray(value) &&
          Object.values(value).every((v) => typeof v === 'string' && v.length <= maxLength),
      },
    });
}

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

  @ApiPropertyOptional({
    description: 'Crossdock warehouse code to Business Central location code (`location.code`), for reading stock per location from item ' +
      'ledger entries; an empty code is Business Central\'s blank location',
    example: { 'WH-EAST': 'EAST', 'WH-WEST': 'WEST' },
  })
  @IsOptional() @IsStringMap(LOCATION_CODE_LENGTH)
  locationCodes?: Record<string, string>;

  @ApiPropertyOptional({ description: 'Business Central\'s analytics API, where item ledger entries carry their location. Defaults to baseUrl with /api/v2.0 replaced by /api/microsoft/analytics/v1.0' })
  @IsOptional() @IsUrl({ require_tld: false, require_protocol: true })
  analyticsBaseUrl?: string;

  @ErpPostingField()
  erpPosting?: ErpPosting;

  @AcceptNewCustomersField()
  acceptNewCustomers?: boolean;

  @ApiPropertyOptional({
    description: 'The bound action of salesOrders that posts a shipment, called as `salesOrders({id})/Microsoft.NAV.{action}` once the lines\' ' +
      '`shipQuantity` are set. API v2.0 has one, `shipAndInvoice`, which invoices what it ships; a company may publish its own that only ships',
    default: 'shipAndInvoice',
    example: 'ship',
  })
  @IsOptional() @IsString() @Matches(/^[A-Za-z_]\w{0,99}$/, { message: 'shipmentPostingAction must be the name of a bound action, such as shipAndInvoice' })
  shipmentPostingAction?: string;

  @ApiPropertyOptional({
    description: 'A custom API page that shows the posted sales shipments\' tracking, which API v2.0 leaves out: rows with `number`, ' +
      '`packageTrackingNo` and `shippingAgentCode` (the Sales Shipment Header\'s fields), read for the shipments each poll finds. Its entity set under the ' +
      'company of baseUrl\'s API (`salesShipmentTracking`), or with its own API route (`contoso/shipping/v1.0/salesShipmentTracking`, read under ' +
      'baseUrl with /api/v2.0 replaced by /api/contoso/shipping/v1.0). Without it, polled shipments carry no tracking number or carrier',
    example: 'contoso/shipping/v1.0/salesShipmentTracking',
  })
  @IsOptional() @IsString()
  @Matches(CUSTOM_PAGE, { message: 'shipmentTrackingPage must be an entity set name, optionally after its API route (publisher/group/version/)' })
  shipmentTrackingPage?: string;

  @ApiPropertyOptional({
    description: 'The company\'s local currency (LCY), ISO 4217: the currency of the items\' unitPrice, and of a row of the customer prices page ' +
      'whose currencyCode is blank',
    default: 'USD',
    example: 'EUR',
  })
  @IsOptional() @IsString() @Matches(/^[A-Z]{3}$/, { message: 'currency must be an ISO 4217 code, such as USD' })
  currency?: string;

  @ApiPropertyOptional({
    description: 'API v2.0 has no price lists or customer prices, only the item\'s unitPrice: a custom API page over the Price List Line table ' +
      'gives them, read whole at each price pull. Its rows: `priceListCode`, `itemNo`, `customerNo` (blank for a list price), `currencyCode` ' +
      '(blank: `currency`), `unitPrice`, `minimumQuantity`, `startingDate` and `endingDate` (the last day the price holds; blank, 0001-01-01, ' +
      'is open). Its entity set under the company of baseUrl\'s API (`customerPrices`), or with its own API route ' +
      '(`contoso/pricing/v1.0/customerPrices`, read under baseUrl with /api/v2.0 replaced by /api/contoso/pricing/v1.0). Without it, only the ' +
      'items\' unit prices are pulled',
    example: 'contoso/pricing/v1.0/customerPrices',
  })
  @IsOptional() @IsString() @Matches(CUSTOM_PAGE, { message: 'customerPricesApi must be an entity set name, optionally after its API route (publisher/group/version/)' })
  customerPricesApi?: string;
}
