// docs/data-catalog.md is exactly what the schemas generate.
import { expect } from 'chai';
import fs from 'node:fs';
import path from 'node:path';
import { renderDataCatalog } from '../../gateway/datasets/catalogDoc.js';
import { loadDatasetRegistry } from '../../gateway/datasets/registry.js';
import { packageRoot } from '../../gateway/paths.js';

describe('docs/data-catalog.md', () => {
  it('matches the schemas (regenerate with `npx gateway datasets doc > docs/data-catalog.md`)', () => {
    const registry = loadDatasetRegistry();
    const committed = fs.readFileSync(path.join(packageRoot, 'docs', 'data-catalog.md'), 'utf8');
    expect(committed).to.equal(renderDataCatalog(registry));
  });

  it('lists every field of every dataset with its Chinese name', () => {
    const rendered = renderDataCatalog(loadDatasetRegistry());
    for (const dataset of loadDatasetRegistry().datasets) {
      for (const field of dataset.fields) expect(rendered).to.contain(`| \`${field.name}\` | ${field.titleZh} |`);
    }
  });
});
