/**
 * Test helper for monitoring: valid USCCs, arrears batches and a post-loan consent with a subscription.
 */
import type { GatewayClient } from '../../gateway/client/client.js';
import { usccCheckCharacter } from '../../gateway/identifiers/index.js';

export function uscc(n: number): string {
  const first17 = `91370100${String(n).padStart(9, '0')}`;
  return first17 + usccCheckCharacter(first17);
}

/** A medical_insurance_arrears CSV: one row per subject with the amount owed for `period`. */
export function arrearsCsv(rows: readonly { uscc: string; amount: string; period?: string }[]): string {
  return `enterprise_name,uscc,arrears_period,arrears_amount\n${rows.map((row) => `Test Co ${row.uscc.slice(-4)},${row.uscc},${row.period ?? '2025-01'},${row.amount}`).join('\n')}\n`;
}

/** The enterprise consents (post-loan, the risk_monitoring pack) and the bank subscribes; returns both ids. */
export async function consentAndSubscribe(enterprise: GatewayClient, bank: GatewayClient, subject: string, bankId: string, rules?: string[]) {
  const granted = await enterprise.grantConsent({ uscc: subject, bank: bankId, purpose: 'post_loan_management', questions: ['risk_monitoring'], days: 30 });
  const consentId = String(granted.consent['consent_id']);
  const response = await bank.send('POST', '/v1/subscriptions', {
    body: JSON.stringify({ consent_id: consentId, subject: { uscc: subject }, ...(rules ? { rules } : {}) }),
    headers: { 'content-type': 'application/json' },
  });
  return { consentId, subscription: response.json<{ subscription_id: string; rules: string[]; state: string }>() };
}
