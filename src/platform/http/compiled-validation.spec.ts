import 'reflect-metadata';
import { Expose, plainToInstance, Transform, Type } from 'class-transformer';
import { IsInt, IsOptional, IsString, Min, ValidateNested, ValidateIf, validateSync } from 'class-validator';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { StockLevelDto } from '../../modules/inventory/api/inventory.dto.js';
import { CreateOrderDto } from '../../modules/orders/api/order.dto.js';
import { PageQueryDto } from './page-query.dto.js';
import { plainCheckOf } from './compiled-validation.js';
import { decimalPlaces } from './decimal.js';
import { validatePlain, VALIDATOR_OPTIONS } from './field-errors.js';

const order = () => ({
  channelOrderId: 'PORTAL-100045', customer: { accountNumber: '10000' }, currency: 'EUR',
  lines: [{ lineId: '1', sku: '1896-S', quantity: 2, unitPrice: 1000.8 }, { lineId: '2', sku: '1900-S', quantity: 0.125, unitPrice: 0 }],
  shipTo: { name: 'Adatum Corporation', line1: 'Station Road, 21', city: 'Cambridge', postalCode: 'CB1 2FB', country: 'GB' },
  requestedShipDate: '2026-12-01', notes: 'Leave at the gate',
});

/** class-validator's own verdict, through the transformation into instances, as validation went before the check. */
function validateUsual(cls: new () => object, plain: unknown): boolean {
  if (plain === null || typeof plain !== 'object' || Array.isArray(plain)) return false;
  return validateSync(plainToInstance(cls, plain, { enableImplicitConversion: false }), VALIDATOR_OPTIONS).length === 0;
}

describe('the compiled check of a class\'s rules', () => {
  it('passes a valid order, and refuses each kind of fault class-validator refuses', () => {
    const check = plainCheckOf(CreateOrderDto)!;
    expect(check).toBeDefined();
    expect(check(order())).toBe(true);
    const { notes: _, requestedShipDate: __, ...bare } = order();
    expect(check({ ...bare, shipTo: { country: 'DE' } })).toBe(true);
    const faults: Array<[string, (o: any) => void]> = [
      ['an unknown field', (o) => (o.discount = 5)],
      ['an unknown nested field', (o) => (o.lines[1].colour = 'red')],
      ['a missing field', (o) => delete o.currency],
      ['a missing nested field', (o) => delete o.customer.accountNumber],
      ['a number for a string', (o) => (o.channelOrderId = 100045)],
      ['an empty id', (o) => (o.lines[0].sku = '')],
      ['a too-long id', (o) => (o.channelOrderId = 'x'.repeat(65))],
      ['four decimals of quantity', (o) => (o.lines[0].quantity = 1.0001)],
      ['a negative price', (o) => (o.lines[0].unitPrice = -1)],
      ['a string for a number', (o) => (o.lines[0].quantity = '2')],
      ['no lines', (o) => (o.lines = [])],
      ['a line that is not an object', (o) => (o.lines[1] = 'line')],
      ['a null line', (o) => (o.lines[1] = null)],
      ['an object for the lines', (o) => (o.lines = { 0: o.lines[0] })],
      ['two lines with one id', (o) => (o.lines[1].lineId = '1')],
      ['an array for the customer', (o) => (o.customer = [o.customer])],
      ['a null customer', (o) => (o.customer = null)],
      ['an unknown currency', (o) => (o.currency = 'EURO')],
      ['an unknown country', (o) => (o.shipTo.country = 'XX')],
      ['a date that is not one', (o) => (o.requestedShipDate = '2026-13-01')],
      ['a null optional field of the wrong kind', (o) => (o.notes = 5)],
      // JavaScript writes these with an exponent and no '.': class-validator's own IsNumber threw on them.
      ['a quantity of 1e-7', (o) => (o.lines[0].quantity = 1e-7)],
      ['a price of -4e-323', (o) => (o.lines[0].unitPrice = -4e-323)],
    ];
    for (const [fault, apply] of faults) {
      const body = order();
      apply(body);
      expect(validateUsual(CreateOrderDto, body), fault).toBe(false);
      expect(check(body), fault).toBe(false);
    }
    // An optional field sent as null is skipped by both.
    expect(validateUsual(CreateOrderDto, { ...order(), notes: null })).toBe(true);
    expect(check({ ...order(), notes: null })).toBe(true);
  });

  it('never passes what class-validator refuses (fast-check, orders and stock levels made of valid and invalid parts)', () => {
    // Each part mostly valid, sometimes not: both verdicts come up often.
    const mostly = <T, U>(valid: fc.Arbitrary<T>, invalid: fc.Arbitrary<U>) => fc.oneof({ weight: 12, arbitrary: valid }, { weight: 1, arbitrary: invalid });
    const badText = fc.oneof(fc.constantFrom('', 'x'.repeat(65), null), fc.integer(), fc.string({ minLength: 65, maxLength: 70 }));
    const id = mostly(fc.oneof(fc.string({ minLength: 1, maxLength: 64 }), fc.constantFrom('x'.repeat(64), 'Müller 😀')), badText);
    const decimals = (places: number) => fc.integer({ min: 0, max: 10 ** 9 }).map((n) => n / 10 ** places);
    const badNumber = fc.oneof(fc.double(), fc.constantFrom(-1, 0.0005, 1.23456, 1e-7, -4e-323, 1e12, '1', null, Number.NaN));
    const maybe = <T>(arb: fc.Arbitrary<T>) => fc.option(arb, { nil: undefined, freq: 3 });
    const unknown = mostly(fc.constant(undefined), fc.constant(1));
    const line = fc.record({ lineId: id, sku: id, quantity: mostly(decimals(3).filter((q) => q >= 0.001), badNumber), unitPrice: mostly(decimals(4), badNumber), extra: mostly(fc.constant(undefined), fc.constant(1)) }, { requiredKeys: ['lineId', 'sku', 'quantity', 'unitPrice'] })
      .map((l) => Object.fromEntries(Object.entries(l).filter(([, v]) => v !== undefined)));
    const body = fc.record({
      channelOrderId: id,
      customer: mostly(fc.record({ accountNumber: id }), fc.oneof(badText, fc.constant({}), fc.array(fc.record({ accountNumber: id }), { minLength: 1, maxLength: 1 }))),
      currency: mostly(fc.constantFrom('EUR', 'USD', 'GBP', 'CHF'), fc.constantFrom('eur', 'EURO', 'XYZ', '', 5)),
      lines: mostly(fc.uniqueArray(line, { minLength: 1, maxLength: 4, selector: (l) => l.lineId }), fc.oneof(fc.constant([]), badText, fc.array(line, { minLength: 2, maxLength: 3 }), fc.array(badText, { minLength: 1, maxLength: 2 }))),
      shipTo: mostly(fc.record({ name: maybe(fc.string({ maxLength: 200 })), city: maybe(fc.string({ maxLength: 100 })), country: fc.constantFrom('GB', 'DE', 'NL') }, { requiredKeys: ['country'] }), fc.oneof(badText, fc.record({ country: fc.constantFrom('gb', 'XX', 'GBR') }), fc.record({ name: fc.string({ minLength: 201, maxLength: 205 }), country: fc.constant('GB') }))),
      requestedShipDate: maybe(mostly(fc.constantFrom('2026-12-01', '2027-02-28', null), fc.constantFrom('2026-13-01', '2026-1-1', '01/12/2026', 20261201))),
      notes: maybe(mostly(fc.string({ maxLength: 50 }), fc.oneof(fc.integer(), fc.string({ minLength: 2001, maxLength: 2001 })))),
      other: unknown,
    }, { requiredKeys: ['channelOrderId', 'customer', 'currency', 'lines', 'shipTo'] }).map((o) => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)));
    const level = fc.record({
      eventId: id, sku: id, warehouse: mostly(fc.constantFrom('WH-1', 'wh.2', 'EAST_3'), fc.constantFrom('bad code', '', 'x'.repeat(65))), onHand: mostly(decimals(3), badNumber),
      reserved: maybe(mostly(decimals(3), badNumber)),
      sequence: maybe(mostly(fc.integer({ min: 0, max: 1e6 }), fc.constantFrom(-1, 1.5, Number.MAX_SAFE_INTEGER + 2, '3'))),
      occurredAt: maybe(mostly(fc.constantFrom('2026-11-27T09:30:00Z', '2026-11-27T09:30:00.123+01:00'), fc.constantFrom('yesterday', '2026-11-27T25:00:00Z', '2026-02-30T10:00:00Z'))),
      other: unknown,
    }, { requiredKeys: ['eventId', 'sku', 'warehouse', 'onHand'] }).map((o) => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)));
    let passedOrders = 0;
    let passedLevels = 0;
    fc.assert(fc.property(body, (value) => {
      const fast = plainCheckOf(CreateOrderDto)!(value);
      if (fast) passedOrders++;
      // Exact: what the check passes class-validator passes (else a bad order would be taken), and what it refuses
      // class-validator refuses too (else a good one would pay the usual way for nothing).
      expect(fast).toBe(validateUsual(CreateOrderDto, value));
    }), { numRuns: 3000 });
    fc.assert(fc.property(level, (value) => {
      const fast = plainCheckOf(StockLevelDto)!(value);
      if (fast) passedLevels++;
      expect(fast).toBe(validateUsual(StockLevelDto, value));
    }), { numRuns: 3000 });
    // Both verdicts were met often enough for the comparison to mean something.
    expect(passedOrders).toBeGreaterThan(300);
    expect(passedOrders).toBeLessThan(2700);
    expect(passedLevels).toBeGreaterThan(300);
    expect(passedLevels).toBeLessThan(2700);
  });

  it('counts decimals as a number is written, exponents included', () => {
    expect([2, 1.25, -1.25, 0.001, 1e-7, 1.5e-7, -4e-323, 1e21, 123456.789].map(decimalPlaces)).toEqual([0, 2, 2, 3, 7, 8, 323, 0, 3]);
  });

  it('answers for valid values what validatePlain returns: the value as it was sent', () => {
    const body = order();
    const { value, errors } = validatePlain(CreateOrderDto, body);
    expect(errors).toEqual([]);
    expect(value).toBe(body);
    const { errors: named } = validatePlain(CreateOrderDto, { ...order(), currency: 'EURO' });
    expect(named).toEqual([{ field: 'currency', message: 'currency must be an ISO 4217 code' }]);
  });

  it('has no plan for a class whose transformed value would differ from the plain one', () => {
    class Trimmed {
      @IsString() @Transform(({ value }) => String(value).trim()) name!: string;
    }
    class Defaulted {
      @IsOptional() @IsInt() limit?: number = 50;
    }
    class Exposed {
      @Expose({ name: 'n' }) @IsString() name!: string;
    }
    class Conditional {
      @ValidateIf((o: { kind?: string }) => o.kind === 'x') @IsString() name!: string;
      @IsOptional() @IsString() kind?: string;
    }
    class Inner {
      @IsInt() @Min(1) quantity!: number;
    }
    class Outer {
      @ValidateNested() inner!: Inner; // no @Type: class-transformer leaves it a plain object
    }
    class Nested {
      @ValidateNested({ each: true }) @Type(() => Inner) inner!: Inner[];
    }
    expect(plainCheckOf(PageQueryDto)).toBeUndefined(); // @Type(() => Number) turns "50" into 50
    expect(plainCheckOf(Trimmed)).toBeUndefined();
    expect(plainCheckOf(Defaulted)).toBeUndefined();
    expect(plainCheckOf(Exposed)).toBeUndefined();
    expect(plainCheckOf(Outer)).toBeUndefined();
    // A condition and a nested class it can follow exactly.
    expect(plainCheckOf(Conditional)!({ kind: 'y' })).toBe(validateUsual(Conditional, { kind: 'y' }));
    expect(plainCheckOf(Conditional)!({ kind: 'x' })).toBe(validateUsual(Conditional, { kind: 'x' }));
    expect(plainCheckOf(Nested)!({ inner: [{ quantity: 1 }] })).toBe(true);
    expect(plainCheckOf(Nested)!({ inner: [{ quantity: 0 }] })).toBe(false);
  });
});
