import type pg from 'pg';
import { ownTraceContext, withTraceContexts } from '../observability/tracing.js';
import { isDatabaseUnavailable } from './database-errors.js';
import { inTransaction, type Tx } from './transaction.js';

/** What the work answers for one item: a value, or an error for that item alone (it wrote nothing). */
export type ItemResult<R> = { ok: true; value: R } | { ok: false; error: unknown };

export interface GroupCommitOptions<I> {
  /** The most items one transaction takes. */
  maxBatch: number;
  /**
   * Transactions in flight at once (each holds one pooled connection while it runs). Past the first, a lane
   * starts only when a full batch waits.
   */
  lanes: number;
  /**
   * When fewer items wait than half the previous batch took, how long a free lane waits for more (ms): after a
   * busy batch commits, its callers' next requests arrive a moment later, and a lane that started at once would
   * take a batch of one for the price of a full one. A quiet service never waits: its last batch was small.
   */
  gatherMs?: number;
  /**
   * Items with the same key never share a transaction, nor run in two at once: the later one waits for the next
   * after the first's (an Idempotency-Key sent twice at once is answered from the first's stored result, not as a
   * conflict with itself, and does not hold another lane's batch waiting on the first's row).
   */
  keyOf?: (item: I) => string;
}

interface Waiting<I, R> {
  item: I;
  resolve: (value: R) => void;
  reject: (error: unknown) => void;
  /** The submitter's correlation id and span (tracing): what the batch stores for it continues its trace. */
  trace?: readonly [string, string];
}

/**
 * Group commit in the application: items that arrive while a transaction is running are written together by
 * the next one, with one set of statements and one commit, and each caller is answered after that commit. No
 * timer: an item that finds no transaction running starts at once, so a quiet service answers as fast as before,
 * and a busy one divides its statements and WAL flushes by the batch size.
 *
 * `work` answers one result per item, in order; an item it refuses (a validation, a conflict) must have written
 * nothing. When `work` throws for a batch of several, each item is run again alone, so that one item's failure
 * is never another's; a database that is away fails the batch's items at once.
 */
export class GroupCommit<I, R> {
  private readonly waiting: Array<Waiting<I, R>> = [];
  private running = 0;
  private lastBatch = 0;
  /** The keys of the items in the transactions running now (keyOf). */
  private readonly runningKeys = new Set<string>();
  private gathering: NodeJS.Timeout | undefined;

  constructor(
    private readonly pool: pg.Pool,
    private readonly work: (tx: Tx, items: I[]) => Promise<Array<ItemResult<R>>>,
    private readonly options: GroupCommitOptions<I>,
  ) {}

  /** Resolves once the item's transaction has committed (or rejects with its own error). */
  submit(item: I): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      this.waiting.push({ item, resolve, reject, trace: ownTraceContext() });
      this.next();
    });
  }

  private next(): void {
    while (this.running < this.options.lanes && this.waiting.length > 0) {
      // A second transaction at once only for a full batch: with few callers, one lane takes them all together.
      if (this.running > 0 && this.waiting.length < this.options.maxBatch) return;
      if (this.waiting.length < this.lastBatch / 2 && this.options.gatherMs) {
        this.gathering ??= setTimeout(() => {
          this.gathering = undefined;
          this.lastBatch = 0;
          this.next();
        }, this.options.gatherMs);
        return;
      }
      clearTimeout(this.gathering);
      this.gathering = undefined;
      const { batch, keys } = this.take();
      if (batch.length === 0) return; // every item waiting has its key in a running transaction: it goes after it
      for (const key of keys) this.runningKeys.add(key);
      this.lastBatch = batch.length;
      this.running++;
      void this.run(batch).finally(() => {
        for (const key of keys) this.runningKeys.delete(key);
        this.running--;
        this.next();
      });
    }
  }

  /** The next batch, and its items' keys (none without keyOf). */
  private take(): { batch: Array<Waiting<I, R>>; keys: Set<string> } {
    const { keyOf, maxBatch } = this.options;
    const keys = new Set<string>();
    if (!keyOf) return { batch: this.waiting.splice(0, maxBatch), keys };
    const batch: Array<Waiting<I, R>> = [];
    const left: Array<Waiting<I, R>> = [];
    for (const entry of this.waiting) {
      const key = keyOf(entry.item);
      if (batch.length < maxBatch && !keys.has(key) && !this.runningKeys.has(key)) {
        keys.add(key);
        batch.push(entry);
      } else {
        left.push(entry);
      }
    }
    this.waiting.splice(0, this.waiting.length, ...left);
    return { batch, keys };
  }

  private async run(batch: Array<Waiting<I, R>>): Promise<void> {
    let results: Array<ItemResult<R>>;
    try {
      // The batch runs in one submitter's context; the others' messages are told apart by their correlation ids.
      results = await withTraceContexts(batch.map((b) => b.trace), () => inTransaction(this.pool, (tx) => this.work(tx, batch.map((b) => b.item))));
    } catch (error) {
      if (batch.length === 1 || isDatabaseUnavailable(error)) {
        for (const entry of batch) entry.reject(error);
        return;
      }
      // One item's surprise must not fail the others: each goes again on its own, one after the other.
      for (const entry of batch) await this.run([entry]);
      return;
    }
    batch.forEach((entry, i) => {
      const result = results[i];
      if (!result) entry.reject(new Error('group commit: the work answered fewer results than items'));
      else if (result.ok) entry.resolve(result.value);
      else entry.reject(result.error);
    });
  }
}
