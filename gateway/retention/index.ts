export { createRetentionJob, retentionCutoff } from './job.js';
export type { KeyOutcome, PurgeOutcome, RetentionDependencies, RetentionJob, RetentionRun } from './job.js';
export { loadRetentionPolicy } from './policy.js';
export type { RetentionPolicy } from './policy.js';
