import { describe, expect, it } from 'vitest';
import { ConfigError } from './config-error.js';
import { readEnv } from './env.js';

const SECRET = 'whsec_' + Buffer.from('alert-signing-key-0123456789').toString('base64');

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
    [{ CROSSDOCK_ALERT_WEBHOOK_URL: 'ftp://alerts.example.com', CROSSDOCK_ALERT_WEBHOOK_SECRET: SECRET }, 'CROSSDOCK_ALERT_WEBHOOK_URL', 'https://'],
    [{ CROSSDOCK_ALERT_WEBHOOK_URL: 'https://alerts.example.com/hook' }, 'CROSSDOCK_ALERT_WEBHOOK_SECRET', 'must be set'],
    [{ CROSSDOCK_ALERT_WEBHOOK_SECRET: SECRET }, 'CROSSDOCK_ALERT_WEBHOOK_SECRET', 'CROSSDOCK_ALERT_WEBHOOK_URL is not'],
    [{ CROSSDOCK_ALERT_WEBHOOK_URL: 'https://alerts.example.com/hook', CROSSDOCK_ALERT_WEBHOOK_SECRET: 'plain-secret' }, 'CROSSDOCK_ALERT_WEBHOOK_SECRET', 'whsec_'],
    [{ CROSSDOCK_SMTP_URL: 'http://mail.example.com', CROSSDOCK_ALERT_EMAIL_TO: 'ops@example.com' }, 'CROSSDOCK_SMTP_URL', 'smtp://'],
    [{ CROSSDOCK_SMTP_URL: 'smtp://mail.example.com:587' }, 'CROSSDOCK_ALERT_EMAIL_TO', 'must be set'],
    [{ CROSSDOCK_SMTP_URL: 'smtp://mail.example.com', CROSSDOCK_ALERT_EMAIL_TO: 'ops@example.com, not-an-address' }, 'CROSSDOCK_ALERT_EMAIL_TO', 'not-an-address'],
    [{ CROSSDOCK_SMTP_URL: 'smtp://mail.example.com', CROSSDOCK_ALERT_EMAIL_TO: 'ops@example.com', CROSSDOCK_ALERT_EMAIL_FROM: 'Crossdock <nobody>' }, 'CROSSDOCK_ALERT_EMAIL_FROM', 'not an email'],
    [{ CROSSDOCK_ALERT_EMAIL_TO: 'ops@example.com' }, 'CROSSDOCK_ALERT_EMAIL_TO', 'CROSSDOCK_SMTP_URL is not'],
    [{ CROSSDOCK_SLO_CHECK_MS: '10' }, 'CROSSDOCK_SLO_CHECK_MS', 'between 100'],
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

  it('reads where the console links trace ids, a URL with {traceId} in it, and the console sessions\' lengths', () => {
    expect(readEnv({}).traceUrl).toBeUndefined();
    expect(readEnv({ CROSSDOCK_TRACE_URL: 'https://tempo.example.com/trace/{traceId}' }).traceUrl).toBe('https://tempo.example.com/trace/{traceId}');
    expect(() => readEnv({ CROSSDOCK_TRACE_URL: 'https://tempo.example.com/trace/' })).toThrow(/CROSSDOCK_TRACE_URL.*\{traceId\}/);
    expect(() => readEnv({ CROSSDOCK_TRACE_URL: 'ftp://x/{traceId}' })).toThrow(ConfigError);
    expect(readEnv({}).consoleSession).toEqual({ idleMinutes: 30, maxHours: 12 });
    expect(readEnv({}).reconciliation).toEqual({ tickMs: 30_000 });
  });

  it('reads where breaches of delay objectives are told: nowhere by default', () => {
    expect(readEnv({}).alerts).toEqual({ checkMs: 15_000, webhook: undefined, email: undefined });
    expect(readEnv({
      CROSSDOCK_ALERT_WEBHOOK_URL: 'https://alerts.example.com/crossdock',
      CROSSDOCK_ALERT_WEBHOOK_SECRET: SECRET,
      CROSSDOCK_SMTP_URL: 'smtps://user:pass@mail.example.com',
      CROSSDOCK_ALERT_EMAIL_TO: 'ops@example.com, oncall@example.com',
      CROSSDOCK_ALERT_EMAIL_FROM: 'Crossdock <crossdock@example.com>',
      CROSSDOCK_SLO_CHECK_MS: '5000',
    }).alerts).toEqual({
      checkMs: 5000,
      webhook: { url: 'https://alerts.example.com/crossdock', secret: SECRET },
      email: { smtpUrl: 'smtps://user:pass@mail.example.com', from: 'Crossdock <crossdock@example.com>', to: ['ops@example.com', 'oncall@example.com'] },
    });
  });
});
