import { ValidationPipe, type ArgumentMetadata, type Type } from '@nestjs/common';
import { plainCheckOf } from './compiled-validation.js';
import { problems } from './problem.js';
import { toFieldErrors, VALIDATOR_OPTIONS } from './field-errors.js';
import { cacheValidationMetadata } from './validation-metadata-cache.js';

cacheValidationMetadata();

/**
 * Nest's ValidationPipe, with a valid value let through by the class's compiled check (compiled-validation.ts) as
 * the plain value it is; anything the check does not pass is validated and transformed as before, which names the
 * fields at fault.
 */
class CheckedValidationPipe extends ValidationPipe {
  override async transform(value: unknown, metadata: ArgumentMetadata): Promise<unknown> {
    const target = this.expectedType ?? metadata.metatype;
    if (target && metadata.type !== 'custom' && plainCheckOf(target)?.(value)) return value;
    return super.transform(value, metadata);
  }
}

/** The one validation pipe: unknown fields refused, values transformed, failures as a problem naming each field. */
export function createValidationPipe(expectedType?: Type<unknown>): ValidationPipe {
  return new CheckedValidationPipe({
    ...VALIDATOR_OPTIONS,
    transform: true,
    expectedType,
    exceptionFactory: (errors) => problems.validation(toFieldErrors(errors)),
  });
}
