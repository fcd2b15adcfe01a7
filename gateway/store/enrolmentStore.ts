/**
 * One-time enrolment codes (the portal's enrolment, docs/portal.md). Contract, for every engine: a code is kept only
 * as its SHA-256; `redeem` marks a code used and returns it in one atomic step, so two redemptions racing for the
 * same code cannot both succeed; an expired or used code is never returned. Promise-returning, like the storage
 * contract the engines are moving to.
 */
export interface EnrolmentCodeRecord {
  readonly codeId: string;
  /** base64url SHA-256 of the code as the operator handed it out. */
  readonly codeSha256: string;
  readonly uscc: string;
  /** The enterprise's name, written into its certificate. */
  readonly name: string;
  /** "operator" (the CLI) or the operator participant's id. */
  readonly issuedBy: string;
  readonly issuedAt: string;
  readonly expiresAt: string;
  readonly usedAt: string | undefined;
  readonly usedBy: string | undefined;
}

export interface EnrolmentStore {
  addEnrolmentCode(code: Omit<EnrolmentCodeRecord, 'usedAt' | 'usedBy'>): Promise<void>;
  /** Marks the unexpired, unused code with this hash as used at `at`; undefined when there is none. */
  redeemEnrolmentCode(codeSha256: string, at: string): Promise<EnrolmentCodeRecord | undefined>;
  /** Names the participant a redeemed code enrolled. */
  recordEnrolment(codeId: string, participantId: string): Promise<void>;
  listEnrolmentCodes(): Promise<EnrolmentCodeRecord[]>;
}
