import { ApiProperty } from '@nestjs/swagger';
import { IsUrl, Matches } from 'class-validator';

/** Any subscriber that receives signed CloudEvents (Standard Webhooks) at one URL. */
export class WebhookConfig {
  @ApiProperty({ example: 'https://portal.example.com/hooks/crossdock' })
  @IsUrl({ require_tld: false, require_protocol: true, protocols: ['http', 'https'] })
  url: string;

  @ApiProperty({ description: 'Standard Webhooks signing secret, whsec_<base64 key>; masked in every response and log' })
  @Matches(/^whsec_[A-Za-z0-9+/]{16,}={0,2}$/, { message: 'secret must be whsec_ followed by a base64 key of at least 12 bytes' })
  secret: string;
}
