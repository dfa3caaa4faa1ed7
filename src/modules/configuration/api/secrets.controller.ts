import { Controller, HttpCode, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import { actorOf, CurrentPrincipal, type Principal } from '../../../platform/security/principal.js';
import { ConfigurationService } from '../configuration.service.js';

@ApiTags('admin')
@ApiBearerAuth('admin')
@Controller('v1/admin/secrets')
export class SecretsController {
  constructor(private readonly configuration: ConfigurationService) {}

  @Post('rotate')
  @HttpCode(200)
  @ApiOperation({ summary: 'Seal every stored connector secret under the current CROSSDOCK_SECRET_KEY (after a key rotation); audited' })
  rotate(@CurrentPrincipal() principal: Principal) {
    return this.configuration.rotateSecrets(actorOf(principal));
  }
}
