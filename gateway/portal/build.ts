/**
 * Bundles the portal (gateway/portal/web) into dist/portal with esbuild: `npm run build` runs it after tsc has
 * type-checked the web sources, so a clean clone's `npm install && npm start` serves a built portal. Everything the
 * page loads is in dist/portal (no CDN). It records the SHA-256 of every source it read, which setup/built.ts
 * compares to tell whether the bundle is current.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { packageRoot } from '../paths.js';

export const PORTAL_SOURCES = path.join(packageRoot, 'gateway', 'portal', 'web');
export const PORTAL_OUTPUT = path.join(packageRoot, 'dist', 'portal');
export const PORTAL_BUILD_INFO = 'build-info.json';
const STATIC_FILES = ['index.html', 'app.css'];

/** Sources by path relative to the package root, with their SHA-256. */
export function sourceHashes(inputs: readonly string[]): Record<string, string> {
  const hashes: Record<string, string> = {};
  for (const input of [...inputs].sort()) {
    hashes[input] = createHash('sha256').update(fs.readFileSync(path.join(packageRoot, input))).digest('hex');
  }
  return hashes;
}

export async function buildPortal(): Promise<void> {
  fs.rmSync(PORTAL_OUTPUT, { recursive: true, force: true });
  fs.mkdirSync(PORTAL_OUTPUT, { recursive: true });
  const result = await build({
    absWorkingDir: packageRoot,
    entryPoints: [path.join(PORTAL_SOURCES, 'app.tsx')],
    outdir: PORTAL_OUTPUT,
    bundle: true,
    // node-forge (PKCS#12) is a dynamic import, split into its own chunk: loaded only when a key file is read or a
    // backup written. The page's CSP allows it, being a script of the gateway's own.
    splitting: true,
    entryNames: '[name]',
    chunkNames: 'chunk-[hash]',
    format: 'esm',
    platform: 'browser',
    target: ['chrome120', 'firefox121', 'safari17'],
    jsx: 'automatic',
    jsxImportSource: 'preact',
    minify: true,
    sourcemap: true,
    metafile: true,
    legalComments: 'linked',
    logLevel: 'warning',
  });
  for (const file of STATIC_FILES) fs.copyFileSync(path.join(PORTAL_SOURCES, file), path.join(PORTAL_OUTPUT, file));
  // Packages are not sources (node_modules may be a link, so their paths may start with ../), nor the modules a
  // package's "browser" field turns off (named "(disabled):crypto").
  const inputs = Object.keys(result.metafile.inputs).filter((input) => !/(^|\/)node_modules\//.test(input) && !input.startsWith('(disabled):'));
  inputs.push(...STATIC_FILES.map((file) => path.relative(packageRoot, path.join(PORTAL_SOURCES, file))));
  fs.writeFileSync(path.join(PORTAL_OUTPUT, PORTAL_BUILD_INFO), `${JSON.stringify({ sources: sourceHashes(inputs) }, null, 1)}\n`);
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  await buildPortal();
}
