import { Body, Controller, Get, Injectable, Param, Put, Res, type PipeTransform } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { MikroORM } from '@mikro-orm/postgresql';
import type { FastifyReply } from 'fastify';
import { problems } from '../../../platform/http/problem.js';
import { answerPut } from '../../../platform/http/resource-id.js';
import { actorOf, CurrentPrincipal, type Principal } from '../../../platform/security/principal.js';
import { routingView, SetRoutingCommand } from '../commands/set-routing/set-routing.js';
import { ROUTING_DOMAINS, type RoutingDomain } from '../domain/routing.js';
import { RoutingEntity } from '../entities/routing.entity.js';
import { RoutingDto } from './routing.dto.js';

@Injectable()
export class RoutingDomainPipe implements PipeTransform<string, RoutingDomain> {
  transform(value: string): RoutingDomain {
    if (!(ROUTING_DOMAINS as readonly string[]).includes(value)) {
      throw problems.validation([{ field: 'domain', message: `domain must be one of ${ROUTING_DOMAINS.join(', ')}` }]);
    }
    return value as RoutingDomain;
  }
}

@ApiTags('admin: routing')
@ApiBearerAuth('admin')
@Controller('v1/admin/routing')
export class RoutingController {
  constructor(
    private readonly orm: MikroORM,
    private readonly commands: CommandBus,
  ) {}

  @Get()
  async list() {
    return (await this.orm.em.fork().find(RoutingEntity, {}, { orderBy: { domain: 'asc' } })).map(routingView);
  }

  @Get(':domain')
  async get(@Param('domain', RoutingDomainPipe) domain: RoutingDomain) {
    const rule = await this.orm.em.fork().findOne(RoutingEntity, { domain });
    if (!rule) throw problems.notFound(`Routing for domain "${domain}"`);
    return routingView(rule);
  }

  @Put(':domain')
  async put(
    @Param('domain', RoutingDomainPipe) domain: RoutingDomain,
    @Body() body: RoutingDto,
    @CurrentPrincipal() principal: Principal,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    const { force, ...rule } = body;
    return answerPut(reply, await this.commands.execute(new SetRoutingCommand(domain, rule, actorOf(principal), force ?? false)));
  }
}
