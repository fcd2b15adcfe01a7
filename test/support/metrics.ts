/** Test helper: reads samples out of the Prometheus text exposition format that GET /metrics answers. */
import { expect } from 'chai';

export interface Sample {
  readonly labels: Record<string, string>;
  readonly value: number;
}

/** The samples of one metric. */
export function samples(text: string, name: string): Sample[] {
  const found: Sample[] = [];
  for (const line of text.split('\n')) {
    const match = /^([A-Za-z_:][A-Za-z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const labels: Record<string, string> = {};
    for (const pair of (match[2] ?? '').matchAll(/([A-Za-z_][A-Za-z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[pair[1] as string] = pair[2] as string;
    found.push({ labels, value: Number(match[3]) });
  }
  return found;
}

/** The value of the first sample of `name` that has all of `labels`. */
export function valueOf(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  return samples(text, name).find((sample) => Object.entries(labels).every(([key, value]) => sample.labels[key] === value))?.value;
}

export async function metricsText(url: string): Promise<string> {
  const response = await fetch(`${url}/metrics`);
  expect(response.status).to.equal(200);
  return response.text();
}
