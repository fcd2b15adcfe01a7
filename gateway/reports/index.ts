export { claimsOf, createReportService, reportLinks } from './reports.js';
export type { InclusionProofBody, ReportBundle, ReportCheck, ReportClaims, ReportDependencies, ReportRequest, ReportService } from './reports.js';
export { answerStatus, answerText, BAND_LABELS, createReportRenderer, STAGE_NAMES } from './pdf.js';
export type { ReportFont, ReportRenderer } from './pdf.js';
export { parseReportFile, verifyReportFile } from './verifyReport.js';
export type { ReportCheckName, ReportCheckResult, ReportTrust, ReportVerification } from './verifyReport.js';
