/**
 * Whether dist/ is current: every .ts file of gateway/ and test/ compiled as it is now. `npm start` and `npm test`
 * run this first and compile only when it exits 1 (`npm install` has just compiled, in prepare), since a compilation
 * that changes nothing still costs seconds. It reads what the last compilation recorded in dist/.tsbuildinfo: the
 * SHA-256 of each source's text, as tsc's incremental mode does, so a file touched but unchanged is not stale. A
 * change to tsconfig.json alone is not seen: after one, run `npm run build`.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The folders tsconfig.json compiles, and the one it leaves to the portal's own build (gateway/portal/build.ts). */
const SOURCE_DIRS = ['gateway', 'test'] as const;
const PORTAL_WEB = path.join('gateway', 'portal', 'web');

/** The parts of tsc's build info read here (TypeScript 5.x). */
interface BuildInfo {
  readonly fileNames?: readonly string[];
  readonly fileInfos?: readonly (string | { readonly version?: string })[];
  readonly errors?: boolean;
  readonly affectedFilesPendingEmit?: readonly unknown[];
}

function* typeScriptFiles(directory: string): Generator<string> {
  for (const entry of fs.readdirSync(directory, { withFileTypes: true })) {
    const file = path.join(directory, entry.name);
    if (entry.isDirectory()) {
      if (!file.endsWith(PORTAL_WEB)) yield* typeScriptFiles(file);
    }
    else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts')) yield file;
  }
}

function readBuildInfo(file: string): BuildInfo | undefined {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8')) as BuildInfo;
  } catch {
    return undefined;
  }
}

/** Why dist/ under `root` is not current (the first stale source, or the build info's state), or undefined if it is. */
export function staleness(root: string): string | undefined {
  const dist = path.join(root, 'dist');
  const info = readBuildInfo(path.join(dist, '.tsbuildinfo'));
  if (!info?.fileNames || !info.fileInfos) return 'there is no complete earlier build';
  if (info.errors === true || (info.affectedFilesPendingEmit?.length ?? 0) > 0) return 'the last build did not finish cleanly';
  const versions = new Map<string, string | undefined>();
  info.fileNames.forEach((name, i) => {
    const fileInfo = info.fileInfos?.[i];
    versions.set(path.resolve(dist, name), typeof fileInfo === 'string' ? fileInfo : fileInfo?.version);
  });
  for (const directory of SOURCE_DIRS) {
    for (const source of typeScriptFiles(path.join(root, directory))) {
      const relative = path.relative(root, source);
      const hash = createHash('sha256').update(fs.readFileSync(source, 'utf8')).digest('hex');
      if (versions.get(source) !== hash) return `${relative} changed since the last build`;
      if (!fs.existsSync(path.join(dist, relative.replace(/\.ts$/, '.js')))) return `${relative} has no compiled output`;
    }
  }
  return portalStaleness(root);
}

/** Whether dist/portal was bundled from the sources as they are now (the hashes its build recorded). */
function portalStaleness(root: string): string | undefined {
  let recorded: Record<string, string>;
  try {
    recorded = (JSON.parse(fs.readFileSync(path.join(root, 'dist', 'portal', 'build-info.json'), 'utf8')) as { sources: Record<string, string> }).sources;
  } catch {
    return 'the portal was not built';
  }
  const web = path.join(root, PORTAL_WEB);
  const current = fs.readdirSync(web).filter((name) => /\.(tsx?|css|html)$/.test(name) && name !== 'tsconfig.json').map((name) => path.join(PORTAL_WEB, name));
  for (const source of new Set([...Object.keys(recorded), ...current])) {
    const file = path.join(root, source);
    const hash = fs.existsSync(file) ? createHash('sha256').update(fs.readFileSync(file)).digest('hex') : undefined;
    if (hash !== recorded[source]) return `${source} changed since the portal was built`;
  }
  return undefined;
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  const stale = staleness(fileURLToPath(new URL('../../../', import.meta.url)));
  if (stale !== undefined) {
    process.stdout.write(`${stale}: compiling\n`);
    process.exit(1);
  }
}
