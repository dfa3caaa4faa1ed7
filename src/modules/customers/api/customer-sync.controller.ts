import { Controller, HttpCode, Param, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import { problems } from '../../../platform/http/problem.js';
import { Access } from '../../../platform/security/principal.js';
import { QueryBus } from '@nestjs/cqrs';
import { ResourceIdPipe } from '../../../platform/http/resource-id.js';
import { ErpBackendQuery } from '../../configuration/index.js';
import { CustomerDirectory } from '../customer-directory.js';

@ApiTags('admin')
@ApiBearerAuth('admin')
@Controller('v1/admin/erp-backends')
export class CustomerSyncController {
  constructor(
    private readonly queries: QueryBus,
    private readonly directory: CustomerDirectory,
  ) {}

  @Post(':id/sync/customers')
  @HttpCode(200)
  @Access('admin')
  @ApiOperation({ summary: "Pull the backend's customers into the read model now (blocked, credit limit, balance due)" })
  async syncCustomers(@Param('id', ResourceIdPipe) id: string) {
    if (!(await this.queries.execute(new ErpBackendQuery(id)))) throw problems.notFound(`ERP backend ${id} does not exist`);
    return this.directory.sync(id);
  }
}
