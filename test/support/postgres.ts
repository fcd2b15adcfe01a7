/**
 * A throwaway PostgreSQL server for tests: one per mocha process, started on first use in a temporary directory,
 * listening on 127.0.0.1 only (and a Unix socket in that directory), stopped after the root suite or at exit. Each
 * suite takes a fresh database of its own from it. When no server can be started (no binaries, initdb refuses), the
 * caller is told why once and skips.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';

export interface PostgresServer {
  /** postgres://gateway@127.0.0.1:<port>/<database> (trust authentication: no password). */
  url(database?: string): string;
  /** Creates an empty database gw_<random> and returns its URL. */
  createDatabase(): Promise<string>;
  stop(): Promise<void>;
  readonly dataDir: string;
  readonly binDir: string;
}

const USER = 'gateway';
const BINARIES = ['initdb', 'pg_ctl', 'postgres'];

function hasBinaries(dir: string): boolean {
  return BINARIES.every((binary) => fs.existsSync(path.join(dir, binary)));
}

/** pg_config --bindir, then the Debian layout (newest version first), then PATH. */
function findBinDir(): string | undefined {
  try {
    const dir = execFileSync('pg_config', ['--bindir'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    if (dir && hasBinaries(dir)) return dir;
  } catch {
    // No pg_config: look further.
  }
  const debian = '/usr/lib/postgresql';
  if (fs.existsSync(debian)) {
    const versions = fs.readdirSync(debian).filter((name) => /^\d+$/.test(name)).sort((a, b) => Number(b) - Number(a));
    for (const version of versions) {
      const dir = path.join(debian, version, 'bin');
      if (hasBinaries(dir)) return dir;
    }
  }
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    if (dir && hasBinaries(dir)) return dir;
  }
  return undefined;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

/** initdb refuses to run as root: as root, the server's programs run as the `postgres` user. */
const asRoot = typeof process.getuid === 'function' && process.getuid() === 0;

function run(binDir: string, program: string, args: readonly string[]): { ok: boolean; output: string } {
  const command = asRoot ? 'runuser' : path.join(binDir, program);
  const argv = asRoot ? ['-u', 'postgres', '--', path.join(binDir, program), ...args] : [...args];
  const result = spawnSync(command, argv, { encoding: 'utf8', timeout: 120_000 });
  return { ok: result.status === 0, output: `${result.stdout ?? ''}${result.stderr ?? ''}${result.error ? String(result.error) : ''}`.trim() };
}

/**
 * A server of its own: the tests' shared one runs with fsync off (its data need not survive a crash of the machine,
 * and every commit is much cheaper); the benchmarks start theirs durable, as a deployment runs.
 */
export async function startPostgresServer(options: { readonly durable: boolean }): Promise<PostgresServer | string> {
  const binDir = findBinDir();
  if (!binDir) return 'no PostgreSQL binaries (initdb, pg_ctl, postgres) found via pg_config, /usr/lib/postgresql/*/bin or PATH';
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'gateway-pg-'));
  const dataDir = path.join(root, 'data');
  if (asRoot) {
    const chown = spawnSync('chown', ['postgres:', root]);
    if (chown.status !== 0) return `cannot hand ${root} to the postgres user (running as root, and initdb refuses to)`;
  }
  const init = run(binDir, 'initdb', ['-D', dataDir, '-A', 'trust', '-U', USER, '--no-sync', '-E', 'UTF8', '--locale=C']);
  if (!init.ok) {
    fs.rmSync(root, { recursive: true, force: true });
    return `initdb failed: ${init.output.split('\n').slice(-3).join(' ')}`;
  }
  const port = await freePort();
  const serverOptions = `-k ${root} -h 127.0.0.1 -p ${port}${options.durable ? '' : ' -F'} -c max_connections=200`;
  const started = run(binDir, 'pg_ctl', ['-D', dataDir, '-l', path.join(root, 'server.log'), '-w', '-t', '60', '-o', serverOptions, 'start']);
  if (!started.ok) {
    fs.rmSync(root, { recursive: true, force: true });
    return `pg_ctl start failed: ${started.output.split('\n').slice(-3).join(' ')}`;
  }
  let stopped = false;
  const stopNow = () => {
    if (stopped) return;
    stopped = true;
    run(binDir, 'pg_ctl', ['-D', dataDir, '-m', 'immediate', '-w', 'stop']);
    fs.rmSync(root, { recursive: true, force: true });
  };
  process.once('exit', stopNow);
  const url = (database = 'postgres') => `postgres://${USER}@127.0.0.1:${port}/${database}`;
  return {
    url,
    dataDir,
    binDir,
    async createDatabase() {
      const name = `gw_${randomBytes(6).toString('hex')}`;
      const client = new pg.Client({ connectionString: url() });
      await client.connect();
      try {
        await client.query(`CREATE DATABASE ${name}`);
      } finally {
        await client.end();
      }
      return url(name);
    },
    async stop() {
      stopNow();
    },
  };
}

let shared: Promise<PostgresServer | string> | undefined;
let toldWhy = false;

/** The process's test server, started on first call; undefined (after saying why, once) when none can be started. */
export async function startPostgres(): Promise<PostgresServer | undefined> {
  shared ??= startPostgresServer({ durable: false }).catch((error: unknown) => `the test server did not start: ${error instanceof Error ? error.message : String(error)}`);
  const server = await shared;
  if (typeof server !== 'string') return server;
  // CI sets it: there the PostgreSQL tests must run, so a server that cannot start is a failure, not a skip.
  if (process.env['GATEWAY_TEST_REQUIRE_POSTGRES'] === '1') throw new Error(`GATEWAY_TEST_REQUIRE_POSTGRES=1, but ${server}`);
  if (!toldWhy) {
    toldWhy = true;
    console.log(`      (skipping PostgreSQL tests: ${server})`);
  }
  return undefined;
}

// A root hook: mocha runs it after every suite of the process; the exit handler covers a run that never gets there.
if (typeof after === 'function') {
  after(async () => {
    const server = await shared;
    if (server && typeof server !== 'string') await server.stop();
  });
}
