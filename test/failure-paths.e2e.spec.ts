import { Controller, Get, Module } from '@nestjs/common';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Access } from '../src/platform/security/principal.js';
import { startTestApp, type TestApp } from './support/test-app.js';

@Controller('v1/test-failures')
class FailingController {
  @Get('crash')
  @Access('public')
  crash(): never {
    throw new Error('relation "secret_table" does not exist: select password from secret_table');
  }

  @Get('slow')
  @Access('public')
  async slow() {
    await new Promise((r) => setTimeout(r, 800));
    return { finished: true };
  }
}
@Module({ controllers: [FailingController] })
class FailingModule {}

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp({ additionalModules: [FailingModule] });
});
afterAll(() => t.close().catch(() => undefined));

describe('an unexpected error', () => {
  it('is a generic 500 problem to the client and a full log line with the correlation id', async () => {
    const answer = await t.request('GET', '/v1/test-failures/crash', { headers: { 'x-correlation-id': 'crash-1' } });
    expect(answer.status).toBe(500);
    expect(answer.headers.get('content-type')).toMatch(/problem\+json/);
    expect(answer.body).toMatchObject({ status: 500, title: 'Internal error', correlationId: 'crash-1' });
    expect(answer.text).not.toMatch(/secret_table|select|password|Error:/);
    const logged = t.logs.map((l) => JSON.parse(l)).find((l) => l.correlationId === 'crash-1' && l.err);
    expect(logged?.err.message).toContain('secret_table');
    expect((await t.request('GET', '/health/live', { token: null })).status).toBe(200);
  });
});

describe('shutdown', () => {
  it('finishes a request in flight, then closes', async () => {
    const inFlight = t.request('GET', '/v1/test-failures/slow', { token: null });
    await new Promise((r) => setTimeout(r, 100));
    const closed = t.close();
    const answer = await inFlight;
    expect(answer.status).toBe(200);
    expect(answer.body).toEqual({ finished: true });
    await closed;
    await expect(fetch(`${t.baseUrl}/health/live`)).rejects.toThrow();
  });
});
