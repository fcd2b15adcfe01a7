/**
 * Child process for the consent use crash test: opens a runtime on the directory in argv (keys and the consent
 * already there) and asks one fresh question at a time under the consent, printing "answered <n> <audit index>"
 * after each. After `answers` answers it SIGKILLs itself right after the next use is counted (committed in the records
 * database) and before that answer's audit entry is written: the crash window between the two databases.
 */
import { randomUUID } from 'node:crypto';
import type { Principal } from '../../gateway/identity/requestAuthentication.js';
import { openRuntime } from '../../gateway/runtime/index.js';
import type { ConsentStore } from '../../gateway/store/index.js';
import { createVerificationService } from '../../gateway/verification/index.js';
import { testConfig } from '../support/runtime.js';

const [dir, consentId, uscc, bankId, question, answersArgument] = process.argv.slice(2) as [string, string, string, string, string, string];
const answers = Number(answersArgument);
const runtime = (await openRuntime(testConfig(dir, { GATEWAY_INGEST_WORKERS: '1' })));
let counted = 0;
const consentStore: ConsentStore = {
  ...runtime.store,
  async useConsents(uses) {
    const result = await runtime.store.useConsents(uses);
    counted += 1;
    if (counted > answers) process.kill(process.pid, 'SIGKILL');
    return result;
  },
};
// The reuse window is 0: every answer is fresh and counts.
const service = createVerificationService({
  consents: runtime.consents, consentStore, disputes: runtime.store, questions: runtime.questions, records: runtime.records, audit: runtime.audit.log,
  signer: runtime.signer, limits: { bankPerSecond: 1000, bankRefusalsPerMinute: 1000, consentPerMinute: 1000, reuseSeconds: 0 },
});
for (let n = 0; ; n++) {
  const jti = randomUUID();
  const principal: Principal = {
    participantId: bankId, role: 'bank', name: bankId, uscc: undefined, datasets: [], certificateSha256: 'crash-test', jti, requestSha256: jti,
  };
  const result = await service.verify(principal, {
    loan_reference: `LN-${n}`, officer: 'crash-test', items: [{ subject: { uscc }, consent_id: consentId, questions: [question] }],
  });
  process.stdout.write(`answered ${n} ${result.items[0]?.audit_index ?? -1}\n`);
}
