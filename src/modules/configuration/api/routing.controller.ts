import { Body, Controller, Get, Param, Put, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { CurrentPrincipal, type Principal } from '../../../platform/security/principal.js';
import { ConfigurationService } from '../configuration.service.js';
import type { RoutingDomain } from '../domain/routing.js';
import { actorOf, RoutingDomainPipe } from './admin-params.js';
import { answerPut } from './resource.controller.js';
import { RoutingDto } from './resources.dto.js';

@ApiTags('admin: routing')
@ApiBearerAuth('admin')
@Controller('v1/admin/routing')
export class RoutingController {
  constructor(private readonly configuration: ConfigurationService) {}

  @Get()
  list() {
    return this.configuration.listRouting();
  }

  @Get(':domain')
  get(@Param('domain', RoutingDomainPipe) domain: RoutingDomain) {
    return this.configuration.getRouting(domain);
  }

  @Put(':domain')
  async put(
    @Param('domain', RoutingDomainPipe) domain: RoutingDomain,
    @Body() body: RoutingDto,
    @CurrentPrincipal() principal: Principal,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    return answerPut(reply, await this.configuration.putRouting(domain, body, actorOf(principal)));
  }
}
