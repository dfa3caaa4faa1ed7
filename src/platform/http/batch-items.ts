import { ApiProperty } from '@nestjs/swagger';
import { ArrayMaxSize, ArrayMinSize, IsArray } from 'class-validator';
import { validatePlain, type FieldError } from './field-errors.js';

/** A batch of events from a source; the items are validated one by one: an invalid one gets an error, the others still apply. */
export class BatchDto {
  @ApiProperty({ type: 'array', items: { type: 'object' }, minItems: 1, maxItems: 1000 })
  @IsArray() @ArrayMinSize(1) @ArrayMaxSize(1000)
  items: unknown[];
}

/** What a batch intake answers: items applied, seen before, older than what is held, and the errors of the rest. */
export interface IntakeCounts {
  accepted: number;
  duplicate: number;
  stale: number;
  errors: Array<FieldError & { index: number; eventId?: string }>;
}

export type Indexed<T> = T & { index: number };

/** The batch's valid items with their index, and the counts holding an error per invalid one. */
export function validateItems<T extends object>(dto: new () => T, items: unknown[]): { valid: Array<Indexed<T>>; counts: IntakeCounts } {
  const counts: IntakeCounts = { accepted: 0, duplicate: 0, stale: 0, errors: [] };
  const valid: Array<Indexed<T>> = [];
  items.forEach((item, index) => {
    const { value, errors } = validatePlain(dto, item, `items[${index}]`);
    const eventId = typeof (item as { eventId?: unknown })?.eventId === 'string' ? (item as { eventId: string }).eventId : undefined;
    if (errors.length > 0) counts.errors.push(...errors.map((e) => ({ ...e, index, ...(eventId ? { eventId } : {}) })));
    else valid.push({ ...value, index });
  });
  return { valid, counts };
}

/** The counts with their errors in item order. */
export function sortedCounts<T extends IntakeCounts>(counts: T): T {
  return { ...counts, errors: counts.errors.sort((a, b) => a.index - b.index) };
}

/** An event ordered by its source's sequence, or else by when it happened there. */
export interface Ordered {
  sequence?: number;
  occurredAt?: string;
}

export function orderingOf(item: Ordered): 'sequence' | 'time' {
  return item.sequence !== undefined ? 'sequence' : 'time';
}

/** Whether `a` comes after `b` (both ordered the same way). */
export function isNewer(a: Ordered, b: Ordered): boolean {
  return a.sequence !== undefined ? a.sequence > b.sequence! : Date.parse(a.occurredAt!) > Date.parse(b.occurredAt!);
}
