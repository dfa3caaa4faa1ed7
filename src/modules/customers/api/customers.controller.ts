import { Body, Controller, Get, HttpCode, Inject, Param, Post, Put, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import type pg from 'pg';
import { AuditLog } from '../../../platform/audit/audit-log.js';
import { PG_POOL } from '../../../platform/database/pg-pool.js';
import { inTransaction } from '../../../platform/database/transaction.js';
import { validatePlain } from '../../../platform/http/field-errors.js';
import { problems } from '../../../platform/http/problem.js';
import { Access, actorOf, CurrentPrincipal, type Principal } from '../../../platform/security/principal.js';
import { CustomerRecords } from '../commands/customer-records.js';
import { CUSTOMER_FIELDS, type CustomerField, type CustomerFields, type CustomerSystem } from '../domain/customer.js';
import { ConflictResolutionDto, CustomerChangeDto, OwnershipDto } from './customers.dto.js';

const ACCOUNT = /^[^\u0000-\u001f]{1,64}$/;

@ApiTags('customers')
@ApiBearerAuth('apiKey')
@Controller('v1')
export class CustomersController {
  constructor(
    @Inject(PG_POOL) private readonly pool: pg.Pool,
    private readonly records: CustomerRecords,
    private readonly audit: AuditLog,
  ) {}

  @Get('customers/:accountNumber')
  @Access({ scopes: ['customers:read'], orAdmin: true })
  @ApiOperation({ summary: 'The canonical customer: its fields, version, who changed each field last, and the ids each system knows it by' })
  async get(@Param('accountNumber') accountNumber: string) {
    const view = await inTransaction(this.pool, (tx) => this.records.view(tx, account(accountNumber)));
    if (!view) throw problems.notFound(`Customer ${accountNumber}`);
    return view;
  }

  @Put('customers/:accountNumber')
  @Access({ scopes: ['customers:write'] })
  @ApiOperation({ summary: "A channel's or a CRM's change of a customer: fields it does not own are refused (409 naming them), a record breaking a quality rule too (422)" })
  async put(@Param('accountNumber') accountNumber: string, @Body() body: CustomerChangeDto, @CurrentPrincipal() principal: Principal) {
    const system = await this.systemOf(principal);
    const fields = Object.fromEntries(Object.entries(body).filter(([f, v]) => CUSTOMER_FIELDS.includes(f as CustomerField) && v !== undefined)) as Partial<CustomerFields>;
    if (Object.keys(fields).length === 0) throw problems.validation([{ field: '(body)', message: `name at least one of ${CUSTOMER_FIELDS.join(', ')}` }]);
    const outcome = await inTransaction(this.pool, (tx) => this.records.change(tx, account(accountNumber), { system, fields }, 'api', actorOf(principal)));
    const { merge } = outcome;
    return { ...outcome.view, applied: Object.keys(merge.applied), unchanged: merge.unchanged, echoes: merge.echoes, conflicts: merge.conflicts, held: merge.held, duplicates: outcome.duplicates };
  }

  @Get('admin/customer-ownership')
  @Access('admin')
  @ApiOperation({ summary: 'Who owns each customer field, and the conflict policy' })
  async ownership() {
    return inTransaction(this.pool, (tx) => this.records.ownership(tx));
  }

  @Put('admin/customer-ownership')
  @Access('admin')
  @ApiOperation({ summary: 'Set who owns customer fields (erp, channel, crm) and the conflict policy (owner-wins, manual); audited' })
  async setOwnership(@Body() body: OwnershipDto, @CurrentPrincipal() principal: Principal) {
    const errors = Object.entries(body.fields).flatMap(([field, owner]) => [
      ...(CUSTOMER_FIELDS.includes(field as CustomerField) ? [] : [{ field: `fields.${field}`, message: `not a customer field; the fields are ${CUSTOMER_FIELDS.join(', ')}` }]),
      ...(['erp', 'channel', 'crm'].includes(owner) ? [] : [{ field: `fields.${field}`, message: 'the owner is erp, channel or crm' }]),
    ]);
    if (errors.length > 0) throw problems.validation(errors);
    return inTransaction(this.pool, async (tx) => {
      const before = await this.records.ownership(tx);
      const after = { fields: { ...before.fields, ...(body.fields as Record<CustomerField, CustomerSystem>) }, onConflict: body.onConflict ?? before.onConflict };
      await this.records.setOwnership(tx, after);
      await this.audit.recordInTransaction(tx, { actor: actorOf(principal), action: 'update', resourceType: 'customer-ownership', resourceId: 'customers', before, after });
      return after;
    });
  }

  @Get('ops/customer-conflicts')
  @Access({ scopes: ['ops:read'], orAdmin: true })
  @ApiOperation({ summary: 'Customer fields changed on both sides since they last agreed: open ones (held by a manual policy), or all with status=all' })
  async conflicts(@Query('status') status?: string, @Query('accountNumber') accountNumber?: string) {
    const { rows } = await this.pool.query(
      `select id::text, account_number as "accountNumber", field, owner, system, source, current, incoming, status, resolution,
              resolved_value as "resolvedValue", resolved_by as "resolvedBy", created_at as "createdAt", resolved_at as "resolvedAt"
         from customer_conflict where ($1::text = 'all' or status = 'open') and ($2::text is null or account_number = $2) order by id desc limit 500`,
      [status ?? 'open', accountNumber ?? null],
    );
    return { items: rows };
  }

  @Post('ops/customer-conflicts/:id/resolve')
  @HttpCode(200)
  @Access({ scopes: ['ops:write'], orAdmin: true })
  @ApiOperation({ summary: "Resolve a held conflict: keep the record's value, take the other side's, or set a value; applied as the field's owner would, audited" })
  async resolve(@Param('id') id: string, @Body() body: ConflictResolutionDto, @CurrentPrincipal() principal: Principal) {
    if (!/^\d{1,18}$/.test(id)) throw problems.notFound(`Conflict ${id}`);
    return inTransaction(this.pool, async (tx) => {
      const { rows: [conflict] } = await tx.query<{ account_number: string; field: CustomerField; owner: CustomerSystem; system: CustomerSystem; current: unknown; incoming: unknown; status: string }>(
        'select account_number, field, owner, system, current, incoming, status from customer_conflict where id = $1 for update', [id],
      );
      if (!conflict) throw problems.notFound(`Conflict ${id}`);
      if (conflict.status !== 'open') throw problems.conflict(`Conflict ${id} is resolved already`);
      if (body.choose === 'value' && body.value === undefined) throw problems.validation([{ field: 'value', message: 'name the value to set' }]);
      const value = body.choose === 'current' ? conflict.current : body.choose === 'incoming' ? conflict.incoming : body.value;
      // A value set by hand is checked as a change through the API would be.
      const { errors } = validatePlain(CustomerChangeDto, { [conflict.field]: value }, 'value');
      if (errors.length > 0) throw problems.validation(errors);
      await tx.query(`update customer_conflict set status = 'resolved', resolution = $2, resolved_value = $3, resolved_by = $4, resolved_at = clock_timestamp() where id = $1`,
        [id, body.choose, JSON.stringify(value ?? null), actorOf(principal)]);
      // Applied as the owner's change, now that the field is no longer held; the ERP, on either side of the
      // conflict, is written the decision (it has seen neither side's value as the decision).
      const erpSide = conflict.owner === 'erp' || conflict.system === 'erp';
      const outcome = await this.records.change(tx, conflict.account_number, { system: conflict.owner, fields: { [conflict.field]: value } }, 'api', `operator:${actorOf(principal)}`, undefined, {
        operator: true, alsoToErp: erpSide ? [conflict.field] : [],
      });
      await this.audit.recordInTransaction(tx, {
        actor: actorOf(principal), action: 'resolve', resourceType: 'customer-conflict', resourceId: id,
        before: { field: conflict.field, current: conflict.current, incoming: conflict.incoming }, after: { choose: body.choose, value, reason: body.reason },
      });
      return { id, field: conflict.field, value, customer: outcome.view };
    });
  }

  /** A channel key speaks for a channel; a source key for the ERP, or a CRM when the source is of kind crm. */
  private async systemOf(principal: Principal): Promise<CustomerSystem> {
    if (principal.type === 'channel') return 'channel';
    if (principal.type !== 'source') throw problems.forbidden('Customers are changed with a channel or source key');
    const { rows: [source] } = await this.pool.query<{ kind: string | null }>('select kind from source_system where id = $1', [principal.id]);
    return source?.kind === 'crm' ? 'crm' : 'erp';
  }
}

function account(accountNumber: string): string {
  if (!ACCOUNT.test(accountNumber)) throw problems.validation([{ field: 'accountNumber', message: 'an account number is 1-64 characters, none of them control characters' }]);
  return accountNumber;
}
