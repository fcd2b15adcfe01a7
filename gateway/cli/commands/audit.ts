/**
 * `gateway audit verify`: recomputes the audit log from its entries and checks it against its stored hashes, its
 * signed checkpoints and optionally a checkpoint the auditor saved earlier. `gateway audit verify-proof`: checks one
 * inclusion or consistency proof file offline, as received from the audit endpoints.
 *
 * Both are for auditors, so neither needs the gateway's secrets: `verify` reads audit.sqlite without opening the
 * runtime (which would create keys), and takes the public verifier key on the command line when the keys directory
 * is not at hand. Exit codes: 0 all good, 1 something is wrong (or the check could not run), and for verify-proof
 * 2 when the file is not a proof file at all.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { parseProofFile } from '../../audit/proofFile.js';
import type { ProofFile, ProofType } from '../../audit/proofFile.js';
import { ProofError, verifyConsistency, verifyInclusion } from '../../audit/verify.js';
import { verifyLog } from '../../audit/verifyLog.js';
import type { LogProblem, LogVerification } from '../../audit/verifyLog.js';
import { parseVerifierKey } from '../../crypto/note.js';
import { GatewayError } from '../../errors/index.js';
import { loadNoteKey } from '../../keys/index.js';
import { AUDIT_DATABASE_FILE } from '../../runtime/files.js';
import { openSqliteAuditStore } from '../../store/index.js';
import { guarded, report, reportFailure } from '../output.js';
import type { CommandContext } from '../context.js';

/** verify-proof's exit code for a file that is not a proof file (bad JSON, a missing member, a bad hash). */
const EXIT_MALFORMED = 2;

interface VerifyOptions {
  checkpoint?: string;
  verifierKey?: string;
  origin?: string;
  json: boolean;
}

interface VerifyProofOptions {
  inclusion: boolean;
  consistency: boolean;
  json: boolean;
}

export function registerAudit(audit: Command, context: CommandContext): void {
  audit
    .command('verify')
    .description('recompute the audit log\'s Merkle tree from its entries and check it against the stored hashes and every signed checkpoint')
    .option('--checkpoint <file>', 'a signed checkpoint saved earlier (GET /v1/audit/checkpoint) that the log must still contain')
    .option('--verifier-key <key>', 'the log\'s note verifier key (GET /v1/audit/note-key); default: from the keys directory')
    .option('--origin <origin>', 'the log\'s origin; default: the verifier key\'s name with --verifier-key, else GATEWAY_AUDIT_ORIGIN')
    .option('--json', 'print the report as JSON', false)
    .action(guarded((options: VerifyOptions) => {
      const config = context.config();
      const file = path.join(config.dataDir, AUDIT_DATABASE_FILE);
      // Checked first: opening the store would create an empty log, which verifies.
      if (!fs.existsSync(file)) throw new GatewayError('not_found', `there is no audit log at ${file}`);
      const verifierKey = options.verifierKey ?? loadNoteKey(config.keysDir, config.auditOrigin).verifierKey;
      const origin = options.origin ?? (options.verifierKey === undefined ? config.auditOrigin : keyName(options.verifierKey));
      const savedCheckpoint = options.checkpoint === undefined ? undefined : readFile(options.checkpoint, 'checkpoint');
      const store = openSqliteAuditStore({ file });
      let verification: LogVerification;
      try {
        verification = verifyLog(store, { verifierKey, origin, savedCheckpoint });
      } finally {
        store.close();
      }
      report(options, verificationJson(verification), () => describeVerification(verification));
      if (!verification.ok) process.exitCode = 1;
    }));

  audit
    .command('verify-proof')
    .description('check an inclusion or consistency proof file (the JSON of GET /v1/audit/proofs/...) offline; exit 0 valid, 1 invalid, 2 malformed')
    .argument('<file>', 'the proof file')
    .option('--inclusion', 'the file is an inclusion proof: leaf_index, tree_size, leaf_hash, proof, root_hash', false)
    .option('--consistency', 'the file is a consistency proof: first_size, second_size, first_root, second_root, proof', false)
    .option('--json', 'print the result as JSON', false)
    .action(guarded((file: string, options: VerifyProofOptions) => {
      let proof: ProofFile;
      try {
        if (options.inclusion === options.consistency) throw new GatewayError('invalid_argument', 'pass exactly one of --inclusion and --consistency');
        const type: ProofType = options.inclusion ? 'inclusion' : 'consistency';
        proof = parseProofFile(type, readFile(file, 'proof'));
      } catch (error) {
        reportFailure(options, error);
        process.exitCode = EXIT_MALFORMED;
        return;
      }
      try {
        checkProof(proof);
      } catch (error) {
        if (!(error instanceof ProofError)) throw error;
        report(options, { valid: false, type: proof.type, reason: error.reason, message: error.message }, () =>
          `${proof.type} proof INVALID (${error.reason}): ${error.message}`);
        process.exitCode = 1;
        return;
      }
      report(options, { valid: true, type: proof.type }, () => describeValidProof(proof));
    }));
}

function checkProof(proof: ProofFile): void {
  if (proof.type === 'inclusion') verifyInclusion(proof.leafIndex, proof.treeSize, proof.leafHash, proof.proof, proof.rootHash);
  else verifyConsistency(proof.firstSize, proof.secondSize, proof.proof, proof.firstRoot, proof.secondRoot);
}

function describeValidProof(proof: ProofFile): string {
  return proof.type === 'inclusion'
    ? `inclusion proof valid: leaf ${proof.leafIndex} is in the tree of size ${proof.treeSize} with root ${proof.rootHash.toString('base64')}`
    : `consistency proof valid: the tree of size ${proof.secondSize} with root ${proof.secondRoot.toString('base64')} extends `
      + `the tree of size ${proof.firstSize} with root ${proof.firstRoot.toString('base64')}`;
}

function keyName(verifierKey: string): string {
  try {
    return parseVerifierKey(verifierKey).name;
  } catch (cause) {
    throw new GatewayError('invalid_argument', `--verifier-key is not a note verifier key: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
  }
}

function readFile(file: string, what: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch (cause) {
    throw new GatewayError('invalid_argument', `cannot read the ${what} file ${file}`, { cause });
  }
}

function verificationJson(verification: LogVerification): Record<string, unknown> {
  return {
    ok: verification.ok,
    tree_size: verification.treeSize,
    checked_entries: verification.checkedEntries,
    checkpoints_checked: verification.checkpointsChecked,
    ...(verification.savedCheckpointChecked === undefined ? {} : { saved_checkpoint_checked: verification.savedCheckpointChecked }),
    root_hash: verification.rootHash?.toString('base64') ?? null,
    first_bad_index: verification.firstBadIndex ?? null,
    problems: verification.problems.map((problem) => ({
      kind: problem.kind,
      ...(problem.index === undefined ? {} : { index: problem.index }),
      ...(problem.treeSize === undefined ? {} : { tree_size: problem.treeSize }),
      detail: problem.detail,
    })),
    omitted_problems: verification.omittedProblems,
  };
}

function describeVerification(verification: LogVerification): string {
  const saved = verification.savedCheckpointChecked === undefined ? ''
    : verification.savedCheckpointChecked ? '; the saved checkpoint was checked' : '; the saved checkpoint could not be checked';
  const summary = `${verification.checkedEntries} entries of ${verification.treeSize} read, ${verification.checkpointsChecked} checkpoints checked${saved}`;
  if (verification.ok) {
    return `audit log OK: ${summary}, root hash ${verification.rootHash?.toString('base64') ?? 'none'}`;
  }
  const first = verification.firstBadIndex === undefined ? 'no entry index named' : `first bad index ${verification.firstBadIndex}`;
  const omitted = verification.omittedProblems > 0 ? [`- … and ${verification.omittedProblems} more problem(s)`] : [];
  return [`audit log FAILED: ${first}`, ...verification.problems.map(describeProblem), ...omitted, summary].join('\n');
}

function describeProblem(problem: LogProblem): string {
  const where = problem.index !== undefined ? ` at index ${problem.index}` : problem.treeSize !== undefined ? ` at tree size ${problem.treeSize}` : '';
  return `- ${problem.kind}${where}: ${problem.detail}`;
}
