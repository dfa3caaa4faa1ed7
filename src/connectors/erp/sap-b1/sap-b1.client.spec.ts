import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { sapError, sapStamp } from './sap-b1.client.js';

const fixture = (name: string) => readFileSync(new URL(`../../../../test/fixtures/sap_b1/${name}`, import.meta.url), 'utf8');

describe('sapError', () => {
  it('reads the code and the text of v1\'s envelope (the manual\'s and others\') and of v2\'s', () => {
    expect(sapError(fixture('error_invalid_session_401.json'))).toEqual({ code: '301', message: 'Invalid session or session already timeout.' });
    expect(sapError(fixture('error_item_exists_400.json'))).toEqual({ code: '-10', message: "Item code 'i002' already exists" });
    expect(sapError(fixture('error_login_failed.json'))).toEqual({ code: '100000027', message: 'Login failed' });
    expect(sapError(fixture('error_not_found_2028.json'))).toEqual({ code: '-2028', message: 'No matching records found (ODBC -2028)' });
    expect(sapError(fixture('error_invalid_session_b1slayer_test_mock.json'))).toEqual({ code: undefined, message: 'Invalid session' });
    expect(sapError('{"error":{"code":"-5002","message":"One of the base documents has already been closed"}}')).toEqual({ code: '-5002', message: 'One of the base documents has already been closed' });
  });

  it('never throws on a body of another shape', () => {
    for (const body of ['', 'not json', '<html></html>', 'null', '[]', '"error"', '{"error":"x"}', '{"error":null}', '{"error":[]}',
      '{"error":{"code":{},"message":5}}', '{"error":{"code":" ","message":{"value":7}}}', '{"error":{"message":{"lang":"en-us"}}}']) {
      const read = sapError(body);
      expect(read === undefined || (read.message === undefined && read.code === undefined)).toBe(true);
    }
  });
});

describe('sapStamp', () => {
  it('joins UpdateDate and UpdateTime as the server wrote them, in either version\'s date form', () => {
    expect(sapStamp('2026-02-18', '13:15:34')).toBe(Date.UTC(2026, 1, 18, 13, 15, 34));
    expect(sapStamp('2026-02-18T00:00:00Z', '13:15')).toBe(Date.UTC(2026, 1, 18, 13, 15, 0));
    expect(sapStamp('2026-02-18', '9:05:01')).toBe(Date.UTC(2026, 1, 18, 9, 5, 1));
  });

  it('is undefined when either part cannot be read', () => {
    for (const [date, time] of [[null, '13:15:34'], ['2026-02-18', null], ['18.02.2026', '13:15:34'], ['2026-02-18', 131534], [20260218, '13:15:34']]) {
      expect(sapStamp(date, time)).toBeUndefined();
    }
  });
});
