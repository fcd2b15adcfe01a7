export { createVerificationService } from './verifications.js';
export type {
  AnsweredQuestion, ItemOutcome, RefusalCode, VerificationRequest, VerificationResult, VerificationService,
} from './verifications.js';
