/** Where the project's data files (schemas, migrations, policies) are, wherever the compiled code runs from. */
import { fileURLToPath } from 'node:url';
import path from 'node:path';

/** The package root: this file is compiled to dist/gateway/paths.js. */
export const packageRoot = fileURLToPath(new URL('../../', import.meta.url));

export const schemasDir = path.join(packageRoot, 'schemas');
export const migrationsDir = path.join(packageRoot, 'gateway', 'store', 'sqlite', 'migrations');
export const auditMigrationsDir = path.join(packageRoot, 'gateway', 'store', 'sqlite', 'audit-migrations');
