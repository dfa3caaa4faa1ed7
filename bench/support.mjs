// What the bench scripts share: the machine line, a Crossdock process and its readiness, admin calls,
// throwaway databases on a PostgreSQL server, percentiles and CPU time.
import { spawn } from 'node:child_process';
import { openSync, readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import pg from 'pg';

/** A number from the environment variable `name`, else `fallback`. */
export const numberOption = (name, fallback) => Number(process.env[name] ?? fallback);

/** The PostgreSQL server to create throwaway databases on: DATABASE_URL, else the local one. */
export const serverUrlOption = () => process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

/** `Date: …; machine: …; Node …`, the first line of every result. */
export function machineLine() {
  return `Date: ${new Date().toISOString().slice(0, 10)}; machine: ${cpus().length} x ${cpus()[0].model}; Node ${process.version}`;
}

export async function waitFor(url, headers = {}) {
  for (let i = 0; i < 600; i++) {
    try {
      if ((await fetch(url, { headers })).ok) return;
    } catch {}
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${url} never became ready`);
}

/**
 * `node dist/main.js` with `env` on top of this process's environment, its log lines written to `logPath` (as a
 * log shipper would read them: a pipe drained by the bench would take CPU from the load generator), ready when
 * this resolves. Killed when the bench exits, whatever way it does.
 */
export async function startService(env, logPath) {
  // BENCH_NODE_ARGS: options for the service's node only, e.g. "--cpu-prof --cpu-prof-dir=/tmp/profiles".
  const nodeArgs = process.env.BENCH_NODE_ARGS ? process.env.BENCH_NODE_ARGS.split(' ').filter(Boolean) : [];
  const child = spawn(process.execPath, [...nodeArgs, 'dist/main.js'], { env: { ...process.env, ...env }, stdio: ['ignore', openSync(logPath, 'a'), 'inherit'] });
  const kill = () => child.kill('SIGKILL');
  process.on('exit', kill);
  child.on('exit', () => process.off('exit', kill));
  await waitFor(`http://127.0.0.1:${env.PORT}/health/ready`);
  return child;
}

export async function stopService(child) {
  if (child.exitCode !== null) return;
  const exited = new Promise((r) => child.on('exit', r));
  child.kill('SIGTERM');
  await exited;
}

/** A call with the admin token; answers the parsed body, throws on a status of 300 or above. */
export async function adminCall(baseUrl, adminToken, method, path, body) {
  const response = await fetch(baseUrl + path, {
    method,
    headers: { authorization: `Bearer ${adminToken}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  if (response.status >= 300) throw new Error(`${method} ${path}: ${response.status} ${text}`);
  return text ? JSON.parse(text) : undefined;
}

/** A new API key of a channel or source (`principal`: `channels/<id>` or `sources/<id>`). */
export async function issueApiKey(baseUrl, adminToken, principal, scopes) {
  return (await adminCall(baseUrl, adminToken, 'POST', `/v1/admin/${principal}/api-keys`, { scopes })).key;
}

/** Creates an empty database on the server `serverUrl` points at; `drop()` removes it (and its connections). */
export async function createDatabase(serverUrl, name) {
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  try {
    await admin.query(`create database ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const client = new pg.Client({ connectionString: serverUrl });
      await client.connect();
      await client.query(`drop database if exists ${name} with (force)`);
      await client.end();
    },
  };
}

/**
 * A migrated throwaway database named `name` for an in-process bench: on DATABASE_URL's server, else on an
 * embedded PostgreSQL started for it; `close()` drops it and stops what was started.
 */
export async function benchDatabase(name) {
  const { mkdtempSync, chmodSync, rmSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const { startEmbeddedPostgres } = await import('../dist/platform/database/embedded-postgres.js');
  const { migrateDatabase } = await import('../dist/platform/database/migrate.js');
  const { MIGRATIONS } = await import('../dist/migrations/index.js');
  let embedded;
  let dataDir;
  let serverUrl = process.env.DATABASE_URL;
  if (!serverUrl) {
    dataDir = mkdtempSync(join(tmpdir(), 'crossdock-bench-pg-'));
    chmodSync(dataDir, 0o755); // PostgreSQL runs as the postgres user when the bench runs as root
    embedded = await startEmbeddedPostgres(dataDir, { info() {}, warn: console.warn });
    serverUrl = embedded.url;
  }
  const database = await createDatabase(serverUrl, name);
  await migrateDatabase(database.url, MIGRATIONS);
  return {
    url: database.url,
    server: embedded ? 'embedded 18' : 'server',
    async close() {
      await database.drop();
      await embedded?.stop();
      if (dataDir) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** The value at percentile `p` (0-100) of numbers sorted ascending. */
export function percentile(sorted, p) {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

const TICKS_PER_SECOND = 100;

function statFields(pid) {
  // The fields after the command name: state is [0], the parent id [1], user and system time [11] and [12].
  return readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ').at(-1).split(' ');
}

function cpuTimes(pids) {
  const times = new Map();
  for (const pid of pids) {
    try {
      const fields = statFields(pid);
      times.set(String(pid), (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND);
    } catch {}
  }
  return times;
}

/**
 * Starts counting the CPU seconds (user + system) of the processes `pidsOf()` names (it may answer a promise),
 * asked again at the end so that processes started on the way count too; answers the function that gives the
 * seconds used since.
 */
export async function cpuMeter(pidsOf) {
  const start = cpuTimes(await pidsOf());
  return async () => {
    let seconds = 0;
    for (const [pid, time] of cpuTimes(await pidsOf())) seconds += time - (start.get(pid) ?? 0);
    return seconds;
  };
}

function machineBusySeconds() {
  const [user, nice, system, , , irq, softirq] = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  return (user + nice + system + irq + softirq) / TICKS_PER_SECOND;
}

/** The same for the whole machine, every process: to tell what else ran during a measurement. */
export async function machineCpuMeter() {
  const start = machineBusySeconds();
  return async () => machineBusySeconds() - start;
}

/** The ids of the server processes serving a database now (its backends), through a pool on it. */
export async function backendsOf(pool) {
  return (await pool.query('select pid from pg_stat_activity where datname = current_database()')).rows.map((r) => r.pid);
}

