/**
 * Makes sure better-sqlite3's native addon is built. npm 11 blocks dependency install scripts unless package.json
 * allows them (it does, under allowScripts), and an install with --ignore-scripts skips them anyway: then the addon
 * is missing and every command would fail. Run by `npm run build` (in prepare, and by npm start / npm test when they
 * compile): if the addon does not load, rebuild it from source once, then check again.
 */
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

function addonLoads(): boolean {
  try {
    const Database = require('better-sqlite3') as new (file: string) => { close(): void };
    new Database(':memory:').close();
    return true;
  } catch {
    return false;
  }
}

if (!addonLoads()) {
  process.stderr.write('better-sqlite3 native addon missing: building it from source (about 2 minutes, once)...\n');
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  const rebuilt = spawnSync(npm, ['rebuild', 'better-sqlite3', '--foreground-scripts'], { stdio: ['ignore', 'inherit', 'inherit'] });
  if (rebuilt.status !== 0 || !addonLoads()) {
    process.stderr.write('could not build better-sqlite3: it needs python3, make and a C++ compiler (node-gyp)\n');
    process.exit(1);
  }
}
