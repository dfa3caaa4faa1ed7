import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { ArrayUnique, IsArray, IsIn, IsInt, IsNotEmpty, IsOptional, IsString, IsUrl, Matches, Max, MaxLength, Min, ValidateBy, type ValidationOptions } from 'class-validator';
import { ALL_CURRENCIES } from './sap-b1.currencies.js';
import { AcceptNewCustomersField, ErpPostingField, type ErpPosting } from '../erp-config.js';

/** SAP's warehouse code (OWHS.WhsCode) holds up to 8 characters, its currency code (OCRN.CurrCode) up to 3. */
const WAREHOUSE_CODE_LENGTH = 8;
const CURRENCY_CODE_LENGTH = 3;

/**
 * The marketing documents and inventory transactions whose changes the stock read follows (every one that moves
 * `InStock` or `Committed` of an item in a warehouse), by their Service Layer collection names.
 */
export const SAP_STOCK_DOCUMENTS = [
  'Orders', 'DeliveryNotes', 'Returns', 'Invoices', 'CreditNotes',
  'PurchaseDeliveryNotes', 'PurchaseReturns', 'InventoryGenEntries', 'InventoryGenExits', 'StockTransfers',
] as const;
export type SapStockDocument = (typeof SAP_STOCK_DOCUMENTS)[number];

/** An object of string keys to string values, each checked by `entry`; `uniqueValues` when no two keys may share a value. */
function IsCodeTable(entry: (key: string, value: unknown) => boolean, message: string, uniqueValues = false, options?: ValidationOptions) {
  return ValidateBy({
    name: 'isCodeTable',
    validator: {
      validate: (table: unknown) => {
        if (table === null || typeof table !== 'object' || Array.isArray(table)) return false;
        const entries = Object.entries(table);
        return entries.every(([key, value]) => entry(key, value)) && (!uniqueValues || new Set(entries.map(([, v]) => v)).size === entries.length);
      },
      defaultMessage: (args) => `${args?.property ?? 'the table'} ${message}`,
    },
  }, options);
}

/**
 * SAP Business One Service Layer connection: a session opened by `POST /Login` with company database, user and
 * password, one per backend and process.
 */
export class SapB1Config {
  @ApiProperty({
    description: 'The Service Layer root with its version: `/b1s/v1` (OData v3 answers) or `/b1s/v2` (OData v4); the version decides the shape ' +
      'of answers and errors the connector reads',
    example: 'https://b1.example.com:50000/b1s/v1',
  })
  @IsUrl({ require_tld: false, require_protocol: true })
  @Matches(/\/b1s\/v[12]\/?$/, { message: 'baseUrl must end with the Service Layer version path, /b1s/v1 or /b1s/v2' })
  baseUrl: string;

  @ErpPostingField()
  erpPosting?: ErpPosting;

  @AcceptNewCustomersField()
  acceptNewCustomers?: boolean;

  @ApiProperty({ example: 'SBODEMOUS' })
  @IsString() @IsNotEmpty() @MaxLength(100)
  companyDb: string;

  @ApiProperty()
  @IsString() @IsNotEmpty() @MaxLength(100)
  username: string;

  @ApiProperty({ description: 'Secret; masked in every response and log' })
  @IsString() @IsNotEmpty() @MaxLength(500)
  password: string;

  @ApiPropertyOptional({
    description: 'Crossdock warehouse code to SAP warehouse code (`WarehouseCode`): the warehouse of each order line, and the warehouses whose ' +
      '`InStock` and `Committed` the stock read reports (so no two may share one: its stock would count twice). An order line naming a ' +
      'warehouse this map lacks waits (retryable) for the map to be fixed',
    example: { 'WH-EAST': '01', 'WH-WEST': '02' },
  })
  @IsOptional()
  @IsCodeTable(
    (_k, v) => typeof v === 'string' && v.length > 0 && v.length <= WAREHOUSE_CODE_LENGTH,
    `must map each warehouse to a SAP warehouse code of 1 to ${WAREHOUSE_CODE_LENGTH} characters, no two to the same`,
    true,
  )
  warehouseCodes?: Record<string, string>;

  @ApiPropertyOptional({
    description: 'The company\'s own currency codes to ISO 4217 (`{"$": "USD"}`), read both ways: ISO to SAP on orders, SAP to ISO on customers and prices. ' +
      'A code missing here passes as it is when it has the shape of an ISO code; no two SAP codes may name the same ISO code',
    example: { '$': 'USD', 'EUR': 'EUR', '£': 'GBP' },
  })
  @IsOptional()
  @IsCodeTable(
    (k, v) => k.length > 0 && k.length <= CURRENCY_CODE_LENGTH && k !== ALL_CURRENCIES && typeof v === 'string' && /^[A-Z]{3}$/.test(v),
    `must map SAP currency codes of 1 to ${CURRENCY_CODE_LENGTH} characters (not ${ALL_CURRENCIES}, SAP's "all currencies") to distinct ISO 4217 codes`,
    true,
  )
  currencies?: Record<string, string>;

  @ApiPropertyOptional({ description: 'Records per page asked of the Service Layer (`Prefer: odata.maxpagesize`); its own default is 20', default: 100, minimum: 1, maximum: 1000 })
  @IsOptional() @IsInt() @Min(1) @Max(1000)
  pageSize?: number;

  @ApiPropertyOptional({
    description: 'The `PriceListNo` of the company\'s base price list (SAP\'s first, "Base Price", unless the company changed it): its prices are ' +
      'reported as the item\'s base price (price list `base`), every other list\'s under its `PriceListName`',
    default: 1,
    minimum: 1,
  })
  @IsOptional() @IsInt() @Min(1)
  basePriceList?: number;

  @ApiPropertyOptional({
    description: 'The documents whose changes since the last read send their items\' stock to be read again (an order changes `Committed`, a ' +
      'delivery `InStock`, neither touches the item\'s UpdateDate). Defaults to all of them',
    enum: SAP_STOCK_DOCUMENTS,
    isArray: true,
  })
  @IsOptional() @IsArray() @ArrayUnique() @IsIn(SAP_STOCK_DOCUMENTS, { each: true })
  stockDocuments?: SapStockDocument[];
}
