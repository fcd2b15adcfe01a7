export { createRecordReader, openValues } from './recordReader.js';
export type { OpenedRecord, RecordReader } from './recordReader.js';
