export { SetRoutingCommand } from './commands/set-routing/set-routing.js';
export { ErpRouteQuery, type ErpRoute } from './queries/erp-route/erp-route.js';
export { BackendRoutesQuery } from './queries/backend-routes/backend-routes.js';
export type { RoutingDomain, RoutingMode, RoutingRule } from './domain/routing.js';
export { RecordErpAnswerCommand, type ErpAnswer } from './commands/record-answer/record-answer.js';
export { RecordXrefCommand, type XrefEntity, type XrefEntry } from './commands/record-xref/record-xref.js';
export { EntityIdsQuery, type EntityIds } from './queries/xref/xref.js';
