import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { ArrayMaxSize, IsArray, IsBoolean, IsIn, IsInt, IsOptional, IsUrl, Matches, Max, Min } from 'class-validator';

/** Events a webhook subscriber may take for every order (or every customer), not only its own: a CRM, a notification service. */
export const SUBSCRIBABLE_EVENTS = ['shipment.created', 'shipment.updated', 'customer.changed'] as const;

/** Any subscriber that receives signed CloudEvents (Standard Webhooks) at one URL. */
export class WebhookConfig {
  @ApiProperty({ example: 'https://portal.example.com/hooks/crossdock' })
  @IsUrl({ require_tld: false, require_protocol: true, protocols: ['http', 'https'] })
  url: string;

  @ApiProperty({ description: 'Standard Webhooks signing secret, whsec_<base64 key>; masked in every response and log' })
  @Matches(/^whsec_[A-Za-z0-9+/]{16,}={0,2}$/, { message: 'secret must be whsec_ followed by a base64 key of at least 12 bytes' })
  secret: string;

  @ApiPropertyOptional({
    description: 'State events (availability, prices) several to a request, as a CloudEvents JSON batch (application/cloudevents-batch+json), signed as one Standard Webhooks message; off by default',
  })
  @IsOptional() @IsBoolean()
  batch?: boolean;

  @ApiPropertyOptional({ description: 'With batch: the most events in one request (default 100)', minimum: 1, maximum: 1000 })
  @IsOptional() @IsInt() @Min(1) @Max(1000)
  batchMaxEvents?: number;

  @ApiPropertyOptional({
    example: 'https://portal.example.com/hooks/crossdock/figures',
    description:
      'Where the subscriber answers the figures it holds, for reconciliation: GET {readUrl}?type=<event type>&limit=<n>[&after=<cursor>], signed like a delivery (Standard Webhooks, empty body), answered {items: [{key, version, data}], next}',
  })
  @IsOptional() @IsUrl({ require_tld: false, require_protocol: true, protocols: ['http', 'https'] })
  readUrl?: string;

  @ApiPropertyOptional({
    enum: SUBSCRIBABLE_EVENTS, isArray: true,
    description: "Event types this subscriber takes for every channel's orders (a CRM, a notification service); without it, only its own orders' events",
  })
  @IsOptional() @IsArray() @ArrayMaxSize(SUBSCRIBABLE_EVENTS.length) @IsIn(SUBSCRIBABLE_EVENTS, { each: true })
  subscribe?: Array<(typeof SUBSCRIBABLE_EVENTS)[number]>;
}
