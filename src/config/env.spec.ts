import { describe, expect, it } from 'vitest';
import { ConfigError } from './config-error.js';
import { readEnv } from './env.js';

describe('readEnv', () => {
  it('applies the documented defaults', () => {
    const env = readEnv({});
    expect(env).toMatchObject({ port: 3000, role: 'all', logLevel: 'info', bodyLimitBytes: 1048576, shutdownTimeoutMs: 10000, databaseUrl: undefined });
    expect(env.dataDir).toMatch(/\/\.data$/);
  });

  it.each([
    [{ PORT: 'eighty' }, 'PORT', 'must be a whole number'],
    [{ PORT: '70000' }, 'PORT', 'between 0 and 65535'],
    [{ CROSSDOCK_ROLE: 'boss' }, 'CROSSDOCK_ROLE', 'must be one of api, worker, all'],
    [{ LOG_LEVEL: 'loud' }, 'LOG_LEVEL', 'must be one of'],
    [{ DATABASE_URL: 'mysql://x/y' }, 'DATABASE_URL', 'postgres://'],
    [{ DATABASE_URL: 'not a url' }, 'DATABASE_URL', 'not a valid URL'],
    [{ CROSSDOCK_ADMIN_TOKEN: 'short' }, 'CROSSDOCK_ADMIN_TOKEN', 'at least 16'],
  ])('refuses %o naming %s', (vars, key, problem) => {
    try {
      readEnv(vars);
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as ConfigError).key).toBe(key);
      expect((error as ConfigError).problem).toContain(problem);
      expect((error as ConfigError).message).not.toContain('\n');
    }
  });
});
