export { createObjectionService } from './objections.js';
export type {
  Correction, EvidenceDocument, EvidenceView, ObjectionDependencies, ObjectionPage, ObjectionRequest, ObjectionService, ObjectionTarget, ObjectionView,
  ResolutionRequest,
} from './objections.js';
