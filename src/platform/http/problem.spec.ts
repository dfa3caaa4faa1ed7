import { describe, expect, it } from 'vitest';
import { isDatabaseUnavailable } from './problem.js';

const withCode = (code: string) => Object.assign(new Error('x'), { code });

describe('isDatabaseUnavailable', () => {
  it.each([
    ['a refused connection', withCode('ECONNREFUSED')],
    ['a reset connection', withCode('ECONNRESET')],
    ['an administrator shutdown', withCode('57P01')],
    ['a connection failure', withCode('08006')],
    ['a failover onto a read-only standby', withCode('25006')],
    ['a client whose connection broke', new Error('Client has encountered a connection error and is not queryable')],
    ['a connection cut mid-query', new Error('Connection terminated unexpectedly')],
  ])('takes %s as the database being away', (_name, error) => {
    expect(isDatabaseUnavailable(error)).toBe(true);
  });

  it.each([
    ['a unique violation', withCode('23505')],
    ['a syntax error', withCode('42601')],
    ['a plain bug', new TypeError("Cannot read properties of undefined (reading '0')")],
  ])('does not take %s for it', (_name, error) => {
    expect(isDatabaseUnavailable(error)).toBe(false);
  });
});
