import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsBoolean, IsIn, IsOptional, IsString, Matches } from 'class-validator';
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

  @ApiPropertyOptional({ description: 'Switch to the cloud ERP even though the domain\'s cutover readiness is not met (audited as forced)', default: false })
  @IsOptional() @IsBoolean()
  force?: boolean;
}
