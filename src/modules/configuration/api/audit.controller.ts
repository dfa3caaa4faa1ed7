import { Controller, Get, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiPropertyOptional, ApiTags } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsInt, IsOptional, IsString, Matches, Max, MaxLength, Min } from 'class-validator';
import { MikroORM } from '@mikro-orm/postgresql';
import { AuditLog } from '../../../platform/audit/audit-log.js';

export class AuditQueryDto {
  @ApiPropertyOptional({ example: 'channel' })
  @IsOptional() @IsString() @MaxLength(64)
  resourceType?: string;

  @ApiPropertyOptional()
  @IsOptional() @IsString() @MaxLength(128)
  resourceId?: string;

  @ApiPropertyOptional({ default: 50, maximum: 500 })
  @IsOptional() @Type(() => Number) @IsInt() @Min(1) @Max(500)
  limit?: number;

  @ApiPropertyOptional({ description: 'nextCursor of the previous page' })
  @IsOptional() @Matches(/^\d{1,19}$/, { message: 'cursor must be the nextCursor of a previous page' })
  cursor?: string;
}

@ApiTags('admin: audit')
@ApiBearerAuth('admin')
@Controller('v1/admin/audit')
export class AuditController {
  constructor(
    private readonly orm: MikroORM,
    private readonly audit: AuditLog,
  ) {}

  /** Administrative changes, newest first: who, what, when, before and after (secrets masked). */
  @Get()
  async list(@Query() query: AuditQueryDto) {
    const page = await this.audit.list(this.orm.em.fork(), {
      resourceType: query.resourceType,
      resourceId: query.resourceId,
      limit: query.limit ?? 50,
      before: query.cursor,
    });
    return { items: page.items, nextCursor: page.nextCursor };
  }
}
