/**
 * Monitor rules (policies/monitors.json), as data beside the questions: which question's answer changing in which
 * direction is an alert for a lender watching a borrower, and how severe. A rule fires only when the answer changed
 * (old ≠ new), the old answer is one of `from` (any answer when absent), and the new one is one of `to` — or, for a
 * band question with `direction`, the new band is higher ("up") or lower ("down") in the question's own order.
 *
 * Like the catalog, the loader refuses the whole file, naming it, at the first problem: a rule that names an unknown
 * question, an answer the question cannot give, or a question not allowed for post-loan management.
 */
import fs from 'node:fs';
import path from 'node:path';
import { GatewayError } from '../errors/index.js';
import type { QuestionCatalog } from './catalog.js';
import { policiesDir } from './catalog.js';
import { UNKNOWN } from './definition.js';
import type { Answer, LocalText } from './definition.js';
import { readPolicyFile } from './schemas.js';

export const SEVERITIES = ['low', 'medium', 'high'] as const;
export type Severity = (typeof SEVERITIES)[number];

/** The purpose a monitored question must allow: watching a borrower is post-loan management. */
export const MONITOR_PURPOSE = 'post_loan_management';

export interface MonitorRule {
  readonly id: string;
  readonly question: string;
  readonly from: readonly Answer[] | undefined;
  readonly to: readonly Answer[] | undefined;
  readonly direction: 'up' | 'down' | undefined;
  readonly severity: Severity;
  readonly title: LocalText;
}

export interface MonitorRules {
  readonly rules: readonly MonitorRule[];
  /** Throws monitor_rule_unknown for an id that is not a rule. */
  get(id: string): MonitorRule;
}

const RULE_ID = /^[a-z][a-z0-9_]{0,63}$/;
const MEMBERS = new Set(['id', 'question', 'from', 'to', 'direction', 'severity', 'title']);

/** Whether `rule` fires for an answer that changed from `before` to `after`; `bands` is the question's band order. */
export function ruleFires(rule: MonitorRule, before: Answer, after: Answer, bands: readonly string[]): boolean {
  if (before === after) return false;
  if (rule.from && !rule.from.includes(before)) return false;
  if (rule.to && !rule.to.includes(after)) return false;
  if (rule.direction) {
    const from = typeof before === 'string' ? bands.indexOf(before) : -1;
    const to = typeof after === 'string' ? bands.indexOf(after) : -1;
    if (from < 0 || to < 0) return false;
    return rule.direction === 'up' ? to > from : to < from;
  }
  return true;
}

export function loadMonitorRules(catalog: QuestionCatalog, file: string = path.join(policiesDir, 'monitors.json')): MonitorRules {
  const fail = (message: string): never => {
    throw new GatewayError('invalid_configuration', `${file}: ${message}`);
  };
  if (!fs.existsSync(file)) fail('no monitor rules file');
  const parsed = readPolicyFile(file);
  const list = (parsed as { monitors?: unknown }).monitors;
  if (typeof parsed !== 'object' || parsed === null || !Array.isArray(list)) return fail('must be {"monitors": [...]}');
  const byId = new Map<string, MonitorRule>();
  for (const [index, raw] of (list as unknown[]).entries()) {
    const where = `monitors[${index}]`;
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return fail(`${where} must be an object`);
    const entry = raw as Record<string, unknown>;
    const extra = Object.keys(entry).find((key) => !MEMBERS.has(key));
    if (extra) fail(`${where} has an unknown member "${extra}"`);
    const id = entry['id'];
    if (typeof id !== 'string' || !RULE_ID.test(id)) return fail(`${where}.id must be a lowercase identifier`);
    if (byId.has(id) || catalog.has(id)) fail(`rule id "${id}" is already used`);
    const questionId = entry['question'];
    if (typeof questionId !== 'string' || !catalog.has(questionId)) return fail(`rule "${id}" names no question of the catalog`);
    const question = catalog.get(questionId);
    if (!catalog.allowsPurpose(questionId, MONITOR_PURPOSE)) fail(`rule "${id}": question "${questionId}" does not allow ${MONITOR_PURPOSE}`);
    const bands = question.answer.type === 'band' ? question.answer.values.map(String) : [];
    const possible: readonly Answer[] = question.answer.type === 'band' ? [...bands, UNKNOWN] : [true, false, UNKNOWN];
    const answers = (member: 'from' | 'to'): Answer[] | undefined => {
      const value = entry[member];
      if (value === undefined) return undefined;
      if (!Array.isArray(value) || value.length === 0) return fail(`rule "${id}": ${member} must be a non-empty list of answers`);
      for (const answer of value) {
        if (!possible.includes(answer as Answer)) fail(`rule "${id}": "${String(answer)}" is not an answer of ${questionId}`);
      }
      return value as Answer[];
    };
    const direction = entry['direction'];
    if (direction !== undefined && direction !== 'up' && direction !== 'down') fail(`rule "${id}": direction must be "up" or "down"`);
    if (direction !== undefined && question.answer.type !== 'band') fail(`rule "${id}": direction needs a band question`);
    const to = answers('to');
    if (to === undefined && direction === undefined) fail(`rule "${id}" needs "to" or "direction"`);
    const severity = entry['severity'];
    if (!(SEVERITIES as readonly unknown[]).includes(severity)) fail(`rule "${id}": severity must be one of ${SEVERITIES.join(', ')}`);
    const title = entry['title'] as Record<string, unknown> | undefined;
    if (typeof title?.['zh'] !== 'string' || typeof title['en'] !== 'string') return fail(`rule "${id}": title needs zh and en`);
    byId.set(id, {
      id, question: questionId, from: answers('from'), to, direction: direction as MonitorRule['direction'], severity: severity as Severity,
      title: { zh: title['zh'], en: title['en'] },
    });
  }
  if (byId.size === 0) fail('no monitor rules');
  return {
    rules: [...byId.values()],
    get(id) {
      const rule = byId.get(id);
      if (!rule) throw new GatewayError('monitor_rule_unknown', `no monitor rule "${id.slice(0, 64)}"`);
      return rule;
    },
  };
}
