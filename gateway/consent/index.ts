export { createConsentService } from './consents.js';
export type { ConsentPage, ConsentQuestions, ConsentService, ConsentState, ConsentView } from './consents.js';
export { parseConsent, PURPOSES, verifyConsentOffline } from './artefact.js';
export type { ConsentClaims } from './artefact.js';
export type { Purpose } from '../policies/definition.js';
export { reconcileConsentUses } from './useReconciliation.js';
