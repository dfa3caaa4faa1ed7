import { Body, Controller, HttpCode, Param, Post, Query, Res } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { problems } from '../../../platform/http/problem.js';
import { ResourceIdPipe } from '../../../platform/http/resource-id.js';
import { Access } from '../../../platform/security/principal.js';
import { ErpCustomerNotifications } from '../erp-customer-notifications.js';

/** Business Central's validation tokens are GUIDs; anything far longer is not one. */
const TOKEN_LIMIT = 1024;

/**
 * Change notifications from an ERP backend (Business Central webhooks). No bearer token: the ERP cannot send one.
 * The handshake is answered with its token; a notification is trusted only for the subscription Crossdock made, with
 * the secret (clientState) it chose, and is accepted at once: reading the record back happens later, through the
 * pipeline, so that the ERP's retry timer never runs.
 */
@ApiTags('webhooks')
@Controller('v1/webhooks/erp')
export class ErpWebhooksController {
  constructor(private readonly notifications: ErpCustomerNotifications) {}

  @Post(':backendId')
  @HttpCode(202)
  @Access('public')
  @ApiOperation({ summary: "An ERP's change notifications ({value: [...]}); with ?validationToken=, the subscription handshake, answered 200 with the token as text" })
  async receive(
    @Param('backendId', ResourceIdPipe) backendId: string,
    @Query('validationToken') validationToken: string | undefined,
    @Body() body: unknown,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    if (validationToken !== undefined) {
      if (typeof validationToken !== 'string' || validationToken.length === 0 || validationToken.length > TOKEN_LIMIT) {
        throw problems.validation([{ field: 'validationToken', message: `a validation token is 1-${TOKEN_LIMIT} characters` }]);
      }
      reply.status(200).header('content-type', 'text/plain; charset=utf-8');
      return validationToken;
    }
    const receipt = await this.notifications.receive(backendId, body);
    if (receipt === undefined) throw problems.notFound(`ERP backend ${backendId} with change notifications`);
    if (typeof receipt === 'string') throw problems.validation([{ field: '(body)', message: receipt }]);
    return receipt;
  }
}
