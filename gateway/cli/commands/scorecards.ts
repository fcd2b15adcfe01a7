/**
 * The operator's review of banks' scorecards on this host (docs/modelling.md):
 *   gateway scorecards list                         every scorecard, its state and hash
 *   gateway scorecards approve ID VERSION           approve a pending one (re-checked first); --release-score lets scores carry the points
 *   gateway scorecards reject ID VERSION            reject a pending one
 * Each decision is in the audit log with the scorecard's hash, actor "operator".
 */
import type { Command } from 'commander';
import { guarded, positiveInteger, report } from '../output.js';
import type { CommandContext } from '../context.js';
import type { Runtime } from '../../runtime/index.js';
import type { ScorecardView } from '../../scoring/index.js';

interface Options {
  readonly json: boolean;
  readonly releaseScore?: boolean;
}

async function withRuntime<T>(context: CommandContext, work: (runtime: Runtime) => Promise<T>): Promise<T> {
  const runtime = await context.open();
  try {
    return await work(runtime);
  } finally {
    await runtime.close();
  }
}

const line = (view: ScorecardView) => `${view.consent_name}  ${view.state}${view.release_score ? ' (score released)' : ''}  bank ${view.bank}  sha256 ${view.sha256}`;

export function registerScorecards(scorecards: Command, context: CommandContext): void {
  scorecards.command('list')
    .description('list every scorecard banks submitted, with its state and hash')
    .option('--json', 'print the scorecards as JSON', false)
    .action(guarded(async (options: Options) => {
      const views = await withRuntime(context, (runtime) => runtime.scorecards.list());
      report(options, { scorecards: views }, () => (views.length === 0 ? 'no scorecards' : views.map(line).join('\n')));
    }));
  scorecards.command('approve <id> <version>')
    .description('approve a pending scorecard, after checking it again against policies/scorecard-review.json')
    .option('--release-score', 'scores under it carry the points as well as the grade', false)
    .option('--json', 'print the scorecard as JSON', false)
    .action(guarded(async (id: string, version: string, options: Options) => {
      const view = await withRuntime(context, (runtime) =>
        runtime.scorecards.decide(id, positiveInteger('version', version), { approve: true, releaseScore: options.releaseScore === true }));
      report(options, { scorecard: view }, () => line(view));
    }));
  scorecards.command('reject <id> <version>')
    .description('reject a pending scorecard')
    .option('--json', 'print the scorecard as JSON', false)
    .action(guarded(async (id: string, version: string, options: Options) => {
      const view = await withRuntime(context, (runtime) => runtime.scorecards.decide(id, positiveInteger('version', version), { approve: false, releaseScore: false }));
      report(options, { scorecard: view }, () => line(view));
    }));
}
