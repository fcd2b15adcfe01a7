/**
 * Summarises a V8 CPU profile (`node --cpu-prof`): the functions with the most self time, then the gateway's (and
 * express's, jose's, better-sqlite3's) functions with the most inclusive time. Sampled time is wall time on the main
 * thread: a synchronous call blocked in the kernel (an fsync under a SQLite commit) counts as its caller's self time.
 *
 *   node dist/test/bench/profileTop.js FILE.cpuprofile [count=25]
 */
import fs from 'node:fs';

interface ProfileNode {
  readonly id: number;
  readonly callFrame: { readonly functionName: string; readonly url: string; readonly lineNumber: number };
  readonly children?: readonly number[];
}

interface Profile {
  readonly nodes: readonly ProfileNode[];
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

const [file, countArgument] = process.argv.slice(2);
const count = Number(countArgument ?? 25);
const profile = JSON.parse(fs.readFileSync(file!, 'utf8')) as Profile;
const nodes = new Map(profile.nodes.map((node) => [node.id, node]));
const parents = new Map<number, number>();
for (const node of profile.nodes) for (const child of node.children ?? []) parents.set(child, node.id);

function label(node: ProfileNode): string {
  const where = node.callFrame.url.replace(/^file:\/\//, '').replace(/^.*?\/(dist|node_modules)\//, '$1/');
  return `${node.callFrame.functionName || '(anonymous)'} ${where}:${node.callFrame.lineNumber + 1}`;
}

const sampled = new Map<number, number>();
profile.samples.forEach((id, index) => sampled.set(id, (sampled.get(id) ?? 0) + (profile.timeDeltas[index] ?? 0)));
const self = new Map<string, number>();
const inclusive = new Map<string, number>();
let total = 0;
for (const [id, micros] of sampled) {
  total += micros;
  const own = label(nodes.get(id)!);
  self.set(own, (self.get(own) ?? 0) + micros);
  const seen = new Set<string>();
  for (let current: number | undefined = id; current !== undefined; current = parents.get(current)) {
    const name = label(nodes.get(current)!);
    if (seen.has(name)) continue;
    seen.add(name);
    inclusive.set(name, (inclusive.get(name) ?? 0) + micros);
  }
}

const line = ([name, micros]: [string, number]) =>
  `${String(Math.floor(micros / 1000)).padStart(8)} ms ${(Math.floor((1000 * micros) / total) / 10).toFixed(1).padStart(5)} %  ${name}`;
console.log(`${Math.floor(total / 1e3)} ms sampled`);
console.log('-- self time');
for (const entry of [...self].sort((a, b) => b[1] - a[1]).slice(0, count)) console.log(line(entry));
console.log('-- inclusive time, gateway and its libraries');
const ours = /^\S+ (dist\/gateway|node_modules\/(express|jose|better-sqlite3|router|body-parser|raw-body))/;
for (const entry of [...inclusive].filter(([name]) => ours.test(name)).sort((a, b) => b[1] - a[1]).slice(0, count)) console.log(line(entry));
