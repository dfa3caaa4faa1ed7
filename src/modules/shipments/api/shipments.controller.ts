import { Body, Controller, Get, HttpCode, Param, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import { problems } from '../../../platform/http/problem.js';
import { Access, actorOf, CurrentPrincipal, sourceOf, type Principal } from '../../../platform/security/principal.js';
import { QueryBus } from '@nestjs/cqrs';
import { ResourceIdPipe } from '../../../platform/http/resource-id.js';
import { ErpBackendQuery } from '../../configuration/index.js';
import { ErpShipments } from '../commands/erp-shipments.js';
import { ShipmentIntake, type ShipmentOutcome } from '../commands/shipment-intake.js';
import { Shipments } from '../queries/shipments.js';
import { ShipmentEventDto, shipmentEventErrors } from './shipment.dto.js';

@ApiTags('shipments')
@ApiBearerAuth('apiKey')
@Controller('v1')
export class ShipmentsController {
  constructor(
    private readonly intake: ShipmentIntake,
    private readonly shipments: Shipments,
    private readonly erpShipments: ErpShipments,
    private readonly queries: QueryBus,
  ) {}

  @Post('admin/erp-backends/:id/sync/shipments')
  @HttpCode(200)
  @Access('admin')
  @ApiOperation({ summary: 'Poll the backend for shipment documents changed since its last poll, now' })
  async pollShipments(@Param('id', ResourceIdPipe) id: string) {
    if (!(await this.queries.execute(new ErpBackendQuery(id)))) throw problems.notFound(`ERP backend ${id}`);
    const result = await this.erpShipments.poll(id);
    if (!result) throw problems.conflict(`Shipments of ${id} are being polled right now; retry shortly`);
    return { backendId: id, ...result };
  }

  @Post('shipments/events')
  @HttpCode(202)
  @Access({ scopes: ['shipments:write'] })
  @ApiOperation({ summary: 'A shipment event from the warehouse or the ERP: applied once, in the order it happened, parked until its order is known' })
  async event(@Body() body: ShipmentEventDto, @CurrentPrincipal() principal: Principal): Promise<{ shipmentId: string } & ShipmentOutcome> {
    const source = sourceOf(principal, 'Shipments are reported with a source system API key');
    const errors = shipmentEventErrors(body);
    if (errors.length > 0) throw problems.validation(errors.slice(0, 1));
    return { shipmentId: body.shipmentId, ...(await this.intake.receive(source, body)) };
  }

  @Get('shipments/:shipmentId')
  @Access({ scopes: ['shipments:read'], orAdmin: true })
  @ApiOperation({ summary: 'A shipment: its order, status, carrier and tracking, and its lines' })
  async get(@Param('shipmentId') shipmentId: string, @CurrentPrincipal() principal: Principal) {
    const owner = principal.type === 'channel' ? { channelId: principal.id } : principal.type === 'source' ? { source: actorOf(principal) } : undefined;
    const shipment = await this.shipments.byId(shipmentId, owner);
    if (!shipment) throw problems.notFound(`Shipment ${shipmentId}`);
    return shipment;
  }
}
