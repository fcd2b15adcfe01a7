export { createRecordReader } from './recordReader.js';
export type { OpenedRecord, RecordReader } from './recordReader.js';
