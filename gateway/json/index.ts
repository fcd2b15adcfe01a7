export { parseJson, parseJsonObject, repeatedMemberName } from './strictJson.js';
export type { JsonResult } from './strictJson.js';
