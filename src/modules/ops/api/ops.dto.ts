import { ApiPropertyOptional, IntersectionType } from '@nestjs/swagger';
import { PageQueryDto } from '../../../platform/http/page-query.dto.js';
import { Type } from 'class-transformer';
import { IsIn, IsInt, IsObject, IsOptional, IsString, Max, MaxLength, Min } from 'class-validator';

export class DeadLetterFilterDto {
  @ApiPropertyOptional({ description: 'Message type', example: 'order.accepted' })
  @IsOptional() @IsString() @MaxLength(100)
  flow?: string;

  @ApiPropertyOptional({ example: 'erp:bc-cloud' })
  @IsOptional() @IsString() @MaxLength(200)
  destination?: string;

  @ApiPropertyOptional({ enum: ['permanent', 'retryable', 'throttled'] })
  @IsOptional() @IsIn(['permanent', 'retryable', 'throttled'])
  errorClass?: string;

  @ApiPropertyOptional({ description: 'Only those whose last failure is at least this many seconds old' })
  @IsOptional() @Type(() => Number) @IsInt() @Min(0)
  olderThanSeconds?: number;

  @ApiPropertyOptional({ description: 'Only those whose last failure is at most this many seconds old' })
  @IsOptional() @Type(() => Number) @IsInt() @Min(0)
  newerThanSeconds?: number;
}

export class DeadLetterQueryDto extends IntersectionType(DeadLetterFilterDto, PageQueryDto) {}

/** Why a person acted: kept in the audit log beside the action. */
export class ReasonDto {
  @ApiPropertyOptional({ description: 'Why: kept in the audit log with the action', maxLength: 500 })
  @IsOptional() @IsString() @MaxLength(500)
  reason?: string;
}

export class ReplayMatchingDto extends DeadLetterFilterDto {
  @ApiPropertyOptional({ default: 100, maximum: 1000 })
  @IsOptional() @IsInt() @Min(1) @Max(1000)
  limit?: number;

  @ApiPropertyOptional({ description: 'Why: kept in the audit log with each action', maxLength: 500 })
  @IsOptional() @IsString() @MaxLength(500)
  reason?: string;
}

export class ReplayDto extends ReasonDto {
  @ApiPropertyOptional({ description: 'A corrected payload; the delivery keeps its id (the idempotency key)' })
  @IsOptional() @IsObject()
  payload?: Record<string, unknown>;
}
