import { describe, expect, it } from 'vitest';
import { routingProblems, type BackendRole } from './routing.js';

const roles: Record<string, BackendRole> = { sap: 'legacy', bc: 'cloud', bc2: 'cloud' };
const roleOf = (id: string) => roles[id];

describe('routingProblems', () => {
  it('accepts a legacy rule on a legacy backend and a cloud rule on a cloud backend', () => {
    expect(routingProblems({ mode: 'legacy', primary: 'sap' }, roleOf)).toEqual([]);
    expect(routingProblems({ mode: 'cloud', primary: 'bc' }, roleOf)).toEqual([]);
  });

  it('refuses a primary whose role differs from the mode', () => {
    expect(routingProblems({ mode: 'cloud', primary: 'sap' }, roleOf)).toEqual([
      { field: 'primary', message: 'mode cloud needs a cloud backend; "sap" is legacy' },
    ]);
  });

  it('refuses unknown backends', () => {
    expect(routingProblems({ mode: 'shadow', primary: 'nope', shadow: 'gone' }, roleOf).map((p) => p.field)).toEqual(['primary', 'shadow']);
  });

  it('needs a distinct shadow in shadow mode, and none outside it', () => {
    expect(routingProblems({ mode: 'shadow', primary: 'sap', shadow: 'bc' }, roleOf)).toEqual([]);
    expect(routingProblems({ mode: 'shadow', primary: 'sap' }, roleOf)[0]?.field).toBe('shadow');
    expect(routingProblems({ mode: 'shadow', primary: 'bc', shadow: 'bc' }, roleOf)[0]?.message).toMatch(/differ/);
    expect(routingProblems({ mode: 'legacy', primary: 'sap', shadow: 'bc' }, roleOf)[0]?.field).toBe('shadow');
  });
});
