// The retention schedule loads, hashed, from policies/retention.json; the schema refuses evidence kept fewer than 5
// years, and the loader refuses a dataset without a period or one the catalog does not know.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { packageRoot } from '../../gateway/paths.js';
import { loadRetentionPolicy } from '../../gateway/retention/policy.js';

const DEFAULT_FILE = path.join(packageRoot, 'policies', 'retention.json');

function writePolicy(change: (policy: { evidence_years: number; datasets: Record<string, unknown> }) => void): string {
  const policy = JSON.parse(fs.readFileSync(DEFAULT_FILE, 'utf8')) as { evidence_years: number; datasets: Record<string, unknown> };
  change(policy);
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'gateway-retention-policy-')), 'retention.json');
  fs.writeFileSync(file, JSON.stringify(policy));
  return file;
}

describe('retention policy', () => {
  it('loads the shipped schedule with a period for every dataset and evidence kept 5 years', () => {
    const policy = loadRetentionPolicy(DEFAULT_FILE);
    expect(policy.evidenceYears).to.be.at.least(5);
    expect(policy.years.get('medical_insurance_payments')).to.equal(5);
    expect(policy.years.get('land_transfers')).to.equal(10);
    expect(policy.sha256).to.match(/^[0-9a-f]{64}$/);
  });

  it('refuses evidence kept fewer than 5 years', () => {
    const file = writePolicy((policy) => {
      policy.evidence_years = 4;
    });
    expect(() => loadRetentionPolicy(file)).to.throw(/evidence_years/);
  });

  it('refuses a dataset without a period and one the catalog does not know', () => {
    const missing = writePolicy((policy) => {
      delete policy.datasets['gas_accounts'];
    });
    expect(() => loadRetentionPolicy(missing)).to.throw(/gas_accounts/);
    const unknown = writePolicy((policy) => {
      policy.datasets['gas_acounts'] = { years: 5 };
    });
    expect(() => loadRetentionPolicy(unknown)).to.throw(/gas_acounts/);
  });
});
