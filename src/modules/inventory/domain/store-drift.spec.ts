import { describe, expect, it } from 'vitest';
import { channelDrift, heldFigures, readFigures, storeDrift } from './store-drift.js';

describe('storeDrift', () => {
  it('names the warehouses whose figure the channel holds otherwise, with both figures', () => {
    expect(storeDrift({ 'WH-EAST': 9, 'WH-WEST': 4 }, { 'WH-EAST': 9, 'WH-WEST': 40 }, ['WH-EAST', 'WH-WEST'])).toEqual({ expected: { 'WH-WEST': 4 }, actual: { 'WH-WEST': 40 } });
  });

  it('finds nothing where they agree, where the channel holds nothing, or where it no longer sells from', () => {
    expect(storeDrift({ 'WH-EAST': 9 }, { 'WH-EAST': 9 }, ['WH-EAST'])).toBeUndefined();
    expect(storeDrift({ 'WH-EAST': 9, 'WH-WEST': 4 }, { 'WH-EAST': 9 }, ['WH-EAST', 'WH-WEST'])).toBeUndefined();
    expect(storeDrift({ 'WH-EAST': 9, 'WH-WEST': 4 }, { 'WH-EAST': 9, 'WH-WEST': 0 }, ['WH-EAST'])).toBeUndefined();
    expect(storeDrift({}, { 'WH-EAST': 3 }, ['WH-EAST'])).toBeUndefined();
  });

  it('keeps the form of what was sent when it records what the channel holds', () => {
    const sent = { 'WH-EAST': 9, 'WH-WEST': 4, 'WH-NORTH': 0 };
    const held = heldFigures(sent, storeDrift(sent, { 'WH-NORTH': 2, 'WH-EAST': 1 }, Object.keys(sent))!);
    expect(JSON.stringify(held)).toBe('{"WH-EAST":1,"WH-WEST":4,"WH-NORTH":2}');
  });
});

describe('readFigures', () => {
  it('reads figures per warehouse, and nothing else', () => {
    expect(readFigures('{"WH-EAST":3}')).toEqual({ 'WH-EAST': 3 });
    for (const value of [null, '7', '[1]', 'null', '{"WH-EAST":"3"}', '{']) expect(readFigures(value)).toBeUndefined();
  });
});

describe('channelDrift', () => {
  it("compares a store's figures per warehouse, and keeps what it holds in the form it was sent", () => {
    expect(channelDrift('{"WH-EAST":9,"WH-WEST":4}', { byWarehouse: { 'WH-EAST': 9, 'WH-WEST': 40 } }, ['WH-EAST', 'WH-WEST'])).toEqual({
      drift: { expected: { 'WH-WEST': 4 }, actual: { 'WH-WEST': 40 }, heldValue: '{"WH-EAST":9,"WH-WEST":40}' },
    });
    expect(channelDrift('{"WH-EAST":9}', { byWarehouse: { 'WH-EAST': 9 } }, ['WH-EAST'])).toEqual({});
  });

  it("compares a subscriber's one figure with the one it was sent", () => {
    expect(channelDrift('12', { available: 7 }, ['WH-EAST'])).toEqual({ drift: { expected: { available: 12 }, actual: { available: 7 }, heldValue: '7' } });
    expect(channelDrift('12', { available: 12 }, [])).toEqual({});
  });

  it('does not compare values of another shape', () => {
    expect(channelDrift('12', { byWarehouse: { 'WH-EAST': 12 } }, ['WH-EAST'])).toBeUndefined();
    expect(channelDrift('{"WH-EAST":12}', { available: 12 }, ['WH-EAST'])).toBeUndefined();
    expect(channelDrift(null, { available: 0 }, [])).toBeUndefined();
  });
});
