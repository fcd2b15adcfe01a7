export { findMisuse } from './detect.js';
export type { LoggedEvent, MisuseFinding } from './detect.js';
export { loadMisusePolicy } from './policy.js';
export type { MisusePolicy, MisuseRule } from './policy.js';
export { createMisuseNotifier } from './notify.js';
export type { MisuseNotifier } from './notify.js';
export { createMisuseScanner } from './scanner.js';
export type { MisuseFlag, MisuseScanner } from './scanner.js';
