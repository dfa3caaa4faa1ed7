import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { withCorrelationId } from './correlation.js';
import { createLogger, redactSecrets } from './logger.js';

describe('redactSecrets', () => {
  it('replaces secret fields at any depth and any case, leaving the input alone', () => {
    const input = { msg: 'x', headers: { Authorization: 'Bearer abc' }, config: { clientSecret: 's', url: 'u', nested: [{ password: 'p' }] } };
    expect(redactSecrets(input)).toEqual({
      msg: 'x',
      headers: { Authorization: '[redacted]' },
      config: { clientSecret: '[redacted]', url: 'u', nested: [{ password: '[redacted]' }] },
    });
    expect(input.config.clientSecret).toBe('s');
  });

  it('returns objects without secrets as they are', () => {
    const flat = { method: 'GET', status: 200, route: '/x' };
    expect(redactSecrets(flat)).toBe(flat);
  });
});

describe('createLogger', () => {
  it('writes JSON lines with the correlation id of the work in progress and no secrets', async () => {
    const lines: string[] = [];
    const destination = new Writable({ write: (chunk, _e, done) => (lines.push(String(chunk)), done()) });
    const logger = createLogger({ level: 'info', format: 'json', destination });
    withCorrelationId('corr-1', () => logger.info({ backend: { config: { clientSecret: 'hunter2' } } }, 'saved'));
    const line = JSON.parse(lines[0]!);
    expect(line).toMatchObject({ msg: 'saved', correlationId: 'corr-1', backend: { config: { clientSecret: '[redacted]' } } });
    expect(lines[0]).not.toContain('hunter2');
  });
});
