/** The domains whose ERP traffic is routed; each names a primary backend, and in shadow mode a second one. */
export const ROUTING_DOMAINS = ['orders', 'inventory', 'pricing', 'shipments', 'customers'] as const;
export type RoutingDomain = (typeof ROUTING_DOMAINS)[number];
export const ROUTING_MODES = ['legacy', 'cloud', 'shadow'] as const;
export type RoutingMode = (typeof ROUTING_MODES)[number];
export type BackendRole = 'legacy' | 'cloud';

export interface RoutingRule {
  mode: RoutingMode;
  primary: string;
  shadow?: string | null;
}

export interface RoutingProblem {
  field: 'primary' | 'shadow' | 'mode';
  message: string;
}

/**
 * A routing rule is coherent when its backends exist, the primary of a `legacy` or `cloud` rule has that
 * role, and a `shadow` rule writes to a second, different backend.
 */
export function routingProblems(rule: RoutingRule, roleOf: (backendId: string) => BackendRole | undefined): RoutingProblem[] {
  const problems: RoutingProblem[] = [];
  const primaryRole = roleOf(rule.primary);
  if (primaryRole === undefined) problems.push({ field: 'primary', message: `ERP backend "${rule.primary}" does not exist` });
  else if (rule.mode !== 'shadow' && primaryRole !== rule.mode) {
    problems.push({ field: 'primary', message: `mode ${rule.mode} needs a ${rule.mode} backend; "${rule.primary}" is ${primaryRole}` });
  }
  if (rule.mode === 'shadow') {
    if (!rule.shadow) problems.push({ field: 'shadow', message: 'mode shadow needs a shadow backend' });
    else if (rule.shadow === rule.primary) problems.push({ field: 'shadow', message: 'the shadow backend must differ from the primary' });
    else if (roleOf(rule.shadow) === undefined) problems.push({ field: 'shadow', message: `ERP backend "${rule.shadow}" does not exist` });
  } else if (rule.shadow) {
    problems.push({ field: 'shadow', message: `a shadow backend is only used in mode shadow, not ${rule.mode}` });
  }
  return problems;
}
