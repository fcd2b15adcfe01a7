/**
 * `gateway participants`: onboard participants (a certificate from the platform CA, for the key in their CSR or,
 * for development, a key generated here), list them, and suspend, resume or revoke them. Changes take effect on
 * the participant's next request, also in a gateway already running.
 */
import fs from 'node:fs';
import type { Command } from 'commander';
import { GatewayError } from '../../errors/index.js';
// Only these file names statically: `list` and `show` must start fast, and the CA, CSR and key generation code that
// `add` needs (node-forge, jose) is loaded by `add` alone.
import { participantFiles } from '../../identity/participantFiles.js';
import type { StatusChange } from '../../identity/index.js';
import type { ParticipantRecord } from '../../store/index.js';
import { guarded, positiveInteger, report } from '../output.js';
import type { CommandContext } from '../context.js';

interface AddOptions {
  role: string;
  name: string;
  id?: string;
  uscc?: string;
  datasets?: string;
  days: string;
  csr?: string;
  generate: boolean;
  replaces?: string;
  json: boolean;
}

function summary(participant: ParticipantRecord) {
  return {
    id: participant.participantId,
    role: participant.role,
    name: participant.name,
    status: participant.status,
    ...(participant.uscc ? { uscc: participant.uscc } : {}),
    ...(participant.datasets.length > 0 ? { datasets: participant.datasets } : {}),
    certificate_sha256: participant.certificateSha256,
    not_after: participant.notAfter,
    created_at: participant.createdAt,
  };
}

async function readCsrKey(file: string): Promise<string> {
  const { publicKeyOfCsr } = await import('../../identity/csr.js');
  return publicKeyOfCsr(fs.readFileSync(file, 'utf8'));
}

export function registerParticipants(participants: Command, context: CommandContext): void {
  participants
    .command('add')
    .description('register a participant and issue its certificate from the platform CA')
    .requiredOption('--role <role>', 'source, enterprise, bank, auditor or operator')
    .requiredOption('--name <name>', 'the organisation\'s name')
    .option('--id <id>', 'participant id (default: <role>-<8 hex>)')
    .option('--uscc <code>', 'enterprise: the Unified Social Credit Code it acts for')
    .option('--datasets <ids>', 'source: comma-separated datasets it may feed')
    .option('--days <n>', 'certificate validity in days', '365')
    .option('--csr <file.pem>', 'PKCS#10 CSR holding the participant\'s RSA public key (openssl req -new -newkey rsa:2048 ...)')
    .option('--generate', 'development: generate the key pair here, into the keys directory', false)
    .option('--replaces <id>', 'enterprise: re-enrol, replacing the participant that acts for the USCC now (it is revoked; its consents stay the USCC\'s)')
    .option('--json', 'print the result as JSON', false)
    .action(guarded(async (options: AddOptions) => {
      if (Boolean(options.csr) === options.generate) throw new GatewayError('invalid_argument', 'give exactly one of --csr <file.pem> or --generate');
      const request = {
        participantId: options.id,
        role: options.role,
        name: options.name,
        uscc: options.uscc,
        datasets: options.datasets?.split(',').map((dataset) => dataset.trim()).filter(Boolean),
        certificateDays: Number(options.days),
        replaces: options.replaces,
      };
      const publicKeyPem = options.csr ? await readCsrKey(options.csr) : undefined;
      const { enrolWithGeneratedKey, writeParticipantCertificate } = await import('../../identity/index.js');
      const config = context.config();
      const runtime = await context.open();
      try {
        let participant: ParticipantRecord;
        if (publicKeyPem) {
          participant = await runtime.participants.add({ ...request, publicKeyPem });
          writeParticipantCertificate(config.keysDir, participant.participantId, participant.certificatePem);
        } else {
          participant = await enrolWithGeneratedKey(runtime.participants, config.keysDir, { ...request, participantId: request.participantId ?? `${options.role}-dev-${Date.now().toString(36)}` });
        }
        const files = participantFiles(config.keysDir, participant.participantId);
        const result = {
          ...summary(participant),
          certificate_file: files.certificateFile,
          ...(options.generate ? { key_file: files.keyFile } : {}),
          certificate: participant.certificatePem,
        };
        report(options, result, () => [
          `participant ${participant.participantId} (${participant.role}) registered; certificate valid until ${participant.notAfter}`,
          `  certificate: ${files.certificateFile}`,
          ...(options.generate ? [`  private key: ${files.keyFile} (development only)`] : []),
        ].join('\n'));
      } finally {
        await runtime.close();
      }
    }));
  participants
    .command('list')
    .description('list participants and their status')
    .option('--json', 'print as JSON', false)
    .action(guarded(async (options: { json: boolean }) => {
      const store = await context.openStore();
      try {
        const rows = (await store.listParticipants()).map(summary);
        report(options, rows, () => rows.map((row) =>
          `${row.id.padEnd(24)} ${row.role.padEnd(10)} ${row.status.padEnd(9)} ${row.name}${row.uscc ? `  ${row.uscc}` : ''}${row.datasets ? `  ${row.datasets.join(',')}` : ''}`,
        ).join('\n') || 'no participants');
      } finally {
        await store.close();
      }
    }));
  participants
    .command('show <id>')
    .description('one participant: its role, status, certificate and where its files are')
    .option('--json', 'print as JSON (with the certificate in PEM)', false)
    .action(guarded(async (id: string, options: { json: boolean }) => {
      const store = await context.openStore();
      let participant: ParticipantRecord | undefined;
      try {
        participant = await store.getParticipant(id);
      } finally {
        await store.close();
      }
      if (!participant) throw new GatewayError('not_found', `there is no participant "${id}" (see \`gateway participants list\`)`);
      const files = participantFiles(context.config().keysDir, participant.participantId);
      const keyFile = fs.existsSync(files.keyFile) ? files.keyFile : undefined;
      const shown = { ...summary(participant), certificate_file: files.certificateFile, ...(keyFile ? { key_file: keyFile } : {}), certificate: participant.certificatePem };
      report(options, shown, () => [
        `${shown.id} (${shown.role}): ${shown.name}, ${shown.status}`,
        ...(shown.uscc ? [`  uscc:        ${shown.uscc}`] : []),
        ...(shown.datasets ? [`  datasets:    ${shown.datasets.join(', ')}`] : []),
        `  certificate: sha256 ${shown.certificate_sha256}, valid until ${shown.not_after}`,
        `               ${files.certificateFile}`,
        ...(keyFile ? [`  private key: ${keyFile}`] : []),
        `  registered:  ${shown.created_at}`,
      ].join('\n'));
    }));
  participants
    .command('webhook <id>')
    .description('register a bank\'s webhook URL for monitoring alerts, or rotate its secret (the secret is printed once)')
    .option('--url <url>', 'where alerts are POSTed: https, or http on a loopback address')
    .option('--rotate-secret', 'issue a new signing secret; the old one stops working at once', false)
    .option('--json', 'print the result as JSON', false)
    .action(guarded(async (id: string, options: { url?: string; rotateSecret: boolean; json: boolean }) => {
      const runtime = await context.open();
      try {
        const result = await runtime.configureWebhook(id, { url: options.url, rotateSecret: options.rotateSecret });
        const shown = { participant: result.participantId, url: result.url, updated_at: result.updatedAt, ...(result.secret ? { secret: result.secret } : {}) };
        report(options, shown, () => [
          `webhook of ${result.participantId}: ${result.url}`,
          ...(result.secret ? [`  secret (shown once; give it to the bank): ${result.secret}`] : []),
        ].join('\n'));
      } finally {
        await runtime.close();
      }
    }));
  participants
    .command('enrolment-code')
    .description('issue a one-time code with which an enterprise enrols in the portal, its key made in its own browser (printed once)')
    .requiredOption('--uscc <uscc>', 'the enterprise\'s Unified Social Credit Code')
    .requiredOption('--name <name>', 'the enterprise\'s name, as its certificate will carry it')
    .option('--hours <hours>', 'how long the code is valid', '72')
    .option('--json', 'print the result as JSON', false)
    .action(guarded(async (options: { uscc: string; name: string; hours: string; json: boolean }) => {
      const runtime = await context.open();
      try {
        const issued = await runtime.enrolment.issue({ uscc: options.uscc, name: options.name, hours: positiveInteger('--hours', options.hours) }, 'operator');
        const shown = { code_id: issued.codeId, code: issued.code, uscc: issued.uscc, name: issued.name, expires_at: issued.expiresAt };
        report(options, shown, () => [
          `enrolment code for ${issued.name} (${issued.uscc}), valid until ${issued.expiresAt}, usable once:`,
          `  ${issued.code}`,
          'give it to the enterprise; it enters it at /portal/ (shown once: only its hash is kept)',
        ].join('\n'));
      } finally {
        await runtime.close();
      }
    }));
  const changes: Record<StatusChange, string> = {
    suspend: 'refuse the participant\'s requests until it is resumed; an enterprise\'s consents are paused',
    resume: 'accept a suspended participant\'s requests again',
    revoke: 'refuse the participant\'s requests for good (its certificate is no longer honoured); an enterprise\'s consents end',
  };
  for (const [change, description] of Object.entries(changes) as [StatusChange, string][]) {
    participants
      .command(`${change} <id>`)
      .description(description)
      .option('--json', 'print the result as JSON', false)
      .action(guarded(async (id: string, options: { json: boolean }) => {
        const runtime = await context.open();
        try {
          const participant = await runtime.participants.changeStatus(id, change);
          report(options, summary(participant), () => `participant ${participant.participantId} is ${participant.status}`);
        } finally {
          await runtime.close();
        }
      }));
  }
}
