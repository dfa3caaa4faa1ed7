import { excerpt, TargetError } from '../platform/delivery/outcome.js';

type Field = 'string' | 'number' | 'boolean' | 'array' | 'object';
/** The fields a connector reads from a record, with their JSON types; `?` where the target may leave one out. */
export type Shape = Record<string, Field | `${Field}?`>;

/**
 * A record a target sent, checked against the fields the connector reads. A surprise is a retryable
 * TargetError that names the field and carries the target's text: the target or its setup is wrong, not the
 * message, and nothing downstream ever meets an undefined where it expects a number.
 */
export function expectShape<T>(system: string, what: string, value: unknown, shape: Shape): T {
  const problem = shapeProblem(value, shape);
  if (problem) throw new TargetError('retryable', `${system} answered ${what} of an unexpected shape: ${problem}`, { bodyExcerpt: excerpt(safeJson(value)) });
  return value as T;
}

/** The target's body as JSON; anything else is a retryable TargetError with the start of the text. */
export function parseJsonAnswer(system: string, status: number, text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    const kind = /^\s*</.test(text) ? 'an HTML or XML page' : text.trim() === '' ? 'an empty body' : 'a body that is not JSON';
    throw new TargetError('retryable', `${system} answered ${status} with ${kind}`, { status, bodyExcerpt: excerpt(text) });
  }
}

function shapeProblem(value: unknown, shape: Shape): string | undefined {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return `expected an object, got ${typeName(value)}`;
  for (const [field, declared] of Object.entries(shape)) {
    const optional = declared.endsWith('?');
    const expected = declared.replace('?', '');
    const actual = (value as Record<string, unknown>)[field];
    if (actual === undefined || actual === null) {
      if (optional) continue;
      return `${field} is missing`;
    }
    if (typeName(actual) !== expected) return `${field} is ${typeName(actual)}, expected ${expected}`;
  }
  return undefined;
}

function typeName(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  return typeof value;
}

function safeJson(value: unknown): string {
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}
