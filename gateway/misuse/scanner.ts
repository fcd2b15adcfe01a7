/**
 * The misuse scan: reads the audit log's last window, runs the rules (detect.ts), and records each new finding as a
 * `misuse.flagged` entry — at most one per rule and bank within a window, whichever instance or restart scans, because
 * the flags already in the log's window are read back first. With automatic suspension enabled, a flag by a rule that
 * says `suspend` suspends the bank (a `participant.status_changed` entry by the gateway, naming the flag).
 */
import type { AuditLog } from '../audit/index.js';
import type { JsonValue } from '../audit/index.js';
import type { ParticipantRegistry } from '../identity/index.js';
import { findMisuse } from './detect.js';
import type { LoggedEvent } from './detect.js';
import type { MisusePolicy } from './policy.js';

const PAGE = 5_000;
const HOUR_MS = 3_600_000;

export interface MisuseFlag {
  readonly auditIndex: number;
  readonly rule: string;
  readonly bank: string;
  readonly severity: string;
  readonly evidence: Readonly<Record<string, number>>;
  readonly windowFrom: string;
  readonly windowTo: string;
  readonly suspended: boolean;
}

export interface MisuseScanner {
  /** Scans the window that ends now; returns the flags it raised (none already in the window are raised again). */
  scan(): Promise<MisuseFlag[]>;
  /** The flags in the log, newest last, recorded at or after `from` (RFC 3339). */
  flags(from?: string): Promise<MisuseFlag[]>;
}

export interface MisuseDependencies {
  readonly audit: AuditLog;
  readonly participants: ParticipantRegistry;
  readonly policy: MisusePolicy;
  /** GATEWAY_MISUSE_AUTO_SUSPEND: whether a flag by a `suspend` rule suspends the bank. */
  readonly autoSuspend: boolean;
  readonly now?: () => Date;
}

function parse(entry: Uint8Array, index: number): LoggedEvent & Record<string, unknown> {
  return { ...(JSON.parse(Buffer.from(entry).toString('utf8')) as Record<string, unknown>), index } as LoggedEvent & Record<string, unknown>;
}

export function createMisuseScanner(deps: MisuseDependencies): MisuseScanner {
  const now = deps.now ?? (() => new Date());
  /** The first index of the last window read: the log is in time order, so the next window starts at or after it. */
  let windowStart = 0;

  async function read(from: string, kind?: string): Promise<(LoggedEvent & Record<string, unknown>)[]> {
    const end = await deps.audit.size();
    const events: (LoggedEvent & Record<string, unknown>)[] = [];
    let start = kind === undefined ? windowStart : 0;
    for (;;) {
      const page = await deps.audit.entries({ start, end, from, kind, limit: PAGE });
      for (const stored of page) events.push(parse(stored.entry, stored.index));
      if (page.length < PAGE) break;
      start = (page.at(-1)?.index ?? end) + 1;
    }
    if (kind === undefined) windowStart = events[0]?.index ?? end;
    return events;
  }

  const flagOf = (event: LoggedEvent & Record<string, unknown>): MisuseFlag => ({
    auditIndex: event.index,
    rule: event['rule'] as string,
    bank: event['bank'] as string,
    severity: event['severity'] as string,
    evidence: event['evidence'] as Record<string, number>,
    windowFrom: event['window_from'] as string,
    windowTo: event['window_to'] as string,
    suspended: event['suspended'] === true,
  });

  return {
    async scan() {
      const windowTo = now();
      const windowFrom = new Date(windowTo.getTime() - deps.policy.windowHours * HOUR_MS).toISOString();
      const events = await read(windowFrom);
      const raised = new Set(events.filter((event) => event.kind === 'misuse.flagged').map((event) => `${String(event['rule'])}\u0000${String(event['bank'])}`));
      const flags: MisuseFlag[] = [];
      for (const finding of findMisuse(events, deps.policy.rules)) {
        const key = `${finding.rule.id}\u0000${finding.bank}`;
        if (raised.has(key)) continue;
        raised.add(key);
        const bank = await deps.participants.get(finding.bank);
        const suspend = deps.autoSuspend && finding.rule.suspend && bank?.role === 'bank' && bank.status === 'active';
        const details: Record<string, JsonValue> = {
          rule: finding.rule.id, bank: finding.bank, severity: finding.rule.severity, evidence: { ...finding.evidence },
          window_from: windowFrom, window_to: windowTo.toISOString(), last_index: finding.lastIndex,
          policy_version: deps.policy.version, policy_sha256: deps.policy.sha256, suspended: suspend,
        };
        const appended = await deps.audit.append({ kind: 'misuse.flagged', actor: 'gateway', details });
        if (suspend) {
          await deps.participants.changeStatus(finding.bank, 'suspend', { actor: 'gateway', reason: `misuse rule ${finding.rule.id} (audit entry ${appended.index})` });
        }
        flags.push({
          auditIndex: appended.index, rule: finding.rule.id, bank: finding.bank, severity: finding.rule.severity, evidence: finding.evidence,
          windowFrom, windowTo: windowTo.toISOString(), suspended: suspend,
        });
      }
      return flags;
    },
    flags: async (from = new Date(0).toISOString()) => (await read(from, 'misuse.flagged')).map(flagOf),
  };
}
