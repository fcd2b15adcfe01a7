export { createAuditLog } from './log.js';
export type { AppendedEntry, AuditLog } from './log.js';
export { createCheckpointer } from './checkpointer.js';
export type { Checkpointer } from './checkpointer.js';
export { AUDIT_KINDS, entryBytes, ENTRY_VERSION } from './events.js';
export type { AuditEvent, AuditKind, JsonValue } from './events.js';
export { createWitnessSubmitter, submitCheckpoint, WitnessError, WITNESS_TIMEOUT_MS } from './witness.js';
export type {
  AddCheckpointRequest, AddCheckpointResult, SubmitOptions, WitnessFailure, WitnessLogger, WitnessSubmitter, WitnessSubmitterOptions,
} from './witness.js';
export { checkLogAtStart, readCheckpointFile } from './anchor.js';
export type { AnchorFiles, SignedCheckpoint } from './anchor.js';
