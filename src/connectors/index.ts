export { CHANNEL_CONNECTOR_KINDS, ERP_CONNECTOR_KINDS, type ConnectorKind } from './connector-kinds.js';
