import { CHANNEL_CONNECTOR_KINDS, ERP_CONNECTOR_KINDS, type ConnectorKind } from '../../connectors/index.js';
import { validatePlain, type FieldError } from '../../platform/http/field-errors.js';
import { ChannelDto, ErpBackendDto, SourceDto } from './api/resources.dto.js';

export type ResourceType = 'erp-backend' | 'channel' | 'source';

const CONNECTORS: Record<'erp-backend' | 'channel', readonly ConnectorKind[]> = {
  'erp-backend': ERP_CONNECTOR_KINDS,
  channel: CHANNEL_CONNECTOR_KINDS,
};

export function connectorKind(resource: 'erp-backend' | 'channel', kind: string): ConnectorKind | undefined {
  return CONNECTORS[resource].find((k) => k.kind === kind);
}

/** The secret fields of a connector kind's config (none for an unknown kind). */
export function secretsOf(resource: 'erp-backend' | 'channel', kind: string): readonly string[] {
  return connectorKind(resource, kind)?.secretFields ?? [];
}

/** Checks `config` against the connector that `kind` names; an unknown kind is an error on `kind`. */
export function connectorConfigErrors(resource: 'erp-backend' | 'channel', kind: string, config: unknown, prefix = ''): FieldError[] {
  const connector = connectorKind(resource, kind);
  const at = (field: string) => (prefix ? `${prefix}.${field}` : field);
  if (!connector) {
    return [{ field: at('kind'), message: `kind must be one of ${CONNECTORS[resource].map((k) => k.kind).join(', ')}` }];
  }
  if (connector.configSchema === null) {
    const keys = config !== null && typeof config === 'object' ? Object.keys(config) : [];
    return keys.map((key) => ({ field: at(`config.${key}`), message: `kind ${kind} takes no config; ${key} is not a known field` }));
  }
  return validatePlain(connector.configSchema, config, at('config')).errors;
}

const SCHEMAS = { 'erp-backend': ErpBackendDto, channel: ChannelDto, source: SourceDto } as const;

/** The whole check of one resource as the admin API applies it, for documents that do not come through HTTP. */
export function validateResource(resource: ResourceType, plain: unknown, prefix: string): FieldError[] {
  const { value, errors } = validatePlain(SCHEMAS[resource] as new () => object, plain, prefix);
  if (errors.length > 0 || (resource !== 'erp-backend' && resource !== 'channel')) return errors;
  const { kind, config } = value as { kind: string; config: unknown };
  return connectorConfigErrors(resource, kind, config, prefix);
}
