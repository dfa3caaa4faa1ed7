import { plainToInstance } from 'class-transformer';
import { validateSync, type ValidationError } from 'class-validator';
import { plainCheckOf } from './compiled-validation.js';

/** One failing field of a request body or configuration document, named by its dotted path. */
export interface FieldError {
  field: string;
  message: string;
}

export const VALIDATOR_OPTIONS = {
  whitelist: true,
  forbidNonWhitelisted: true,
  forbidUnknownValues: true,
  validationError: { target: false, value: false },
} as const;

/** Flattens class-validator's nested errors into one entry per failing field and rule. */
export function toFieldErrors(errors: readonly ValidationError[], prefix = ''): FieldError[] {
  const out: FieldError[] = [];
  for (const error of errors) {
    const field = error.property === undefined ? prefix || '(body)' : joinPath(prefix, error.property);
    for (const message of Object.values(error.constraints ?? {})) {
      out.push({ field, message: rewordUnknownProperty(message, field) });
    }
    if (error.children?.length) out.push(...toFieldErrors(error.children, field));
  }
  return out;
}

/** Validates a plain value against a class-validator class; the value is returned when valid (transformed, where the class's compiled check does not pass it as it is). */
export function validatePlain<T extends object>(
  cls: new () => T,
  plain: unknown,
  prefix = '',
): { value: T; errors: FieldError[] } {
  if (plain === null || typeof plain !== 'object' || Array.isArray(plain)) {
    return { value: undefined as never, errors: [{ field: prefix || '(body)', message: 'must be an object' }] };
  }
  if (plainCheckOf(cls)?.(plain)) return { value: plain as T, errors: [] };
  const value = plainToInstance(cls, plain, { enableImplicitConversion: false });
  return { value, errors: toFieldErrors(validateSync(value, VALIDATOR_OPTIONS), prefix) };
}

function joinPath(prefix: string, property: string): string {
  if (!prefix) return property;
  return /^\d+$/.test(property) ? `${prefix}[${property}]` : `${prefix}.${property}`;
}

function rewordUnknownProperty(message: string, field: string): string {
  return /^property .* should not exist$/.test(message) ? `${field} is not a known field` : message;
}
