import { buildMessage, ValidateBy, type ValidationOptions } from 'class-validator';

/**
 * A finite number with at most `places` decimals. class-validator's `IsNumber({ maxDecimalPlaces })` counts the
 * decimals after the '.' of `toString()`, and throws on a number JavaScript writes with an exponent and no '.'
 * (1e-7): the request then failed as an error of the service instead of a field's.
 */
export function IsDecimal(places: number, options?: ValidationOptions): PropertyDecorator {
  return ValidateBy({
    name: 'isNumber',
    constraints: [places],
    validator: {
      validate: (value: unknown) => typeof value === 'number' && Number.isFinite(value) && decimalPlaces(value) <= places,
      defaultMessage: buildMessage((each) => `${each}$property must be a number with at most ${places} decimals`, options),
    },
  }, options);
}

/** The decimals a number is written with: 1.25 has 2, 1e-7 has 7, 1.5e-7 has 8, 1e21 has none. */
export function decimalPlaces(value: number): number {
  if (Number.isInteger(value)) return 0;
  const [mantissa = '', exponent = '0'] = Math.abs(value).toString().split('e');
  const fraction = mantissa.split('.')[1]?.length ?? 0;
  return Math.max(0, fraction - Number(exponent));
}
