import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsOptional, IsString, Matches } from 'class-validator';
import { RESOURCE_ID } from '../../../platform/http/resource-id.js';
import { ROUTING_MODES, type RoutingMode } from '../domain/routing.js';

export class RoutingDto {
  @ApiProperty({ enum: ROUTING_MODES })
  @IsIn(ROUTING_MODES)
  mode: RoutingMode;

  @ApiProperty({ description: 'ERP backend that owns the domain' })
  @IsString() @Matches(RESOURCE_ID, { message: 'primary must be an ERP backend id' })
  primary: string;

  @ApiPropertyOptional({ description: 'ERP backend that receives shadow writes (mode shadow)' })
  @IsOptional() @IsString() @Matches(RESOURCE_ID, { message: 'shadow must be an ERP backend id' })
  shadow?: string;
}
