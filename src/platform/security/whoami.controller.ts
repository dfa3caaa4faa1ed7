import { Controller, Get } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { Access, CurrentPrincipal, type Principal } from './principal.js';

/** Lets an integrator check which principal and scopes a key carries before wiring it in. */
@ApiTags('auth')
@ApiBearerAuth('apiKey')
@Controller('v1/me')
export class WhoAmIController {
  @Get()
  @Access({ scopes: [] })
  @ApiOkResponse({ description: '{ type: "channel" | "source", id, keyId, scopes }' })
  whoAmI(@CurrentPrincipal() principal: Principal) {
    if (principal.type === 'admin') return { type: 'admin' };
    return { type: principal.type, id: principal.id, keyId: principal.keyId, scopes: principal.scopes };
  }
}
