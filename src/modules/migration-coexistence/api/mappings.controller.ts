import { Body, Controller, Get, Param, Put, Query } from '@nestjs/common';
import { CommandBus, QueryBus } from '@nestjs/cqrs';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ResourceIdPipe } from '../../../platform/http/resource-id.js';
import { actorOf, CurrentPrincipal, type Principal } from '../../../platform/security/principal.js';
import { SetValueMapsCommand } from '../commands/set-value-maps/set-value-maps.js';
import { MAPPED_SYSTEMS, mappingTablesView } from '../domain/mappings.js';
import { ValueMapsQuery } from '../queries/value-maps/value-maps.js';
import { MappingsQueryDto, ValueMapsDto } from './mappings.dto.js';

/** The correspondence of Crossdock's entities in the two ERPs, and of their values for a pair of backends. */
@ApiTags('coexistence')
@ApiBearerAuth('admin')
@Controller('v1/coexistence')
export class MappingsController {
  constructor(private readonly queries: QueryBus) {}

  @Get('mappings')
  @ApiOperation({
    summary: 'Per entity, each canonical field\'s SAP Business One (legacy) and Business Central (cloud) property, lossless or what is lost; ' +
      'and the value maps in force for a pair of backends (without parameters: the first legacy and first cloud backend; none: the tables only)',
  })
  @ApiOkResponse({ description: '`systems`, `entities` (entity → records and rows), `pair` (null when there is none) and `valueMaps` for the pair' })
  async mappings(@Query() query: MappingsQueryDto) {
    const pair = await this.queries.execute(new ValueMapsQuery(query.legacy, query.cloud));
    return {
      systems: { legacy: MAPPED_SYSTEMS.sap.name, cloud: MAPPED_SYSTEMS.bc.name },
      entities: mappingTablesView(),
      pair: pair && { legacy: pair.legacyBackendId, cloud: pair.cloudBackendId, localCurrency: pair.localCurrency },
      ...(pair ? { valueMaps: pair.inForce } : {}),
    };
  }
}

/** The value-map overrides of a pair of backends (legacy SAP Business One, cloud Business Central). */
@ApiTags('admin: coexistence')
@ApiBearerAuth('admin')
@Controller('v1/admin/coexistence/value-maps')
export class ValueMapsController {
  constructor(
    private readonly queries: QueryBus,
    private readonly commands: CommandBus,
  ) {}

  @Get(':legacyBackendId/:cloudBackendId')
  @ApiOperation({ summary: 'The overrides of the pair (`maps`) and the value maps in force (`inForce`: defaults from the backends\' configuration, overrides winning)' })
  async get(@Param('legacyBackendId', ResourceIdPipe) legacyBackendId: string, @Param('cloudBackendId', ResourceIdPipe) cloudBackendId: string) {
    return (await this.queries.execute(new ValueMapsQuery(legacyBackendId, cloudBackendId)))!;
  }

  @Put(':legacyBackendId/:cloudBackendId')
  @ApiOperation({ summary: 'Replace the overrides of the pair; audited. Answers as GET' })
  put(
    @Param('legacyBackendId', ResourceIdPipe) legacyBackendId: string,
    @Param('cloudBackendId', ResourceIdPipe) cloudBackendId: string,
    @Body() body: ValueMapsDto,
    @CurrentPrincipal() principal: Principal,
  ) {
    return this.commands.execute(new SetValueMapsCommand(legacyBackendId, cloudBackendId, body.maps, actorOf(principal)));
  }
}
