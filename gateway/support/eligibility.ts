/**
 * Eligibility from answers: `eligible` when every condition holds, `not_eligible` when one fails, `unknown` when
 * none fails but an answer is unknown — the platform lacks the data, which is not a "no" (docs/privacy.md).
 */
import { UNKNOWN } from '../policies/index.js';
import type { Answer } from '../policies/index.js';
import type { SupportPolicy } from './policies.js';

export type Eligibility = 'eligible' | 'not_eligible' | 'unknown';

export function eligibilityOf(policy: SupportPolicy, answers: ReadonlyMap<string, Answer>): Eligibility {
  let unknown = false;
  for (const condition of policy.conditions) {
    const answer = answers.get(condition.question) ?? UNKNOWN;
    if (answer === UNKNOWN) unknown = true;
    else if (!condition.answers.includes(answer)) return 'not_eligible';
  }
  return unknown ? 'unknown' : 'eligible';
}
