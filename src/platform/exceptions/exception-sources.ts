import { Injectable } from '@nestjs/common';
import type { Sql } from '../database/transaction.js';

/**
 * One thing received that could not be applied as it came, as `GET /v1/ops/exceptions` shows it: its domain, the
 * reason (and the rules it broke, where a rule decides), and the payload as it came, to be corrected and retried.
 */
export interface OpenException {
  /** Unique across domains (`ops_exception_id_seq`). */
  id: string;
  domain: string;
  /** Who sent it (a source key, a store, an ERP backend). */
  source: string;
  /** What it is about, in the domain's words (a shipment id, an account number). */
  subject: string;
  reason: string;
  /** The payload as it came (or as last corrected): what a retry applies. */
  payload: unknown;
  correlationId: string | null;
  receivedAt: string;
  attempts: number;
  lastTriedAt: string | null;
  [detail: string]: unknown;
}

/** Records the action's audit entry in the action's own transaction. */
export type AuditInTransaction = (tx: Sql, outcome: Record<string, unknown>) => Promise<void>;

/** The result of a retry: applied (the exception is closed) or refused again (still open, with its new reason). */
export type RetryOutcome = { closed: boolean; reason?: string; [detail: string]: unknown };

/** A domain's exceptions. Each answers undefined for an id that is not an open exception of its own. */
export interface ExceptionSource {
  readonly domain: string;
  open(limit: number): Promise<OpenException[]>;
  /**
   * Applies the exception again, with `corrected` in place of its payload when given (checked as the domain's
   * intake checks it: a problem is thrown for a malformed one, and nothing changes).
   */
  retry(id: string, corrected: Record<string, unknown> | undefined, audit: AuditInTransaction): Promise<RetryOutcome | undefined>;
  /** Gives it up: kept, closed as dismissed. */
  dismiss(id: string, audit: AuditInTransaction): Promise<{ subject: string; reason: string } | undefined>;
}

/** The domains' exception sources, registered by each at start: one list, one retry and one dismiss for them all. */
@Injectable()
export class ExceptionSources {
  private readonly sources: ExceptionSource[] = [];

  register(source: ExceptionSource): void {
    this.sources.push(source);
  }

  /** Open exceptions of every domain (or one), oldest first. */
  async open(limit: number, domain?: string): Promise<OpenException[]> {
    const lists = await Promise.all(this.sources.filter((s) => !domain || s.domain === domain).map((s) => s.open(limit)));
    return lists.flat().sort((a, b) => Number(a.id) - Number(b.id)).slice(0, limit);
  }

  async retry(id: string, corrected: Record<string, unknown> | undefined, audit: AuditInTransaction): Promise<(RetryOutcome & { domain: string }) | undefined> {
    for (const source of this.sources) {
      const outcome = await source.retry(id, corrected, audit);
      if (outcome) return { domain: source.domain, ...outcome };
    }
    return undefined;
  }

  async dismiss(id: string, audit: AuditInTransaction): Promise<{ domain: string; subject: string; reason: string } | undefined> {
    for (const source of this.sources) {
      const dismissed = await source.dismiss(id, audit);
      if (dismissed) return { domain: source.domain, ...dismissed };
    }
    return undefined;
  }

  domains(): string[] {
    return this.sources.map((s) => s.domain);
  }
}
