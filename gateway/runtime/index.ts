export { openRuntime, initialise, DATABASE_FILE } from './runtime.js';
export type { Runtime, RuntimeHooks } from './runtime.js';
