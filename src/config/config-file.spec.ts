import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ConfigError } from './config-error.js';
import { parseConfiguration } from './config-file.js';

const KEY = 'CROSSDOCK_CONFIG (test.yaml)';
const valid = `
erpBackends:
  bc:
    kind: business-central
    role: cloud
    config: { tenantId: t, environment: production, companyId: c, clientId: id, clientSecret: "\${BC_SECRET}" }
    limits: { ratePerSecond: 5, burst: 10, concurrency: 2 }
channels:
  portal:
    kind: api
    config: {}
    inventory: { warehouses: [WH-1], safetyStock: 0, allocationPercent: 100 }
    oversell: backorder
routing:
  orders: { mode: cloud, primary: bc }
`;

function problemOf(text: string, env: NodeJS.ProcessEnv = { BC_SECRET: 's' }): string {
  try {
    parseConfiguration(text, KEY, env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).not.toContain('\n');
    return (error as Error).message;
  }
  throw new Error('expected a ConfigError');
}

describe('parseConfiguration', () => {
  it('reads resources and takes ${VAR} from the environment', () => {
    const document = parseConfiguration(valid, KEY, { BC_SECRET: 'from-env' });
    expect(document.erpBackends.bc?.config.clientSecret).toBe('from-env');
    expect(document.channels.portal?.oversell).toBe('backorder');
    expect(document.routing.orders).toEqual({ mode: 'cloud', primary: 'bc' });
  });

  it('names an unset variable', () => {
    expect(problemOf(valid, {})).toBe(`${KEY} erpBackends.bc.config.clientSecret: refers to \${BC_SECRET}, which is not set`);
  });

  it('uses ${VAR:-default} when unset', () => {
    const document = parseConfiguration(valid.replace('${BC_SECRET}', '${BC_SECRET:-dflt}'), KEY, {});
    expect(document.erpBackends.bc?.config.clientSecret).toBe('dflt');
  });

  it('names the line of a YAML syntax error', () => {
    expect(problemOf('channels:\n  a: [1, 2\n')).toMatch(/line \d+, column \d+/);
  });

  it('names the key of an invalid value', () => {
    expect(problemOf(valid.replace('oversell: backorder', 'oversell: maybe'))).toBe(`${KEY} channels.portal.oversell: oversell must be one of the following values: reject, backorder`);
    expect(problemOf(valid.replace('kind: business-central', 'kind: navision'))).toBe(`${KEY} erpBackends.bc.kind: kind must be one of business-central, sap-b1`);
    expect(problemOf(valid.replace('clientId: id, ', ''))).toMatch(/erpBackends\.bc\.config\.clientId: clientId must be/);
  });

  it('refuses unknown sections, bad ids and incoherent routing', () => {
    expect(problemOf(valid + 'extras: {}\n')).toContain('extras: is not a known section');
    expect(problemOf(valid.replace('  portal:', '  "port al":'))).toContain('channels.port al: id must be');
    expect(problemOf(valid.replace('orders: { mode: cloud', 'orders: { mode: legacy'))).toContain('routing.orders.primary: mode legacy needs a legacy backend');
    expect(problemOf(valid.replace('  orders: {', '  payroll: {'))).toContain('routing.payroll: domain must be one of');
  });

  it('accepts the example configuration of docker/', () => {
    const example = readFileSync(new URL('../../docker/crossdock.yaml', import.meta.url), 'utf8');
    expect(Object.keys(parseConfiguration(example, KEY, {}).channels)).toEqual(['b2b-portal']);
  });

  it('accepts the bundled demo configuration', () => {
    const demo = readFileSync(new URL('./demo.yaml', import.meta.url), 'utf8');
    const document = parseConfiguration(demo, KEY, { PORT: '3000' });
    expect(Object.keys(document.channels)).toEqual(['demo-shop', 'demo-portal']);
    expect(document.erpBackends['bc-cloud']?.config.baseUrl).toContain('127.0.0.1:3000/simulators/');
  });
});
