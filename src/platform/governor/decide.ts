import { maintenanceRemainingMs, type MaintenanceWindow } from './maintenance-window.js';

export interface TargetLimits {
  ratePerSecond: number;
  burst: number;
  concurrency: number;
  maintenanceWindows: readonly MaintenanceWindow[];
}

export interface CircuitSettings {
  /** Consecutive retryable failures that open the circuit. */
  failureThreshold: number;
  /** How long the circuit stays open before one probe is let through. */
  openMs: number;
}

export const DEFAULT_CIRCUIT: CircuitSettings = { failureThreshold: 5, openMs: 30_000 };

export type Circuit = 'closed' | 'open' | 'half_open';

export interface GovernorState {
  tokens: number;
  refilledAt: number;
  circuit: Circuit;
  consecutiveFailures: number;
  openedAt: number | null;
  pausedUntil: number | null;
}

export type WaitReason = 'maintenance' | 'retry-after' | 'circuit-open' | 'circuit-probe' | 'concurrency' | 'rate-limit';

export type Decision =
  | { grant: true; probe: boolean; state: GovernorState }
  | { grant: false; waitMs: number; reason: WaitReason; state: GovernorState };

// A target at its concurrency limit is asked again soon: a slot frees as soon as a call returns.
const CONCURRENCY_RETRY_MS = 100;

/** Whether a call to the target may start now; pure, so every instance decides alike from the shared state. */
export function decide(
  state: GovernorState,
  limits: TargetLimits,
  circuit: CircuitSettings,
  inFlight: { total: number; probe: boolean },
  now: number,
): Decision {
  const refilled = { ...state, ...refill(state, limits, now) };
  const wait = (waitMs: number, reason: WaitReason, next = refilled): Decision => ({ grant: false, waitMs: Math.max(1, Math.ceil(waitMs)), reason, state: next });

  const maintenance = maintenanceRemainingMs(limits.maintenanceWindows, new Date(now));
  if (maintenance > 0) return wait(maintenance, 'maintenance');
  if (refilled.pausedUntil !== null && refilled.pausedUntil > now) return wait(refilled.pausedUntil - now, 'retry-after');

  let probe = false;
  let next = refilled;
  if (next.circuit === 'open') {
    const reopensAt = (next.openedAt ?? now) + circuit.openMs;
    if (now < reopensAt) return wait(reopensAt - now, 'circuit-open');
    next = { ...next, circuit: 'half_open' };
  }
  if (next.circuit === 'half_open') {
    if (inFlight.probe || inFlight.total > 0) return wait(Math.min(circuit.openMs, 1_000), 'circuit-probe', next);
    probe = true;
  }
  if (inFlight.total >= limits.concurrency) return wait(CONCURRENCY_RETRY_MS, 'concurrency', next);
  if (next.tokens < 1) return wait(((1 - next.tokens) / limits.ratePerSecond) * 1000, 'rate-limit', next);
  return { grant: true, probe, state: { ...next, tokens: next.tokens - 1 } };
}

export type CallResult = { kind: 'success' } | { kind: 'failure' } | { kind: 'throttled'; retryAfterMs: number };

export interface AfterCall {
  state: GovernorState;
  /** The circuit changed; the caller logs it, traces it and exports it. */
  transition?: { from: Circuit; to: Circuit };
}

/**
 * The state after a call returns. A success (or a permanent refusal: the target is healthy) closes the
 * circuit; a retryable failure counts toward opening it, and a failed probe reopens it; a 429 pauses the
 * whole target until its Retry-After without counting as a failure.
 */
export function afterCall(state: GovernorState, result: CallResult, circuit: CircuitSettings, now: number): AfterCall {
  const from = state.circuit;
  let next: GovernorState;
  if (result.kind === 'success') next = { ...state, circuit: 'closed', consecutiveFailures: 0, openedAt: null };
  else if (result.kind === 'throttled') {
    next = { ...state, pausedUntil: Math.max(state.pausedUntil ?? 0, now + result.retryAfterMs) };
  } else {
    const failures = state.consecutiveFailures + 1;
    const opens = from === 'half_open' || (from === 'closed' && failures >= circuit.failureThreshold);
    next = { ...state, consecutiveFailures: failures, ...(opens ? { circuit: 'open' as const, openedAt: now } : {}) };
  }
  return next.circuit === from ? { state: next } : { state: next, transition: { from, to: next.circuit } };
}

function refill(state: GovernorState, limits: TargetLimits, now: number): Pick<GovernorState, 'tokens' | 'refilledAt'> {
  const elapsed = Math.max(0, now - state.refilledAt) / 1000;
  return { tokens: Math.min(limits.burst, state.tokens + elapsed * limits.ratePerSecond), refilledAt: now };
}
