export { auditUnloggedBatches, createIngestor, todayInShanghai, MAX_REPORTED_ROW_ERRORS } from './ingest.js';
export type { Ingestor, IngestRequest, IngestReceipt, IngestorDependencies } from './ingest.js';
export { inputFormats } from './types.js';
export type { InputFormat } from './types.js';
