/**
 * `gateway audit verify`: recomputes the audit log from its entries and checks it against its stored hashes, its
 * signed checkpoints and optionally a checkpoint the auditor saved earlier. `gateway audit verify-remote`: the same
 * check of a running gateway from the outside, through its audit API, against the auditor's own saved checkpoint.
 * `gateway audit verify-proof`: checks one inclusion or consistency proof file offline, as received from the audit
 * endpoints.
 *
 * `verify` also checks the gateway's checkpoint file (and a witness's copy it is configured with), and any number of
 * saved checkpoints; `verify-proof --consistency --checkpoint FILE` checks that the proof starts from a saved one.
 *
 * They are for auditors, so none needs the gateway's secrets: `verify` reads audit.sqlite without opening the
 * runtime, and takes the public verifier key on the command line when the keys directory is not at hand. A damaged
 * database is a FAILED verification, not a crash. Exit codes: 0 all good, 1 something is wrong (or the check could
 * not run); for verify, 3 when the entries agree with their stored hashes but no signed checkpoint was there to check
 * them against; for verify-proof, 2 when the file is not a proof file at all.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { parseProofFile } from '../../audit/proofFile.js';
import type { ProofFile, ProofType } from '../../audit/proofFile.js';
import { CheckpointError, parseCheckpoint } from '../../audit/checkpoint.js';
import type { Checkpoint } from '../../audit/checkpoint.js';
import type { ConsistencyProofFile } from '../../audit/proofFile.js';
import { ProofError, verifyConsistency, verifyInclusion } from '../../audit/verify.js';
import { verifyLog } from '../../audit/verifyLog.js';
import type { LogProblem, LogVerification, VerifyLogOptions } from '../../audit/verifyLog.js';
import { verifyRemoteLog } from '../../audit/verifyRemote.js';
import type { RemoteAuditLog, RemoteVerification } from '../../audit/verifyRemote.js';
import type { GatewayConfig } from '../../config/index.js';
import type { GatewayClient } from '../../client/client.js';
import { hashesEqual } from '../../crypto/merkleHash.js';
import { NoteError, openNote, parseVerifierKey } from '../../crypto/note.js';
import { GatewayError } from '../../errors/index.js';
import { loadNoteKey } from '../../keys/index.js';
import { AUDIT_DATABASE_FILE } from '../../runtime/files.js';
import { requireExistingStore } from '../../runtime/stores.js';
import { isDatabaseDamage, openPostgresAuditStore, openSqliteAuditStore } from '../../store/index.js';
import type { AuditStore } from '../../store/index.js';
import { guarded, report, reportFailure } from '../output.js';
import type { CommandContext } from '../context.js';
import { actingAs, clientFor } from './client.js';
import type { ParticipantOptions } from './client.js';

/** verify-proof's exit code for a file that is not a proof file (bad JSON, a missing member, a bad hash). */
const EXIT_MALFORMED = 2;

interface VerifyOptions {
  checkpoint: string[];
  verifierKey?: string;
  origin?: string;
  json: boolean;
}

interface VerifyRemoteOptions extends ParticipantOptions {
  checkpoint?: string;
  saveCheckpoint?: string;
  verifierKey?: string;
  origin?: string;
}

/** Entries fetched per request: the API's largest page. */
const ENTRY_PAGE = 1000;

/** The audit API of a running gateway, as the remote check reads it. */
function auditApi(client: GatewayClient): RemoteAuditLog {
  const get = async <T>(path: string) => (await client.send('GET', path)).json<T>();
  const hashes = (encoded: readonly string[]) => encoded.map((hash) => Buffer.from(hash, 'base64'));
  return {
    checkpoint: async () => (await client.send('GET', '/v1/audit/checkpoint')).body.toString('utf8'),
    async entries(start, end) {
      const page = await get<{ entries: { index: number; entry: string }[] }>(`/v1/audit/entries?start=${start}&end=${end}&limit=${ENTRY_PAGE}`);
      return page.entries.map(({ index, entry }) => ({ index, entry: Buffer.from(entry, 'utf8') }));
    },
    consistencyProof: async (first, second) => hashes((await get<{ proof: string[] }>(`/v1/audit/proofs/consistency?first=${first}&second=${second}`)).proof),
    inclusionProof: async (index, treeSize) => hashes((await get<{ proof: string[] }>(`/v1/audit/proofs/inclusion?index=${index}&tree_size=${treeSize}`)).proof),
  };
}

interface VerifyProofOptions {
  inclusion: boolean;
  consistency: boolean;
  checkpoint?: string;
  verifierKey?: string;
  origin?: string;
  json: boolean;
}

/** `audit verify`'s exit code when the log agrees with itself but no signed checkpoint tied it to anything. */
const EXIT_UNANCHORED = 3;

const collect = (value: string, previous: string[]): string[] => [...previous, value];

export function registerAudit(audit: Command, context: CommandContext): void {
  audit
    .command('verify')
    .description('recompute the audit log\'s Merkle tree from its entries and check it against the stored hashes, every signed checkpoint, '
      + 'the gateway\'s checkpoint file and any checkpoint saved earlier; exit 0 verified, 1 failed, 3 no signed checkpoint to check against')
    .option('--checkpoint <file>', 'a signed checkpoint saved earlier (GET /v1/audit/checkpoint, or a witness\'s copy) that the log must still contain; repeatable', collect, [])
    .option('--verifier-key <key>', 'the log\'s note verifier key (GET /v1/audit/note-key); default: from the keys directory')
    .option('--origin <origin>', 'the log\'s origin; default: the verifier key\'s name with --verifier-key, else GATEWAY_AUDIT_ORIGIN')
    .option('--json', 'print the report as JSON', false)
    .action(guarded(async (options: VerifyOptions) => {
      const config = context.config();
      // Checked first: opening the store would create an empty log, which verifies.
      const file = requireExistingStore(config, AUDIT_DATABASE_FILE);
      const { verifierKey, origin } = logKey(context, options);
      // The gateway's own checkpoint file (and the witness's copy it is configured with) anchor the check as well.
      const anchors = [config.checkpointFile, config.witnessCheckpointFile].filter((anchor): anchor is string => anchor !== undefined && fs.existsSync(anchor));
      const savedCheckpoints = [...new Set([...options.checkpoint.map((saved) => path.resolve(saved)), ...anchors])]
        .map((saved) => ({ label: saved, note: readFile(saved, 'checkpoint') }));
      const verification = await verifyStoredLog(config, file, { verifierKey, origin, savedCheckpoints });
      report(options, verificationJson(verification), () => describeVerification(verification));
      if (!verification.ok) process.exitCode = 1;
      else if (!isAnchored(verification)) process.exitCode = EXIT_UNANCHORED;
    }));

  actingAs(audit.command('verify-remote'), 'auditor')
    .description('check a running gateway\'s log through its audit API (no data directory needed): entries, checkpoint and proofs, against a checkpoint you saved')
    .option('--checkpoint <file>', 'the checkpoint you saved last time (GET /v1/audit/checkpoint): the log must still contain it')
    .option('--save-checkpoint <file>', 'when all is well, save the latest checkpoint here, for --checkpoint next time')
    .option('--verifier-key <key>', 'the log\'s note verifier key, as you hold it; default: GET /v1/audit/note-key (then pin it)')
    .option('--origin <origin>', 'the log\'s origin; default: the verifier key\'s name')
    .option('--json', 'print the report as JSON', false)
    .action(guarded(async (options: VerifyRemoteOptions) => {
      const client = clientFor(context, options);
      const savedCheckpoint = options.checkpoint === undefined ? undefined : readFile(options.checkpoint, 'checkpoint');
      const fetchedKey = options.verifierKey === undefined;
      const verifierKey = options.verifierKey ?? (await client.send('GET', '/v1/audit/note-key', { unsigned: true })).body.toString('utf8').trim();
      const verification = await verifyRemoteLog(auditApi(client), { verifierKey, origin: options.origin ?? keyName(verifierKey), savedCheckpoint });
      if (verification.ok && options.saveCheckpoint !== undefined) fs.writeFileSync(options.saveCheckpoint, verification.latestNote);
      report(options, remoteVerificationJson(verification, fetchedKey ? verifierKey : undefined), () =>
        describeRemoteVerification(verification, { fetchedKey: fetchedKey ? verifierKey : undefined, savedTo: verification.ok ? options.saveCheckpoint : undefined }));
      if (!verification.ok) process.exitCode = 1;
    }));

  audit
    .command('verify-proof')
    .description('check an inclusion or consistency proof file (the JSON of GET /v1/audit/proofs/...) offline; exit 0 valid, 1 invalid, 2 malformed')
    .argument('<file>', 'the proof file')
    .option('--inclusion', 'the file is an inclusion proof: leaf_index, tree_size, leaf_hash, proof, root_hash', false)
    .option('--consistency', 'the file is a consistency proof: first_size, second_size, first_root, second_root, proof', false)
    .option('--checkpoint <file>', 'with --consistency: a signed checkpoint saved earlier, whose size and root must be the proof\'s first_size and first_root')
    .option('--verifier-key <key>', 'with --checkpoint: the log\'s note verifier key; default: from the keys directory')
    .option('--origin <origin>', 'with --checkpoint: the log\'s origin; default: the verifier key\'s name with --verifier-key, else GATEWAY_AUDIT_ORIGIN')
    .option('--json', 'print the result as JSON', false)
    .action(guarded((file: string, options: VerifyProofOptions) => {
      let proof: ProofFile;
      let saved: Checkpoint | undefined;
      try {
        if (options.inclusion === options.consistency) throw new GatewayError('invalid_argument', 'pass exactly one of --inclusion and --consistency');
        if (options.checkpoint !== undefined && !options.consistency) throw new GatewayError('invalid_argument', '--checkpoint goes with --consistency');
        const type: ProofType = options.inclusion ? 'inclusion' : 'consistency';
        proof = parseProofFile(type, readFile(file, 'proof'));
      } catch (error) {
        reportFailure(options, error);
        process.exitCode = EXIT_MALFORMED;
        return;
      }
      // A checkpoint that is not the log's signed one is refused (exit 1): it is no evidence about the log.
      if (options.checkpoint !== undefined) saved = openCheckpointFile(options.checkpoint, logKey(context, options));
      try {
        checkProof(proof);
        if (saved !== undefined && proof.type === 'consistency') checkFirstTree(proof, saved);
      } catch (error) {
        if (!(error instanceof ProofError)) throw error;
        report(options, { valid: false, type: proof.type, reason: error.reason, message: error.message }, () =>
          `${proof.type} proof INVALID (${error.reason}): ${error.message}`);
        process.exitCode = 1;
        return;
      }
      report(options, { valid: true, type: proof.type, ...(saved === undefined ? {} : { checkpoint_checked: true }) }, () =>
        describeValidProof(proof) + (saved === undefined ? '' : `; the first tree is the saved checkpoint's (${options.checkpoint})`));
    }));
}

/** The verifier key and origin: given on the command line, or the gateway's own from the keys directory. */
function logKey(context: CommandContext, options: { verifierKey?: string; origin?: string }): { verifierKey: string; origin: string } {
  const config = context.config();
  const verifierKey = options.verifierKey ?? loadNoteKey(config.keysDir, config.auditOrigin).verifierKey;
  const origin = options.origin ?? (options.verifierKey === undefined ? config.auditOrigin : keyName(options.verifierKey));
  return { verifierKey, origin };
}

function openCheckpointFile(file: string, key: { verifierKey: string; origin: string }): Checkpoint {
  let checkpoint: Checkpoint;
  try {
    checkpoint = parseCheckpoint(openNote(Buffer.from(readFile(file, 'checkpoint'), 'utf8'), [parseVerifierKey(key.verifierKey)]).text);
  } catch (cause) {
    if (cause instanceof NoteError || cause instanceof CheckpointError) {
      throw new GatewayError('invalid_argument', `${file} is not a checkpoint signed by the log's key: ${cause.message}`, { cause });
    }
    throw cause;
  }
  if (checkpoint.origin !== key.origin) throw new GatewayError('invalid_argument', `${file} is a checkpoint of "${checkpoint.origin}", not "${key.origin}"`);
  return checkpoint;
}

/** The proof's first tree must be the saved checkpoint's: the same size and root. */
function checkFirstTree(proof: ConsistencyProofFile, saved: Checkpoint): void {
  if (saved.size !== proof.firstSize) {
    throw new ProofError('root_mismatch', `the proof starts from size ${proof.firstSize}, the saved checkpoint is of size ${saved.size}`);
  }
  if (!hashesEqual(saved.rootHash, proof.firstRoot)) {
    throw new ProofError('root_mismatch', `first_root is not the saved checkpoint's root: the log now shows another tree of size ${saved.size} than it signed`);
  }
}

/**
 * verifyLog on the stored file; a database SQLite finds damaged (quick_check, or a read that meets a malformed page)
 * is a FAILED verification that says so, not a crash.
 */
async function verifyStoredLog(config: GatewayConfig, file: string, options: VerifyLogOptions): Promise<LogVerification> {
  let store: AuditStore | undefined;
  try {
    // Not openGatewayAuditStore: a damaged store is reported as a failed verification below, not refused.
    store = config.databaseUrl === undefined ? openSqliteAuditStore({ file }) : await openPostgresAuditStore({ url: config.databaseUrl });
    const damage = await store.integrityProblems();
    if (damage.length > 0) return damagedLog(file, damage.join('; '));
    return await verifyLog(store, options);
  } catch (error) {
    if (isDatabaseDamage(error)) return damagedLog(file, error instanceof Error ? error.message : String(error));
    throw error;
  } finally {
    await store?.close();
  }
}

function damagedLog(file: string, reason: string): LogVerification {
  return {
    ok: false, treeSize: 0, checkedEntries: 0, checkpointsChecked: 0, savedCheckpoints: [], omittedProblems: 0,
    problems: [{ kind: 'database_damaged', detail: `${file} is damaged (${reason}): restore it from a backup; its entries could not be checked` }],
  };
}

/** Whether the recomputed tree was compared with at least one signed root. */
function isAnchored(verification: LogVerification): boolean {
  const empty = verification.ok && verification.treeSize === 0;
  return empty || verification.checkpointsChecked > 0 || verification.savedCheckpoints.some((saved) => saved.checked);
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
    const missing = (cause as { code?: string }).code === 'ENOENT';
    throw new GatewayError(missing ? 'file_not_found' : 'file_unreadable', `cannot read the ${what} file ${file}${missing ? ': no such file' : ''}`, { cause });
  }
}

export function verificationJson(verification: LogVerification): Record<string, unknown> {
  return {
    ok: verification.ok,
    tree_size: verification.treeSize,
    checked_entries: verification.checkedEntries,
    checkpoints_checked: verification.checkpointsChecked,
    saved_checkpoints: verification.savedCheckpoints.map((saved) => ({
      file: saved.label, tree_size: saved.treeSize, root_hash: saved.rootHash.toString('base64'), checked: saved.checked,
    })),
    anchored: isAnchored(verification),
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

export function describeVerification(verification: LogVerification): string {
  if (verification.problems[0]?.kind === 'database_damaged') return `audit log FAILED\n${describeProblem(verification.problems[0])}`;
  const summary = `${verification.checkedEntries} entries of ${verification.treeSize} read, ${verification.checkpointsChecked} stored checkpoints checked`;
  // Each root with the tree size it is for: a saved checkpoint's root is of a smaller tree than the log's now.
  const savedLines = verification.savedCheckpoints.map((saved) => `  ${saved.label} (tree size ${saved.treeSize}): root ${saved.rootHash.toString('base64')}, `
    + (saved.checked ? `which the log's first ${saved.treeSize} entries still hash to` : 'not checked'));
  if (!verification.ok) {
    const first = verification.firstBadIndex === undefined ? 'no entry index named' : `first bad index ${verification.firstBadIndex}`;
    const omitted = verification.omittedProblems > 0 ? [`- … and ${verification.omittedProblems} more problem(s)`] : [];
    return [`audit log FAILED: ${first}`, ...verification.problems.map(describeProblem), ...omitted, summary, ...savedLines].join('\n');
  }
  if (!isAnchored(verification)) {
    return [
      `audit log NOT VERIFIED: ${summary}. The entries agree with their stored hashes, but no signed checkpoint was there to check them against, `
        + 'so a log rewritten together with its hashes would read the same. Pass --checkpoint FILE (saved from GET /v1/audit/checkpoint, or a witness\'s copy)',
      ...savedLines,
    ].join('\n');
  }
  const lines = [
    `audit log OK: ${summary}`,
    `  root of the whole log (tree size ${verification.treeSize}): ${verification.rootHash?.toString('base64') ?? 'none'}`,
    ...savedLines,
  ];
  if (!verification.savedCheckpoints.some((saved) => saved.checked) && verification.treeSize > 0) {
    lines.push('  no saved checkpoint was given: only the log\'s own checkpoints were checked, which someone able to rewrite the log could rewrite too. '
      + 'Pass --checkpoint FILE (saved from GET /v1/audit/checkpoint, or a witness\'s copy) to anchor the check');
  }
  return lines.join('\n');
}

function describeProblem(problem: LogProblem): string {
  const where = problem.index !== undefined ? ` at index ${problem.index}` : problem.treeSize !== undefined ? ` at tree size ${problem.treeSize}` : '';
  return `- ${problem.kind}${where}: ${problem.detail}`;
}

function remoteVerificationJson(verification: RemoteVerification, fetchedKey: string | undefined): Record<string, unknown> {
  const head = (tree: { treeSize: number; rootHash: Buffer } | undefined) => tree && { tree_size: tree.treeSize, root_hash: tree.rootHash.toString('base64') };
  return {
    ok: verification.ok,
    latest_checkpoint: head(verification.latest) ?? null,
    checked_entries: verification.checkedEntries,
    recomputed_root: verification.recomputedRoot?.toString('base64') ?? null,
    saved_checkpoint: verification.saved ? { ...head(verification.saved), contained: verification.saved.contained } : null,
    consistency_proof_checked: verification.consistencyChecked ?? null,
    inclusion_proof_checked: verification.inclusionChecked ?? null,
    ...(fetchedKey === undefined ? {} : { verifier_key_fetched: fetchedKey }),
    problems: verification.problems,
  };
}

function describeRemoteVerification(verification: RemoteVerification, notes: { fetchedKey: string | undefined; savedTo: string | undefined }): string {
  const { latest, saved, consistencyChecked, inclusionChecked } = verification;
  const lines = [
    verification.ok ? `audit log OK: ${verification.checkedEntries} entries read over the audit API` : 'audit log FAILED',
    ...verification.problems.map((problem) => `- ${problem.kind}${problem.index === undefined ? '' : ` at index ${problem.index}`}: ${problem.detail}`),
  ];
  if (latest) lines.push(`  latest checkpoint (tree size ${latest.treeSize}): root ${latest.rootHash.toString('base64')}`);
  if (verification.recomputedRoot) lines.push(`  recomputed from the ${latest?.treeSize ?? 0} entries: root ${verification.recomputedRoot.toString('base64')}`);
  if (saved) {
    lines.push(`  saved checkpoint (tree size ${saved.treeSize}): root ${saved.rootHash.toString('base64')}, `
      + (saved.contained ? `which the first ${saved.treeSize} entries still hash to` : 'which the log no longer contains'));
  }
  if (consistencyChecked) lines.push(`  consistency proof from tree size ${consistencyChecked.first} to ${consistencyChecked.second} checked`);
  if (inclusionChecked !== undefined) lines.push(`  inclusion proof of entry ${inclusionChecked} in the tree of size ${latest?.treeSize ?? 0} checked`);
  if (notes.fetchedKey) lines.push(`  the verifier key is the one the gateway served: compare it with yours, and pass it as --verifier-key ${notes.fetchedKey}`);
  if (notes.savedTo) lines.push(`  latest checkpoint saved to ${notes.savedTo}`);
  return lines.join('\n');
}
