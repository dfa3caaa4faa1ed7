import { existsSync, mkdtempSync, chmodSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort } from '../src/platform/database/embedded-postgres.js';
import { startService, waitForStatus, type ServiceProcess } from './support/processes.js';
import { ADMIN_TOKEN, freshDatabase } from './support/test-app.js';

const dirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'crossdock-proc-'));
  chmodSync(dir, 0o755);
  dirs.push(dir);
  return dir;
}
const running: ServiceProcess[] = [];
afterAll(async () => {
  for (const service of running) if (service.child.exitCode === null) service.child.kill('SIGKILL');
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

async function stop(service: ServiceProcess) {
  service.child.kill('SIGTERM');
  return service.exited;
}

describe('a bad configuration stops the process with exit code 2 and one line', () => {
  const badFile = () => {
    const path = join(tempDir(), 'crossdock.yaml');
    writeFileSync(path, 'channels:\n  shop:\n    kind: shopify\n    config: { shopDomain: acme.com }\n    inventory: { warehouses: [A], safetyStock: 0, allocationPercent: 100 }\n    oversell: reject\n');
    return path;
  };

  it.each([
    ['an invalid PORT', () => ({ PORT: 'eighty' }), /^crossdock: configuration error: PORT: must be a whole number, got "eighty"$/],
    ['an unknown role', () => ({ CROSSDOCK_ROLE: 'boss' }), /^crossdock: configuration error: CROSSDOCK_ROLE: must be one of api, worker, all/],
    ['DATABASE_URL without an admin token', () => ({ DATABASE_URL: 'postgres://127.0.0.1:1/x' }), /CROSSDOCK_ADMIN_TOKEN: must be set when DATABASE_URL is set/],
    ['a missing config file', () => ({ CROSSDOCK_CONFIG: '/nonexistent/crossdock.yaml' }), /CROSSDOCK_CONFIG \(\/nonexistent\/crossdock.yaml\): cannot be read: ENOENT/],
    ['an invalid value in the config file', () => ({ CROSSDOCK_CONFIG: badFile() }), /crossdock.yaml\) channels\.shop\.config\.shopDomain: shopDomain must look like name\.myshopify\.com \(and \d+ more\)$/],
  ])('%s', async (_name, env, line) => {
    const service = startService({ ...env(), CROSSDOCK_DATA_DIR: tempDir() });
    const { code } = await service.exited;
    expect(code).toBe(2);
    const lines = service.stderr().trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(line);
    expect(service.stderr()).not.toMatch(/\s+at\s/);
  });
});

describe('a bad environment at start stops the process with exit code 2 and one line', () => {
  const expectOneLine = async (service: ServiceProcess, line: RegExp) => {
    const { code } = await service.exited;
    const lines = service.stderr().trim().split('\n');
    expect({ code, lines }).toMatchObject({ code: 2, lines: [expect.stringMatching(line)] });
    expect(service.stderr()).not.toMatch(/\s+at\s/);
  };

  it('a data folder the database user cannot reach', async () => {
    // As root, PostgreSQL runs as user postgres, which cannot enter a folder of mode 0700; as anyone else,
    // a folder of mode 0000 cannot be entered at all.
    const parent = tempDir();
    chmodSync(parent, process.getuid?.() === 0 ? 0o700 : 0o000);
    try {
      await expectOneLine(startService({ CROSSDOCK_DATA_DIR: join(parent, 'data') }), /^crossdock: configuration error: CROSSDOCK_DATA_DIR \(.*\/data\): /);
    } finally {
      chmodSync(parent, 0o755);
    }
    expect(existsSync(join(parent, 'data', 'postgres', 'PG_VERSION'))).toBe(false);
  });

  it('a port already taken', async () => {
    const holder = createServer();
    const port = await freePort();
    await new Promise<void>((resolve) => holder.listen(port, '0.0.0.0', resolve));
    try {
      const service = startService({ PORT: String(port), DATABASE_URL: await freshDatabase(), CROSSDOCK_ADMIN_TOKEN: ADMIN_TOKEN, CROSSDOCK_DATA_DIR: tempDir() });
      await expectOneLine(service, new RegExp(`^crossdock: configuration error: PORT: ${port} is already in use`));
    } finally {
      holder.close();
    }
  });

  it('a database that refuses the credentials', async () => {
    const url = new URL(await freshDatabase());
    url.username = 'crossdock_nobody';
    url.password = 'wrong';
    const service = startService({ DATABASE_URL: url.toString(), CROSSDOCK_ADMIN_TOKEN: ADMIN_TOKEN, CROSSDOCK_DATA_DIR: tempDir() });
    await expectOneLine(service, /^crossdock: configuration error: DATABASE_URL: the database refused the credentials: .*crossdock_nobody/);
  });
});

describe('several instances on one database', () => {
  it('two instances starting at once on an empty database both become ready, then stop cleanly', async () => {
    const databaseUrl = await freshDatabase({ empty: true });
    const configFile = join(tempDir(), 'crossdock.yaml');
    writeFileSync(configFile, 'sources:\n  wms:\n    name: Warehouse\n');
    const ports = [await freePort(), await freePort()];
    const services = ports.map((port) =>
      startService({ DATABASE_URL: databaseUrl, CROSSDOCK_ADMIN_TOKEN: ADMIN_TOKEN, CROSSDOCK_CONFIG: configFile, PORT: String(port), CROSSDOCK_DATA_DIR: tempDir() }),
    );
    running.push(...services);
    await Promise.all(ports.map((port, i) => waitForStatus(`http://127.0.0.1:${port}/health/ready`, 200, services[i])));
    const sources = await fetch(`http://127.0.0.1:${ports[1]}/v1/admin/sources`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
    expect(((await sources.json()) as Array<{ id: string }>).map((s: { id: string }) => s.id)).toEqual(['wms']);
    const results = await Promise.all(services.map(stop));
    expect(results.map((r) => r.code)).toEqual([0, 0]);
  });
});

describe('demo mode on the embedded database', () => {
  it('starts on first run, says it is simulated, reuses the database after, and survives a SIGKILL', async () => {
    const dataDir = tempDir();
    const port = await freePort();
    const env = { PORT: String(port), CROSSDOCK_DATA_DIR: dataDir };
    const ready = `http://127.0.0.1:${port}/health/ready`;

    const first = startService(env);
    running.push(first);
    await waitForStatus(ready, 200, first, 60_000);
    expect(first.stdout()).toContain('DEMO MODE');
    expect(first.stdout()).toMatch(/SIMULATED/);
    expect(first.stdout()).toContain(`${dataDir}/admin-token`);
    const token = readFileSync(join(dataDir, 'admin-token'), 'utf8').trim();
    expect(first.stdout()).not.toContain(token);
    const channels = await fetch(`http://127.0.0.1:${port}/v1/admin/channels`, { headers: { authorization: `Bearer ${token}` } });
    expect(((await channels.json()) as Array<{ id: string }>).map((c: { id: string }) => c.id)).toEqual(['demo-portal', 'demo-shop']);
    expect((await stop(first)).code).toBe(0);
    expect(existsSync(join(dataDir, 'postgres', 'postmaster.pid'))).toBe(false);

    const second = startService(env);
    running.push(second);
    await waitForStatus(ready, 200, second);
    expect(second.stdout()).not.toContain('creating the embedded PostgreSQL cluster');
    second.child.kill('SIGKILL');
    await second.exited;

    // The killed process left its PostgreSQL running; the next start must take over the data directory.
    const third = startService(env);
    running.push(third);
    await waitForStatus(ready, 200, third);
    expect(third.stdout()).toContain('left running on');
    expect((await stop(third)).code).toBe(0);
  });
});
