import { describe, expect, it } from 'vitest';
import { flowObjectives, isBreached, objectiveFor, type DelayObjective } from './delay-objectives.js';

const stat = (flow: string, destination: string, oldestWaitingSeconds: number | null) => ({ flow, destination, oldestWaitingSeconds });

describe('objectiveFor', () => {
  it("takes the flow's own objective, else the destination's default, else none", () => {
    const objective: DelayObjective = { maxAgeSeconds: 300, flows: { 'erp.sales-order.create': { maxAgeSeconds: 60 } } };
    expect(objectiveFor(objective, 'erp.sales-order.create')).toBe(60);
    expect(objectiveFor(objective, 'erp.shipment.post')).toBe(300);
    expect(objectiveFor({ flows: { a: { maxAgeSeconds: 5 } } }, 'b')).toBeUndefined();
    expect(objectiveFor(undefined, 'a')).toBeUndefined();
  });

  it('reads only the flows named, not what every object inherits', () => {
    expect(objectiveFor({ maxAgeSeconds: 9, flows: {} }, 'constructor')).toBe(9);
    expect(objectiveFor({ flows: {} }, 'toString')).toBeUndefined();
  });
});

describe('isBreached', () => {
  it('is past the objective, not at it; nothing waiting is never a breach', () => {
    expect(isBreached({ maxAgeSeconds: 10, oldestAgeSeconds: 10.001 })).toBe(true);
    expect(isBreached({ maxAgeSeconds: 10, oldestAgeSeconds: 10 })).toBe(false);
    expect(isBreached({ maxAgeSeconds: 10, oldestAgeSeconds: null })).toBe(false);
  });
});

describe('flowObjectives', () => {
  const objectives = new Map<string, DelayObjective>([
    ['erp:bc', { maxAgeSeconds: 300, flows: { 'erp.sales-order.create': { maxAgeSeconds: 60 }, 'erp.customer.update': { maxAgeSeconds: 900 } } }],
    ['channel:portal', { flows: { 'order.status.changed': { maxAgeSeconds: 30 } } }],
  ]);

  it('holds each flow seen to its objective, lists the flows named though quiet, and leaves the rest out', () => {
    const stats = [
      stat('erp.sales-order.create', 'erp:bc', 75),
      stat('erp.shipment.post', 'erp:bc', null),
      stat('inventory.availability.changed', 'channel:portal', 12),
      stat('order.status.changed', 'channel:portal', 3),
      stat('test.command', 'channel:other', 999),
    ];
    expect(flowObjectives(stats, objectives)).toEqual([
      { flow: 'order.status.changed', destination: 'channel:portal', maxAgeSeconds: 30, oldestAgeSeconds: 3 },
      { flow: 'erp.customer.update', destination: 'erp:bc', maxAgeSeconds: 900, oldestAgeSeconds: null },
      { flow: 'erp.sales-order.create', destination: 'erp:bc', maxAgeSeconds: 60, oldestAgeSeconds: 75 },
      { flow: 'erp.shipment.post', destination: 'erp:bc', maxAgeSeconds: 300, oldestAgeSeconds: null },
    ]);
  });

  it('is empty without objectives', () => {
    expect(flowObjectives([stat('a', 'erp:bc', 5)], new Map())).toEqual([]);
  });
});
