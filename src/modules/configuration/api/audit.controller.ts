import { Controller, Get, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiPropertyOptional, ApiTags } from '@nestjs/swagger';
import { IsOptional, IsString, MaxLength } from 'class-validator';
import { PageQueryDto } from '../../../platform/http/page-query.dto.js';
import { MikroORM } from '@mikro-orm/postgresql';
import { AuditLog } from '../../../platform/audit/audit-log.js';

export class AuditQueryDto extends PageQueryDto {
  @ApiPropertyOptional({ example: 'channel' })
  @IsOptional() @IsString() @MaxLength(64)
  resourceType?: string;

  @ApiPropertyOptional()
  @IsOptional() @IsString() @MaxLength(128)
  resourceId?: string;

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
