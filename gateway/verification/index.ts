export { createVerificationService } from './verifications.js';
export type {
  AnsweredQuestion, ItemOutcome, RefusalCode, VerificationLimits, VerificationRequest, VerificationResult, VerificationService,
} from './verifications.js';
