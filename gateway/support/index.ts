export { eligibilityOf } from './eligibility.js';
export type { Eligibility } from './eligibility.js';
export { loadSupportPolicies } from './policies.js';
export type { SupportCondition, SupportPolicies, SupportPolicy } from './policies.js';
export { createSupportService, suppress } from './support.js';
export type { EligibilityResult, SupportService, SuppressedCounts } from './support.js';
