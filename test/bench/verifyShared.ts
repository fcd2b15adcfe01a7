/** What the verification bench's processes (run.ts, verifyServer.ts, verifyChild.ts) agree on. */

/** What every seeded consent covers and every bench item asks: three questions of the screening pack, four datasets. */
export const BENCH_QUESTIONS = ['medical_arrears_now', 'electricity_arrears_now', 'water_arrears_now'] as const;
export const BENCH_PURPOSE = 'customer_screening';
export const BENCH_BANK = 'bench-bank';

/** A seeded consent: its subject and id (DIR/subjects.json). */
export interface Subject {
  readonly uscc: string;
  readonly consent_id: string;
}

/** The bank's credentials and the gateway's id (DIR/bank.json). */
export interface BenchBank {
  readonly participantId: string;
  readonly privateKeyPem: string;
  readonly certificatePem: string;
  readonly audience: string;
}

export interface PrepareFigures {
  enterprises: number;
  rows: number;
  loadSeconds: number;
  consents: number;
  consentSeconds: number;
  seconds: number;
  dataBytes: number;
}

export interface ServeFigures {
  /** Audit entries appended while serving, by kind, counted from audit.sqlite after the runtime closed. */
  appended: Record<string, number>;
  peakRssMiB: number;
  cpuSeconds: number;
}

export interface LoadFigures {
  items: number;
  requests: number;
  /** Seconds autocannon ran (from its first request to its last response). */
  seconds: number;
  signSeconds: number;
  status2xx: number;
  non2xx: number;
  errors: number;
  timeouts: number;
  /** Items answered / refused, counted in the response bodies. */
  answeredItems: number;
  refusedItems: number;
  /** The first non-2xx body, to say why. */
  firstFailure?: string;
  /** Latency in ms (autocannon's histogram, 1 ms resolution). */
  latency: { p50: number; p90: number; p99: number; max: number; mean: number };
}
