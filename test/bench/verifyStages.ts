/**
 * What one verification item costs, stage by stage, without HTTP: over a directory prepared by the verification
 * bench (`BENCH_VERIFY_DATA_DIR=DIR BENCH_ONLY=verify npm run bench` keeps one), one process, one item at a time,
 * the steps `answerItem` takes for the bench's three questions — consent lookup, the subject's records per dataset
 * (blind index, SQLite query), opening them (AES-256-GCM, JSON), evaluation, and the durable use count
 * (`useConsent`). CPU time (getrusage) and wall time per item, each pass over ITEMS different subjects.
 *
 *   node dist/test/bench/verifyStages.js DIR [items=2000] [passes=2]
 */
import fs from 'node:fs';
import path from 'node:path';
import { createBlindIndexer } from '../../gateway/crypto/index.js';
import { todayInShanghai } from '../../gateway/ingest/index.js';
import { loadSecrets } from '../../gateway/keys/index.js';
import { evaluate } from '../../gateway/policies/index.js';
import type { RecordsByDataset } from '../../gateway/policies/index.js';
import { openRuntime } from '../../gateway/runtime/index.js';
import { openValues } from '../../gateway/records/index.js';
import { testConfig } from '../support/runtime.js';
import { BENCH_QUESTIONS } from './verifyShared.js';
import type { Subject } from './verifyShared.js';

const [dir, itemsArgument, passesArgument] = process.argv.slice(2);
const ITEMS = Number(itemsArgument ?? 2000);
const PASSES = Number(passesArgument ?? 2);
const runtime = (await openRuntime(testConfig(dir!)));
const subjects = JSON.parse(fs.readFileSync(path.join(dir!, 'subjects.json'), 'utf8')) as Subject[];
const indexer = createBlindIndexer(loadSecrets(runtime.config.keysDir).blindIndex);
const questions = BENCH_QUESTIONS.map((id) => runtime.questions.get(id));
const datasets = [...new Set(questions.flatMap((question) => question.datasets))];
const asOf = todayInShanghai();

const STAGES = ['consent lookup', 'blind index', 'records query', 'open records', 'evaluate', 'use count (durable)'] as const;
type Stage = (typeof STAGES)[number];

function cpuMicros(): number {
  const usage = process.cpuUsage();
  return usage.user + usage.system;
}

for (let pass = 0; pass < PASSES; pass++) {
  const cpu = new Map<Stage, number>(STAGES.map((stage) => [stage, 0]));
  const wall = new Map<Stage, number>(STAGES.map((stage) => [stage, 0]));
  let records = 0;
  let stageCpu = 0;
  let stageWall = 0;
  const start = () => {
    stageCpu = cpuMicros();
    stageWall = performance.now();
  };
  const stop = (stage: Stage) => {
    cpu.set(stage, cpu.get(stage)! + cpuMicros() - stageCpu);
    wall.set(stage, wall.get(stage)! + (performance.now() - stageWall) * 1000);
  };
  for (let i = 0; i < ITEMS; i++) {
    const subject = subjects[(pass * ITEMS + i) % subjects.length]!;
    start();
    const consent = (await runtime.store.getConsent(subject.consent_id))!;
    stop('consent lookup');
    const byDataset: Record<string, { values: Record<string, string | number | boolean>; asOf: string }[]> = {};
    for (const dataset of datasets) {
      start();
      const index = indexer.subject({ idType: 'uscc', idNumber: consent.uscc });
      stop('blind index');
      start();
      const stored = await runtime.store.recordsBySubject(dataset, index);
      stop('records query');
      start();
      byDataset[dataset] = await Promise.all(stored.map(async (row) => ({
        values: await openValues(runtime.keyring, dataset, row.recordId, row.sealed) as Record<string, string | number | boolean>,
        asOf: row.asOf,
      })));
      stop('open records');
      records += stored.length;
    }
    start();
    for (const question of questions) evaluate(question, { asOf, records: byDataset as RecordsByDataset });
    stop('evaluate');
    start();
    await runtime.store.useConsents([{ consentId: consent.consentId, count: questions.length, at: new Date().toISOString() }]);
    stop('use count (durable)');
  }
  const micros = (value: number) => (Math.floor((10 * value) / ITEMS) / 10).toFixed(1).padStart(8);
  console.log(`pass ${pass + 1}: ${ITEMS} items, ${(Math.floor((10 * records) / ITEMS) / 10).toFixed(1)} records per item; per item: CPU µs, wall µs`);
  for (const stage of STAGES) console.log(`  ${stage.padEnd(20)} ${micros(cpu.get(stage)!)} ${micros(wall.get(stage)!)}`);
  const cpuTotal = [...cpu.values()].reduce((sum, value) => sum + value, 0);
  const wallTotal = [...wall.values()].reduce((sum, value) => sum + value, 0);
  console.log(`  ${'total'.padEnd(20)} ${micros(cpuTotal)} ${micros(wallTotal)}`);
}
await runtime.close();
