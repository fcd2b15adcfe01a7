// Pins each misuse rule on synthetic audit events: it fires only past its limit, counts only one bank's doings, and
// never needs a record value. The policy loader refuses a malformed rules file, naming it.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { findMisuse, loadMisusePolicy } from '../../gateway/misuse/index.js';
import type { LoggedEvent, MisuseRule } from '../../gateway/misuse/index.js';
import { packageRoot } from '../../gateway/paths.js';

const title = { zh: '测试', en: 'test' };
const base = { severity: 'medium', suspend: false, title } as const;

/** 2026-12-03 10:00 in Shanghai is 02:00 UTC. */
const DAYTIME = '2026-12-03T02:00:00.000Z';
/** 2026-12-03 23:30 in Shanghai. */
const NIGHT = '2026-12-03T15:30:00.000Z';

let next = 0;
function answered(bank: string, uscc: string, options: Partial<LoggedEvent> = {}): LoggedEvent {
  return { index: next++, kind: 'verification.answered', at: DAYTIME, actor: bank, subject: uscc, loan_reference: 'unspecified', purpose: 'loan_approval', questions: [{}, {}], request_sha256: 'r', ...options };
}

function subjects(count: number): string[] {
  return Array.from({ length: count }, (_, n) => `uscc-${n}`);
}

describe('misuse rules over the audit log', () => {
  it('subjects without a loan reference: past the limit, and only those never asked about under a loan', () => {
    const rule: MisuseRule = { ...base, id: 'many', kind: 'subjects_without_loan_reference', max_subjects: 3 };
    const atLimit = subjects(3).map((uscc) => answered('bank-a', uscc));
    expect(findMisuse(atLimit, [rule])).to.deep.equal([]);
    const past = [...atLimit, answered('bank-a', 'uscc-9')];
    const [finding] = findMisuse(past, [rule]);
    expect(finding).to.deep.include({ bank: 'bank-a', evidence: { subjects: 4, max_subjects: 3 } });
    // A later request naming a loan for one of them takes it out of the count; another bank's requests are its own.
    const served = [...past, answered('bank-a', 'uscc-9', { loan_reference: 'LN-1' }), ...subjects(10).map((uscc) => answered('bank-b', uscc, { loan_reference: 'LN-2' }))];
    expect(findMisuse(served, [rule])).to.deep.equal([]);
  });

  it('refusal rate: unmatched items and refusals against all items, judged only from min_items on', () => {
    const rule: MisuseRule = { ...base, id: 'refusals', kind: 'refusal_rate', min_items: 10, max_rate: 0.5 };
    const unmatched = (count: number): LoggedEvent => ({
      index: next++, kind: 'verification.unmatched', at: DAYTIME, actor: 'bank-a', request_sha256: `u${next}`,
      items: subjects(count).map((uscc) => ({ uscc, questions: 1 })),
    });
    expect(findMisuse([unmatched(9)], [rule]), 'too few to judge').to.deep.equal([]);
    const events = [unmatched(6), ...subjects(4).map((uscc) => answered('bank-a', uscc))];
    expect(findMisuse(events, [rule])[0]?.evidence).to.deep.equal({ items: 10, refused: 6, max_rate_percent: 50 });
    const healthy = [unmatched(5), ...subjects(5).map((uscc) => answered('bank-a', uscc))];
    expect(findMisuse(healthy, [rule]), 'exactly at the rate').to.deep.equal([]);
  });

  it('off hours: questions counted in Asia/Shanghai hours, across midnight', () => {
    const rule: MisuseRule = { ...base, id: 'night', kind: 'off_hours_volume', from_hour: 22, to_hour: 6, max_questions: 3 };
    const day = subjects(10).map((uscc) => answered('bank-a', uscc));
    expect(findMisuse(day, [rule])).to.deep.equal([]);
    const night = subjects(2).map((uscc) => answered('bank-a', uscc, { at: NIGHT }));
    expect(findMisuse([...day, ...night], [rule])[0]?.evidence).to.deep.equal({ questions: 4, max_questions: 3 });
    const earlyMorning = '2026-12-03T21:00:00.000Z'; // 05:00 next day in Shanghai
    const dawn = [answered('bank-a', 'x', { at: earlyMorning, questions: [{}, {}, {}, {}] })];
    expect(findMisuse(dawn, [rule])).to.have.length(1);
    const daytimeRule: MisuseRule = { ...rule, from_hour: 9, to_hour: 17 };
    expect(findMisuse(dawn, [daytimeRule]), 'a 09-17 window does not hold 05:00').to.deep.equal([]);
  });

  it('consent churn: consents for the bank granted and revoked within the window', () => {
    const rule: MisuseRule = { ...base, id: 'churn', kind: 'consent_churn', max_revoked: 2 };
    const cycle = (consentId: string, bank = 'bank-a'): LoggedEvent[] => [
      { index: next++, kind: 'consent.granted', at: DAYTIME, actor: 'ent', consent_id: consentId, bank },
      { index: next++, kind: 'consent.revoked', at: DAYTIME, actor: 'ent', consent_id: consentId, bank },
    ];
    expect(findMisuse([...cycle('c1'), ...cycle('c2')], [rule])).to.deep.equal([]);
    const three = [...cycle('c1'), ...cycle('c2'), ...cycle('c3')];
    expect(findMisuse(three, [rule])[0]).to.deep.include({ bank: 'bank-a', evidence: { revoked: 3, max_revoked: 2 } });
    // A revocation of a consent granted before the window is not churn.
    const old: LoggedEvent = { index: next++, kind: 'consent.revoked', at: DAYTIME, actor: 'ent', consent_id: 'c0', bank: 'bank-a' };
    expect(findMisuse([...cycle('c1'), ...cycle('c2'), old], [rule])).to.deep.equal([]);
  });

  it('repeated list: the same set of subjects screened again and again, whatever the order', () => {
    const rule: MisuseRule = { ...base, id: 'again', kind: 'repeated_list', min_list_size: 3, max_repeats: 2 };
    const screen = (request: string, list: readonly string[]) => list.map((uscc) => answered('bank-a', uscc, { request_sha256: request, purpose: 'customer_screening' }));
    const list = subjects(3);
    const twice = [...screen('r1', list), ...screen('r2', [...list].reverse())];
    expect(findMisuse(twice, [rule])).to.deep.equal([]);
    const thrice = [...twice, ...screen('r3', list)];
    expect(findMisuse(thrice, [rule])[0]?.evidence).to.deep.equal({ list_size: 3, times: 3, max_repeats: 2 });
    const short = [...screen('s1', subjects(2)), ...screen('s2', subjects(2)), ...screen('s3', subjects(2))];
    expect(findMisuse(short, [rule]), 'lists under min_list_size are not judged').to.deep.equal([]);
    const approvals = [1, 2, 3].flatMap((n) => list.map((uscc) => answered('bank-a', uscc, { request_sha256: `a${n}`, purpose: 'loan_approval' })));
    expect(findMisuse(approvals, [rule]), 'only screening counts').to.deep.equal([]);
  });

  describe('policies/misuse.json', () => {
    it('loads, versioned and hashed', () => {
      const policy = loadMisusePolicy(path.join(packageRoot, 'policies', 'misuse.json'));
      expect(policy.version).to.be.a('number');
      expect(policy.sha256).to.match(/^[0-9a-f]{64}$/);
      expect(new Set(policy.rules.map((rule) => rule.kind))).to.have.length(5);
    });

    it('refuses a malformed file, naming it and the member at fault', () => {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gateway-misuse-'));
      try {
        const file = path.join(dir, 'misuse.json');
        const rule = { id: 'x', kind: 'refusal_rate', min_items: 10, max_rate: 1.5, severity: 'low', suspend: false, title };
        fs.writeFileSync(file, JSON.stringify({ version: 1, window_hours: 24, rules: [rule] }));
        expect(() => loadMisusePolicy(file)).to.throw(new RegExp(`${file}: /rules/0/max_rate`));
        fs.writeFileSync(file, JSON.stringify({ version: 1, window_hours: 24, rules: [{ ...rule, max_rate: 0.5, kind: 'guesswork' }] }));
        expect(() => loadMisusePolicy(file)).to.throw(/unknown kind "guesswork"/);
        fs.writeFileSync(file, JSON.stringify({ version: 1, window_hours: 24, rules: [{ ...rule, max_rate: 0.5 }, { ...rule, max_rate: 0.5 }] }));
        expect(() => loadMisusePolicy(file)).to.throw(/rule id "x" is used twice/);
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    });
  });
});
