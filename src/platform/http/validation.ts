import { ValidationPipe, type Type } from '@nestjs/common';
import { problems } from './problem.js';
import { toFieldErrors, VALIDATOR_OPTIONS } from './field-errors.js';
import { cacheValidationMetadata } from './validation-metadata-cache.js';

cacheValidationMetadata();

/** The one validation pipe: unknown fields refused, values transformed, failures as a problem naming each field. */
export function createValidationPipe(expectedType?: Type<unknown>): ValidationPipe {
  return new ValidationPipe({
    ...VALIDATOR_OPTIONS,
    transform: true,
    expectedType,
    exceptionFactory: (errors) => problems.validation(toFieldErrors(errors)),
  });
}
