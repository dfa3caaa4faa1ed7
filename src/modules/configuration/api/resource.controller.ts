import { Body, Controller, Delete, Get, HttpCode, Param, ParseUUIDPipe, Post, Put, Res, type Type } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiCreatedResponse, ApiNoContentResponse, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { createValidationPipe } from '../../../platform/http/validation.js';
import { answerPut, ResourceIdPipe } from '../../../platform/http/resource-id.js';
import { actorOf, CurrentPrincipal, type Principal } from '../../../platform/security/principal.js';
import { ConfigurationService } from '../configuration.service.js';
import { CreateApiKeyDto, CreatedApiKeyDto } from './api-key.dto.js';
import { ChannelDto, ErpBackendDto, OperatorDto, SourceDto } from './resources.dto.js';

type StoreName = 'erpBackends' | 'channels' | 'sources' | 'operators';

/** The admin API of one configured resource: list, read, create-or-replace, delete; keys for principals. */
function adminResourceController(path: string, tag: string, store: StoreName, dto: Type<unknown>): Type<unknown> {
  @ApiTags(tag)
  @ApiBearerAuth('admin')
  @Controller(`v1/admin/${path}`)
  class AdminResourceController {
    constructor(readonly configuration: ConfigurationService) {}

    @Get()
    list() {
      return this.configuration[store].list();
    }

    @Get(':id')
    get(@Param('id', ResourceIdPipe) id: string) {
      return this.configuration[store].get(id);
    }

    @Put(':id')
    @ApiBody({ type: dto })
    async put(
      @Param('id', ResourceIdPipe) id: string,
      @Body(createValidationPipe(dto)) body: unknown,
      @CurrentPrincipal() principal: Principal,
      @Res({ passthrough: true }) reply: FastifyReply,
    ) {
      return answerPut(reply, await this.configuration[store].put(id, body as never, actorOf(principal)));
    }

    @Delete(':id')
    @HttpCode(204)
    @ApiNoContentResponse()
    async delete(@Param('id', ResourceIdPipe) id: string, @CurrentPrincipal() principal: Principal): Promise<void> {
      await this.configuration[store].delete(id, actorOf(principal));
    }
  }
  Object.defineProperty(AdminResourceController, 'name', { value: `Admin${store[0]!.toUpperCase()}${store.slice(1)}Controller` });
  return AdminResourceController;
}

function apiKeysController(path: 'channels' | 'sources' | 'operators', type: 'channel' | 'source' | 'operator', tag: string): Type<unknown> {
  @ApiTags(tag)
  @ApiBearerAuth('admin')
  @Controller(`v1/admin/${path}/:id/api-keys`)
  class ApiKeysController {
    constructor(readonly configuration: ConfigurationService) {}

    @Post()
    @ApiCreatedResponse({ type: CreatedApiKeyDto })
    async create(@Param('id', ResourceIdPipe) id: string, @Body(createValidationPipe(CreateApiKeyDto)) body: CreateApiKeyDto, @CurrentPrincipal() principal: Principal) {
      const { key, view } = await this.configuration.issueApiKey({ type, id }, body.scopes, body.name ?? null, actorOf(principal));
      return { id: view.id, key, scopes: view.scopes, prefix: view.prefix, name: view.name, createdAt: view.createdAt };
    }

    @Get()
    @ApiOkResponse({ description: 'Keys with their prefix and scopes; secrets are never shown again' })
    list(@Param('id', ResourceIdPipe) id: string) {
      return this.configuration.listApiKeys({ type, id });
    }

    @Delete(':keyId')
    @ApiOkResponse({ description: 'The revoked key' })
    revoke(@Param('id', ResourceIdPipe) id: string, @Param('keyId', new ParseUUIDPipe()) keyId: string, @CurrentPrincipal() principal: Principal) {
      return this.configuration.revokeApiKey({ type, id }, keyId, actorOf(principal));
    }
  }
  Object.defineProperty(ApiKeysController, 'name', { value: `Admin${type[0]!.toUpperCase()}${type.slice(1)}ApiKeysController` });
  return ApiKeysController;
}

export const RESOURCE_CONTROLLERS = [
  adminResourceController('erp-backends', 'admin: ERP backends', 'erpBackends', ErpBackendDto),
  adminResourceController('channels', 'admin: channels', 'channels', ChannelDto),
  adminResourceController('sources', 'admin: sources', 'sources', SourceDto),
  apiKeysController('channels', 'channel', 'admin: channels'),
  apiKeysController('sources', 'source', 'admin: sources'),
  adminResourceController('operators', 'admin: operators', 'operators', OperatorDto),
  apiKeysController('operators', 'operator', 'admin: operators'),
];
