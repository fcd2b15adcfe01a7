/**
 * What the misuse rules find in a window of the audit log: a pure function of the entries, so the same entries give
 * the same flags on any instance and in the tests. It reads only what the log already holds about banks' requests
 * (kinds, actors, subjects, loan references, purposes, question counts); no record value is involved.
 */
import { createHash } from 'node:crypto';
import type { MisuseRule } from './policy.js';

/** An audit entry as the rules read it: the envelope and the details its kind carries. */
export interface LoggedEvent {
  readonly index: number;
  readonly kind: string;
  /** RFC 3339. */
  readonly at: string;
  readonly actor: string;
  readonly subject?: string | undefined;
  readonly consent_id?: string | undefined;
  readonly bank?: string | undefined;
  readonly purpose?: string | undefined;
  readonly loan_reference?: string | undefined;
  readonly request_sha256?: string | undefined;
  readonly questions?: readonly unknown[] | undefined;
  readonly items?: readonly { readonly uscc: string; readonly questions: number }[] | undefined;
}

export interface MisuseFinding {
  readonly rule: MisuseRule;
  readonly bank: string;
  /** Counts that exceeded the rule's limit, named as in the rule (no subject is named). */
  readonly evidence: Readonly<Record<string, number>>;
  /** Index of the last entry that counted. */
  readonly lastIndex: number;
}

/** The loan reference a request without one carries (the CLI's default). */
const NO_LOAN = new Set(['', 'unspecified']);
const SCREENING = 'customer_screening';

const shanghaiHour = new Intl.DateTimeFormat('en-GB', { timeZone: 'Asia/Shanghai', hour: '2-digit', hourCycle: 'h23' });

function isOffHours(at: string, fromHour: number, toHour: number): boolean {
  const hour = Number(shanghaiHour.format(new Date(at)));
  return fromHour < toHour ? hour >= fromHour && hour < toHour : hour >= fromHour || hour < toHour;
}

/** One bank's item-level activity: each item asked, whatever its outcome. */
interface Item {
  readonly index: number;
  readonly at: string;
  readonly uscc: string;
  readonly refused: boolean;
  readonly questions: number;
  readonly loanReference: string | undefined;
  readonly purpose: string | undefined;
  readonly request: string | undefined;
}

function itemsOf(event: LoggedEvent): Item[] {
  const common = { index: event.index, at: event.at, loanReference: event.loan_reference, request: event.request_sha256 };
  switch (event.kind) {
    case 'verification.answered':
    case 'verification.refused':
      return event.subject === undefined ? [] : [{
        ...common, uscc: event.subject, refused: event.kind === 'verification.refused', questions: event.questions?.length ?? 0, purpose: event.purpose,
      }];
    case 'verification.unmatched':
      return (event.items ?? []).map((item) => ({ ...common, uscc: item.uscc, refused: true, questions: item.questions, purpose: undefined }));
    default:
      return [];
  }
}

/** Evaluates every rule for every bank over `events` (one window, in index order). */
export function findMisuse(events: readonly LoggedEvent[], rules: readonly MisuseRule[]): MisuseFinding[] {
  const itemsByBank = new Map<string, Item[]>();
  const granted = new Map<string, string>();
  const revokedByBank = new Map<string, { count: number; lastIndex: number }>();
  for (const event of events) {
    const items = itemsOf(event);
    if (items.length > 0) {
      const list = itemsByBank.get(event.actor) ?? [];
      list.push(...items);
      itemsByBank.set(event.actor, list);
    }
    if (event.kind === 'consent.granted' && event.consent_id !== undefined && event.bank !== undefined) granted.set(event.consent_id, event.bank);
    if (event.kind === 'consent.revoked' && event.consent_id !== undefined && granted.get(event.consent_id) === event.bank && event.bank !== undefined) {
      const churn = revokedByBank.get(event.bank) ?? { count: 0, lastIndex: 0 };
      revokedByBank.set(event.bank, { count: churn.count + 1, lastIndex: event.index });
    }
  }
  const banks = new Set([...itemsByBank.keys(), ...revokedByBank.keys()]);
  const findings: MisuseFinding[] = [];
  for (const bank of [...banks].sort()) {
    const items = itemsByBank.get(bank) ?? [];
    const lastIndex = items.at(-1)?.index ?? 0;
    for (const rule of rules) {
      const found = (evidence: Record<string, number>, last = lastIndex) => findings.push({ rule, bank, evidence, lastIndex: last });
      switch (rule.kind) {
        case 'subjects_without_loan_reference': {
          const withLoan = new Set(items.filter((item) => item.loanReference !== undefined && !NO_LOAN.has(item.loanReference)).map((item) => item.uscc));
          const without = new Set(items.map((item) => item.uscc).filter((uscc) => !withLoan.has(uscc)));
          if (without.size > rule.max_subjects) found({ subjects: without.size, max_subjects: rule.max_subjects });
          break;
        }
        case 'refusal_rate': {
          const refused = items.filter((item) => item.refused).length;
          if (items.length >= rule.min_items && refused / items.length > rule.max_rate) {
            found({ items: items.length, refused, max_rate_percent: Math.round(rule.max_rate * 100) });
          }
          break;
        }
        case 'off_hours_volume': {
          const off = items.filter((item) => isOffHours(item.at, rule.from_hour, rule.to_hour));
          const questions = off.reduce((sum, item) => sum + item.questions, 0);
          if (questions > rule.max_questions) found({ questions, max_questions: rule.max_questions }, off.at(-1)?.index ?? lastIndex);
          break;
        }
        case 'consent_churn': {
          const churn = revokedByBank.get(bank);
          if (churn && churn.count > rule.max_revoked) found({ revoked: churn.count, max_revoked: rule.max_revoked }, churn.lastIndex);
          break;
        }
        case 'repeated_list': {
          const requests = new Map<string, Set<string>>();
          for (const item of items) {
            if (item.request === undefined || (item.purpose !== undefined && item.purpose !== SCREENING)) continue;
            const subjects = requests.get(item.request) ?? new Set<string>();
            subjects.add(item.uscc);
            requests.set(item.request, subjects);
          }
          const lists = new Map<string, { size: number; times: number }>();
          for (const subjects of requests.values()) {
            if (subjects.size < rule.min_list_size) continue;
            const key = createHash('sha256').update([...subjects].sort().join('\n')).digest('hex');
            const seen = lists.get(key) ?? { size: subjects.size, times: 0 };
            lists.set(key, { size: seen.size, times: seen.times + 1 });
          }
          const worst = [...lists.values()].sort((a, b) => b.times - a.times)[0];
          if (worst && worst.times > rule.max_repeats) found({ list_size: worst.size, times: worst.times, max_repeats: rule.max_repeats });
          break;
        }
      }
    }
  }
  return findings;
}
