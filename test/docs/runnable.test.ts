// Runs every command block of README.md and docs/*.md marked runnable (```sh runnable), so that the docs cannot drift
// from the code. One gateway (`gateway serve`, as `npm start` runs it) on a fresh home serves them all; README's
// blocks run first, since the docs describe a gateway after its "try it", then each document's in turn, each document
// in one bash shell whose working directory is the gateway's home, as the project directory is a reader's. Every command must exit 0, or the status its comment names ("# exit 1");
// no output may look like a crash (internal_error, a stack trace).
//
// What differs from a reader's terminal, and nothing else: `npx gateway` runs the compiled CLI directly (npx's own
// start-up would cost a second per command), and the gateway's address http://127.0.0.1:8080 is the test server's.
import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { packageRoot } from '../../gateway/paths.js';
import { CLI } from '../support/cli.js';

const DOCUMENTED_URL = 'http://127.0.0.1:8080';
const FENCE = /^```sh runnable\s*$/;
/** A Node stack frame, as in "    at Server.setupListenHandle [as _listen2] (node:net:1908:16)". */
const STACK_FRAME = /^\s+at .+[(:]\d+:\d+\)?$/m;

interface Block {
  readonly file: string;
  /** 1-based line of the block's first command. */
  readonly line: number;
  readonly text: string;
}

/** The runnable blocks of a Markdown file, in order. */
export function runnableBlocks(file: string): Block[] {
  const lines = fs.readFileSync(file, 'utf8').split('\n');
  const blocks: Block[] = [];
  for (let i = 0; i < lines.length; i++) {
    if (!FENCE.test(lines[i] as string)) continue;
    const end = lines.findIndex((line, j) => j > i && line.startsWith('```'));
    if (end < 0) throw new Error(`${file}:${i + 1}: a runnable block that never ends`);
    blocks.push({ file, line: i + 2, text: lines.slice(i + 1, end).join('\n') });
    i = end;
  }
  return blocks;
}

/** The exit status a command's trailing comment names ("# exit 1: role_not_allowed"), else 0. */
export function expectedStatus(command: string): number {
  const comment = /\s#\s(.*)$/.exec(command)?.[1] ?? '';
  return Number(/\bexit (\d+)\b/.exec(comment)?.[1] ?? 0);
}

const quote = (text: string) => `'${text.replaceAll("'", "'\\''")}'`;

/**
 * The block as a script that checks each command's exit status after it: commands are the block's lines, a line
 * ending in a backslash continued by the next; comment lines and blank lines are kept as they are.
 */
export function checkedScript(block: Block): string {
  const out: string[] = [];
  const lines = block.text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const first = i;
    let command = lines[i] as string;
    while (command.endsWith('\\') && i + 1 < lines.length) command = `${command}\n${lines[++i] as string}`;
    out.push(command.replaceAll(DOCUMENTED_URL, '$GATEWAY_URL'));
    if (command.trim() === '' || command.trim().startsWith('#')) continue;
    out.push(`__check $? ${expectedStatus(command)} ${quote(`${path.relative(packageRoot, block.file)}:${block.line + first}: ${(lines[first] as string).trim()}`)}`);
  }
  return out.join('\n');
}

const PRELUDE = `
npx() { if [ "$1" = gateway ]; then shift; node "$GATEWAY_CLI" "$@"; else command npx "$@"; fi; }
__check() { if [ "$1" != "$2" ]; then echo "DOC CHECK FAILED: exit $1, the doc says $2: $3" >&2; fi; }
`;

function documents(): string[] {
  const docs = fs.readdirSync(path.join(packageRoot, 'docs')).filter((name) => name.endsWith('.md')).sort().map((name) => path.join(packageRoot, 'docs', name));
  return [path.join(packageRoot, 'README.md'), ...docs];
}

interface Serving {
  readonly child: ChildProcess;
  readonly url: string;
  stderr(): string;
}

function serve(home: string): Promise<Serving> {
  const child = spawn(process.execPath, [CLI, 'serve'], {
    env: {
      PATH: process.env['PATH'] ?? '', PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'warn', GATEWAY_INGEST_WORKERS: '1',
      GATEWAY_DATA_DIR: path.join(home, 'data'), GATEWAY_KEYS_DIR: path.join(home, 'keys'),
    },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  return new Promise((resolve, reject) => {
    child.stderr?.setEncoding('utf8').on('data', (text: string) => {
      stderr += text;
      const url = /gateway listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(stderr)?.[1];
      if (url) resolve({ child, url, stderr: () => stderr });
    });
    child.once('exit', (code) => reject(new Error(`gateway serve exited (${String(code)}) before listening:\n${stderr}`)));
  });
}

describe('runnable command blocks of README.md and docs/*.md', function () {
  // Each command is a CLI start: generous, for a loaded machine.
  this.timeout(900_000);
  let home: string;
  let scratch: string;
  let serving: Serving;
  const withBlocks = documents().map((file) => ({ file, blocks: runnableBlocks(file) })).filter((doc) => doc.blocks.length > 0);

  before(async function () {
    home = fs.mkdtempSync(path.join(os.tmpdir(), 'gateway-docs-home-'));
    scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'gateway-docs-run-'));
    serving = await serve(home);
  });

  after(async function () {
    if (serving) {
      const exited = new Promise((resolve) => serving.child.once('exit', resolve));
      serving.child.kill('SIGTERM');
      await exited;
    }
    for (const dir of [home, scratch]) if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('are found in README.md and in the docs the issue names', function () {
    expect(withBlocks.map((doc) => path.relative(packageRoot, doc.file))).to.include.members(['README.md', 'docs/audit.md', 'docs/consent.md', 'docs/monitoring.md']);
  });

  for (const { file, blocks } of withBlocks) {
    it(`run as written in ${path.relative(packageRoot, file)}`, function () {
      const run = spawnSync('bash', ['-c', `${PRELUDE}\n${blocks.map(checkedScript).join('\n')}\n`], {
        cwd: home,
        env: {
          PATH: process.env['PATH'] ?? '', HOME: scratch, LOG_LEVEL: 'silent', GATEWAY_INGEST_WORKERS: '1',
          GATEWAY_DATA_DIR: path.join(home, 'data'), GATEWAY_KEYS_DIR: path.join(home, 'keys'), GATEWAY_URL: serving.url, GATEWAY_CLI: CLI,
        },
        encoding: 'utf8',
        timeout: 850_000,
        maxBuffer: 64 * 1024 * 1024,
      });
      const output = `stdout:\n${run.stdout}\nstderr:\n${run.stderr}`;
      expect(run.error, output).to.equal(undefined);
      expect(run.stderr.split('\n').filter((line) => line.startsWith('DOC CHECK FAILED')), output).to.deep.equal([]);
      expect(run.stdout + run.stderr, output).not.to.include('internal_error');
      expect(run.stdout + run.stderr, output).not.to.match(STACK_FRAME);
      // What the commands write goes to temporary directories, not into the project directory.
      expect(fs.readdirSync(home).sort(), output).to.deep.equal(['data', 'keys']);
    });
  }
});

describe('the runnable-block checker', function () {
  it('reads the status a comment names, 0 otherwise', function () {
    expect(expectedStatus('npx gateway x --as dev-bank   # exit 1: role_not_allowed')).to.equal(1);
    expect(expectedStatus('npx gateway ingest bad.csv --json     # local ingestion: exit 1, row, field and reason')).to.equal(1);
    expect(expectedStatus('npx gateway participants list   # dev-source, dev-bank')).to.equal(0);
    expect(expectedStatus("printf 'exit 1\\n' > file")).to.equal(0);
  });

  it('checks each command, continuation lines included, and points at its line', function () {
    const script = checkedScript({ file: path.join(packageRoot, 'README.md'), line: 10, text: `# a comment\nA=$(x \\\n  y)\ncurl ${DOCUMENTED_URL}/healthz  # exit 7` });
    expect(script).to.equal([
      '# a comment',
      'A=$(x \\\n  y)',
      "__check $? 0 'README.md:11: A=$(x \\'",
      'curl $GATEWAY_URL/healthz  # exit 7',
      "__check $? 7 'README.md:13: curl http://127.0.0.1:8080/healthz  # exit 7'",
    ].join('\n'));
  });

  it('catches a command that does not do what its doc says', function () {
    const failing = checkedScript({ file: path.join(packageRoot, 'README.md'), line: 1, text: 'false\ntrue   # exit 1' });
    const run = spawnSync('bash', ['-c', `${PRELUDE}\n${failing}`], { encoding: 'utf8' });
    expect(run.stderr.trim().split('\n')).to.deep.equal([
      'DOC CHECK FAILED: exit 1, the doc says 0: README.md:1: false',
      'DOC CHECK FAILED: exit 0, the doc says 1: README.md:2: true   # exit 1',
    ]);
  });
});
