import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';

/** A throwaway PostgreSQL server for one test file. */
export interface PostgresServer {
  /** `postgres://postgres@127.0.0.1:<port>/postgres` (trust auth: no password). */
  url: string;
  port: number;
  /** A fresh, empty database on this server (one per test keeps tests apart); its URL. */
  createDatabase(): Promise<string>;
  /** Fast shutdown, keeping the data directory (a later `start()` brings the same server back on the same port). */
  pause(): Promise<void>;
  /** Starts the server again after `pause()`. */
  start(): Promise<void>;
  /** Fast shutdown; removes the data directory. */
  stop(): Promise<void>;
}

const ROOT = '/usr/lib/postgresql';
const UNPRIVILEGED = 'postgres';

/** The bin directory of the highest PostgreSQL version installed (Debian layout). */
function findBinaries(): string {
  const versions = existsSync(ROOT) ? readdirSync(ROOT).filter((v) => /^\d+(\.\d+)?$/.test(v) && existsSync(path.join(ROOT, v, 'bin', 'postgres'))) : [];
  versions.sort((a, b) => Number(b) - Number(a));
  if (!versions[0]) throw new Error(`No PostgreSQL server binaries under ${ROOT}/<version>/bin. Fix: install Debian's postgresql package (apt-get install postgresql).`);
  return path.join(ROOT, versions[0], 'bin');
}

/** The uid and gid of the unprivileged user the server runs as when the tests run as root. */
function serverUser(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const id = (flag: string) => Number(spawnSync('id', [flag, UNPRIVILEGED], { encoding: 'utf8' }).stdout.trim() || NaN);
  const user = { uid: id('-u'), gid: id('-g') };
  if (!Number.isInteger(user.uid) || !Number.isInteger(user.gid)) throw new Error(`the tests run as root, and initdb/postgres refuse to: there is no "${UNPRIVILEGED}" user to run them as`);
  return user;
}

/**
 * initdb and postgres refuse to run as root: then they run as the unprivileged user, through setpriv (which execs, so
 * the child is the server itself and a signal sent to it reaches the server).
 */
function asServerUser(user: { uid: number; gid: number } | undefined, bin: string, args: string[]): [string, string[]] {
  return user ? ['setpriv', [`--reuid=${user.uid}`, `--regid=${user.gid}`, '--clear-groups', '--', bin, ...args]] : [bin, args];
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => (typeof addr === 'object' && addr ? resolve(addr.port) : reject(new Error('no port'))));
    });
  });
}

async function waitReady(url: string, child: ChildProcess, output: () => string, deadlineMs = 30_000): Promise<void> {
  const deadline = Date.now() + deadlineMs;
  let exited = false;
  child.once('exit', () => (exited = true));
  for (;;) {
    if (exited) throw new Error(`postgres exited during start-up:\n${output()}`);
    const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 1000 });
    try {
      await client.connect();
      await client.query('SELECT 1');
      await client.end();
      return;
    } catch (err) {
      await client.end().catch(() => undefined);
      if (Date.now() > deadline) throw new Error(`postgres not ready after ${deadlineMs} ms: ${String(err)}\n${output()}`);
      await new Promise((r) => setTimeout(r, 25)); // a poll interval, not a wait for a guessed duration
    }
  }
}

/** Starts a PostgreSQL server in a fresh temporary directory on a free loopback port; waits until it accepts connections. */
export async function startPostgresServer(): Promise<PostgresServer> {
  const bin = findBinaries();
  const dir = mkdtempSync(path.join(tmpdir(), 'pg-test-'));
  const dataDir = path.join(dir, 'data');
  const user = serverUser();
  if (user) {
    chownSync(dir, user.uid, user.gid);
    chmodSync(dir, 0o700);
  }
  const [initCmd, initArgs] = asServerUser(user, path.join(bin, 'initdb'), ['-D', dataDir, '-U', 'postgres', '-A', 'trust', '--no-sync', '-E', 'UTF8', '--locale=C']);
  const init = spawnSync(initCmd, initArgs, { encoding: 'utf8' });
  if (init.status !== 0) {
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`initdb failed (${init.status}): ${init.stderr || init.stdout || String(init.error)}`);
  }
  let port = 0;
  const urlOf = (db: string) => `postgres://postgres@127.0.0.1:${port}/${db}`;
  let child: ChildProcess | undefined;
  let log = '';
  // A test run that dies without stop() still shuts its server down (fast shutdown; the signal is sent synchronously).
  const onExit = () => child?.kill('SIGINT');
  process.once('exit', onExit);

  const start = async () => {
    const args = ['-D', dataDir, '-p', String(port), '-k', dir, '-c', 'listen_addresses=127.0.0.1', '-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off', '-c', 'max_connections=200'];
    const [cmd, cmdArgs] = asServerUser(user, path.join(bin, 'postgres'), args);
    const proc = spawn(cmd, cmdArgs, { stdio: ['ignore', 'pipe', 'pipe'] });
    child = proc;
    log = '';
    const keep = (b: Buffer) => (log = (log + b.toString()).slice(-8000));
    proc.stdout?.on('data', keep);
    proc.stderr?.on('data', keep);
    await waitReady(urlOf('postgres'), proc, () => log);
  };

  const shutdown = async () => {
    const proc = child;
    child = undefined;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
    // SIGINT is PostgreSQL's fast shutdown.
    proc.kill('SIGINT');
    await exited;
  };

  let n = 0;
  // The free port is closed again before postgres binds it: another process may take it first, then try another.
  for (let attempt = 1; ; attempt++) {
    port = await freePort();
    try {
      await start();
      break;
    } catch (err) {
      await shutdown();
      if (attempt < 3 && /could not bind|already in use/i.test(log)) continue;
      process.removeListener('exit', onExit);
      rmSync(dir, { recursive: true, force: true });
      throw err;
    }
  }
  const url = urlOf('postgres');
  return {
    url,
    port,
    async createDatabase() {
      const name = `t${process.pid}_${++n}_${Math.random().toString(36).slice(2, 8)}`;
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      try {
        await client.query(`CREATE DATABASE ${name}`);
      } finally {
        await client.end();
      }
      return urlOf(name);
    },
    pause: shutdown,
    start,
    async stop() {
      await shutdown();
      process.removeListener('exit', onExit);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
