/** What a secret reads as in every response and audit entry. */
export const MASK = '********';

type Config = Record<string, unknown>;

/** A copy of `config` with each secret field that holds a value replaced by the mask. */
export function maskSecrets(config: Config, secretFields: readonly string[]): Config {
  const masked: Config = { ...config };
  for (const field of secretFields) {
    if (masked[field] !== undefined && masked[field] !== null) masked[field] = MASK;
  }
  return masked;
}

/**
 * A client that read a masked resource and sends it back unchanged must not overwrite the secret with the
 * mask: a masked secret field keeps its stored value. Returns the fields that are masked with nothing stored.
 */
export function restoreMaskedSecrets(
  incoming: Config,
  stored: Config | undefined,
  secretFields: readonly string[],
): { config: Config; unresolved: string[] } {
  const config: Config = { ...incoming };
  const unresolved: string[] = [];
  for (const field of secretFields) {
    if (config[field] !== MASK) continue;
    if (stored?.[field] !== undefined) config[field] = stored[field];
    else unresolved.push(field);
  }
  return { config, unresolved };
}

/** A copy of `config` with each secret field that holds a string passed through `transform` (seal or open). */
export function transformSecrets(config: Config, secretFields: readonly string[], transform: (value: string) => string): Config {
  const result: Config = { ...config };
  for (const field of secretFields) {
    const value = result[field];
    if (typeof value === 'string' && value !== MASK) result[field] = transform(value);
  }
  return result;
}
