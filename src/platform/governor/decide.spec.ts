import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { afterCall, decide, DEFAULT_CIRCUIT, type GovernorState, type TargetLimits } from './decide.js';

const limits: TargetLimits = { ratePerSecond: 2, burst: 3, concurrency: 2, maintenanceWindows: [] };
const fresh = (now = 0): GovernorState => ({ tokens: limits.burst, refilledAt: now, circuit: 'closed', consecutiveFailures: 0, openedAt: null, pausedUntil: null });
const idle = { total: 0, probe: false };

describe('decide', () => {
  it('grants the burst, then waits for the next token', () => {
    let state = fresh();
    for (let i = 0; i < 3; i++) {
      const d = decide(state, limits, DEFAULT_CIRCUIT, idle, 0);
      expect(d.grant).toBe(true);
      state = d.state;
    }
    const refused = decide(state, limits, DEFAULT_CIRCUIT, idle, 0);
    expect(refused).toMatchObject({ grant: false, reason: 'rate-limit', waitMs: 500 });
    expect(decide(state, limits, DEFAULT_CIRCUIT, idle, 500).grant).toBe(true);
  });

  it('waits at the concurrency limit', () => {
    expect(decide(fresh(), limits, DEFAULT_CIRCUIT, { total: 2, probe: false }, 0)).toMatchObject({ grant: false, reason: 'concurrency' });
  });

  it('waits out Retry-After and maintenance windows before anything else', () => {
    expect(decide({ ...fresh(), pausedUntil: 5_000 }, limits, DEFAULT_CIRCUIT, idle, 1_000)).toMatchObject({ grant: false, reason: 'retry-after', waitMs: 4_000 });
    const always = { ...limits, maintenanceWindows: [{ timeZone: 'UTC', start: '00:00', end: '23:59' }] };
    expect(decide(fresh(), always, DEFAULT_CIRCUIT, idle, Date.UTC(2026, 10, 27, 12)).grant).toBe(false);
  });

  it('keeps an open circuit closed to calls, then lets one probe through', () => {
    const open: GovernorState = { ...fresh(), circuit: 'open', openedAt: 0 };
    expect(decide(open, limits, DEFAULT_CIRCUIT, idle, 10_000)).toMatchObject({ grant: false, reason: 'circuit-open', waitMs: 20_000 });
    const probe = decide(open, limits, DEFAULT_CIRCUIT, idle, 30_000);
    expect(probe).toMatchObject({ grant: true, probe: true });
    expect(decide(probe.state, limits, DEFAULT_CIRCUIT, { total: 1, probe: true }, 30_001)).toMatchObject({ grant: false, reason: 'circuit-probe' });
  });

  it('never grants more calls in a window than burst plus rate times the window', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 400 }), { minLength: 1, maxLength: 200 }), (gaps) => {
        let state = fresh();
        let now = 0;
        let granted = 0;
        for (const gap of gaps) {
          now += gap;
          const d = decide(state, limits, DEFAULT_CIRCUIT, idle, now);
          state = d.state;
          if (d.grant) granted++;
        }
        return granted <= limits.burst + (now / 1000) * limits.ratePerSecond + 1e-9;
      }),
    );
  });
});

describe('afterCall', () => {
  it('opens after the threshold of consecutive failures and closes on a success', () => {
    let state = fresh();
    for (let i = 1; i < DEFAULT_CIRCUIT.failureThreshold; i++) {
      const r = afterCall(state, { kind: 'failure' }, DEFAULT_CIRCUIT, i);
      expect(r.transition).toBeUndefined();
      state = r.state;
    }
    const opened = afterCall(state, { kind: 'failure' }, DEFAULT_CIRCUIT, 99);
    expect(opened.transition).toEqual({ from: 'closed', to: 'open' });
    expect(opened.state.openedAt).toBe(99);
    const closed = afterCall({ ...opened.state, circuit: 'half_open' }, { kind: 'success' }, DEFAULT_CIRCUIT, 200);
    expect(closed.transition).toEqual({ from: 'half_open', to: 'closed' });
    expect(closed.state.consecutiveFailures).toBe(0);
  });

  it('reopens on a failed probe, and pauses on throttling without counting a failure', () => {
    expect(afterCall({ ...fresh(), circuit: 'half_open' }, { kind: 'failure' }, DEFAULT_CIRCUIT, 5).transition).toEqual({ from: 'half_open', to: 'open' });
    const throttled = afterCall(fresh(), { kind: 'throttled', retryAfterMs: 3_000 }, DEFAULT_CIRCUIT, 1_000);
    expect(throttled.state).toMatchObject({ pausedUntil: 4_000, consecutiveFailures: 0 });
  });
});
