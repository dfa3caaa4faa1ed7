import { getMetadataStorage, IsInt, IsString, Min, ValidateNested, validate } from 'class-validator';
import { Type } from 'class-transformer';
import { describe, expect, it } from 'vitest';
import { cacheValidationMetadata } from './validation-metadata-cache.js';

class Line {
  @IsString() sku!: string;
  @IsInt() @Min(1) quantity!: number;
}
class Base {
  @IsString() reference!: string;
}
class Order extends Base {
  @ValidateNested({ each: true }) @Type(() => Line) lines!: Line[];
}

const order = (reference: unknown, quantity: unknown) => Object.assign(new Order(), { reference, lines: [Object.assign(new Line(), { sku: 'A', quantity })] });
const failed = async (value: object) => (await validate(value)).flatMap(function flat(e): string[] {
  return [...Object.keys(e.constraints ?? {}).map((c) => `${e.property}:${c}`), ...(e.children ?? []).flatMap(flat)];
}).sort();

describe('the cache of class-validator metadata', () => {
  it('answers as class-validator does, inherited constraints and nested objects included, and takes a constraint registered later', async () => {
    cacheValidationMetadata();
    cacheValidationMetadata(); // once only
    expect(await failed(order('R-1', 2))).toEqual([]);
    expect(await failed(order(7, 0))).toEqual(['quantity:min', 'reference:isString']);
    // Asked again: the same answer, from the cache (the very list class-validator gave the first time).
    expect(await failed(order(7, 0))).toEqual(['quantity:min', 'reference:isString']);
    const storage = getMetadataStorage();
    expect(storage.getTargetValidationMetadatas(Order, '', false, false)).toBe(storage.getTargetValidationMetadatas(Order, '', false, false));
    // A constraint registered after a class was validated (a decorator applied late) is not missed.
    Min(5)(Line.prototype, 'quantity');
    expect(await failed(order('R-1', 2))).toEqual(['quantity:min']);
  });
});
