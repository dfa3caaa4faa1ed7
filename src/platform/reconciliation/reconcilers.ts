import { Injectable } from '@nestjs/common';
import type { Tx } from '../database/transaction.js';

/**
 * How a drift is dealt with, by the rule of its domain's system of record: `republish` the right figure as a new
 * version, `recompute` after pulling the truth, `resubmit` what is missing (with its idempotency reference), or
 * `report` what only a person can decide.
 */
export type RepairKind = 'republish' | 'recompute' | 'resubmit' | 'report';

/** One thing a target holds otherwise than it should. */
export interface Finding {
  /** What it is about, in the domain's words (a SKU, an order's reference). */
  key: string;
  /** Whose truth differs: `channel-differs`, `source-differs`, `missing-in-erp`, `duplicated-in-erp`, `changed-in-erp`, ... */
  class: string;
  expected: unknown;
  actual: unknown;
  repair: RepairKind;
  detail?: Record<string, unknown>;
}

/** One page of a comparison: how many things were compared, what drifted, and where the next page starts. */
export interface ComparedPage {
  compared: number;
  findings: Finding[];
  /** null: the run is complete. */
  nextCursor: string | null;
}

/** Per domain, how often it is reconciled with a target, as a channel's or an ERP backend's `reconcile` says. */
export type ReconcileSchedules = Partial<Record<string, { intervalMinutes: number }>>;

/** A target a domain compares, and how often (undefined: on demand only). */
export interface ReconcileTarget {
  target: string;
  intervalMs?: number;
}

/** A target, on the schedule its `reconcile` sets for `domain` (on demand only when it sets none). */
export function reconcileTarget(target: string, schedules: ReconcileSchedules | null | undefined, domain: string): ReconcileTarget {
  const schedule = schedules?.[domain];
  return schedule ? { target, intervalMs: schedule.intervalMinutes * 60_000 } : { target };
}

/**
 * A domain's comparison of one kind of target: it reads the target the cheap way (through its connector and the
 * governor, a page at a time), and repairs in the run's transaction, so that the repair and its record commit
 * together and a page retried after a crash finds it made.
 */
export interface Reconciler {
  readonly domain: string;
  targets(): Promise<ReconcileTarget[]>;
  compare(target: string, cursor: string | null): Promise<ComparedPage>;
  /** Makes the repair (not called for `report`); what it answers is kept with the finding. */
  repair(tx: Tx, target: string, finding: Finding): Promise<Record<string, unknown> | void>;
}

/** The domains' reconcilers, registered at start; the platform runs them. */
@Injectable()
export class Reconcilers {
  private readonly byDomain = new Map<string, Reconciler[]>();

  register(reconciler: Reconciler): void {
    this.byDomain.set(reconciler.domain, [...(this.byDomain.get(reconciler.domain) ?? []), reconciler]);
  }

  domains(): string[] {
    return [...this.byDomain.keys()].sort();
  }

  of(domain: string): readonly Reconciler[] {
    return this.byDomain.get(domain) ?? [];
  }

  all(): Reconciler[] {
    return [...this.byDomain.values()].flat();
  }
}
