import type { FlowStat } from './flow-stats.js';

/** A destination's delay objective as configured: a default for its flows, and flows with objectives of their own. */
export interface DelayObjective {
  maxAgeSeconds?: number;
  flows?: Record<string, { maxAgeSeconds: number }>;
}

/**
 * Where the delay objectives are read from, by destination (`channel:<id>`, `erp:<id>`). The platform names the
 * port; the configuration module provides it. Reads may be cached for a few seconds.
 */
export abstract class DelayObjectives {
  abstract byDestination(): Promise<ReadonlyMap<string, DelayObjective>>;
}

/** One flow (message type) to one destination held to an objective, and the age of its oldest message not yet delivered. */
export interface FlowObjective {
  flow: string;
  destination: string;
  maxAgeSeconds: number;
  /** null: nothing waits. */
  oldestAgeSeconds: number | null;
}

/** The objective a flow is held to: its own, else its destination's default, else none. */
export function objectiveFor(objective: DelayObjective | undefined, flow: string): number | undefined {
  const own = objective?.flows && Object.hasOwn(objective.flows, flow) ? objective.flows[flow]!.maxAgeSeconds : undefined;
  return own ?? objective?.maxAgeSeconds;
}

/** Whether a flow is past its objective now. */
export function isBreached(flow: Pick<FlowObjective, 'maxAgeSeconds' | 'oldestAgeSeconds'>): boolean {
  return flow.oldestAgeSeconds !== null && flow.oldestAgeSeconds > flow.maxAgeSeconds;
}

/**
 * Every flow held to an objective: each flow seen going to a destination that has one, and each flow an objective
 * names though nothing of it was seen lately. Ordered by destination, then flow.
 */
export function flowObjectives(
  stats: ReadonlyArray<Pick<FlowStat, 'flow' | 'destination' | 'oldestWaitingSeconds'>>,
  objectives: ReadonlyMap<string, DelayObjective>,
): FlowObjective[] {
  const found = new Map<string, FlowObjective>();
  for (const stat of stats) {
    const maxAgeSeconds = objectiveFor(objectives.get(stat.destination), stat.flow);
    if (maxAgeSeconds !== undefined) {
      found.set(`${stat.destination}\n${stat.flow}`, { flow: stat.flow, destination: stat.destination, maxAgeSeconds, oldestAgeSeconds: stat.oldestWaitingSeconds });
    }
  }
  for (const [destination, objective] of objectives) {
    for (const [flow, { maxAgeSeconds }] of Object.entries(objective.flows ?? {})) {
      const key = `${destination}\n${flow}`;
      if (!found.has(key)) found.set(key, { flow, destination, maxAgeSeconds, oldestAgeSeconds: null });
    }
  }
  return [...found.values()].sort((a, b) => a.destination.localeCompare(b.destination) || a.flow.localeCompare(b.flow));
}
