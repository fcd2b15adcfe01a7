// Credit report templates: the templates in policies/reports load, one per lending stage, every question allowing
// its stage; the hash is the SHA-256 of the file's RFC 8785 form; broken template sets are refused with an error
// naming the file and the fault.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import canonicalize from 'canonicalize';
import { expect } from 'chai';
import { sha256Hex } from '../../gateway/crypto/index.js';
import { GatewayError } from '../../gateway/errors/index.js';
import { PURPOSES, loadQuestionCatalog, loadReportTemplates, policiesDir } from '../../gateway/policies/index.js';

const catalog = loadQuestionCatalog();

function templatesIn(files: Record<string, unknown>): () => unknown {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'report-templates-'));
  fs.mkdirSync(path.join(dir, 'reports'));
  for (const [name, content] of Object.entries(files)) {
    fs.writeFileSync(path.join(dir, 'reports', name), typeof content === 'string' ? content : JSON.stringify(content));
  }
  return () => {
    try {
      return loadReportTemplates(catalog, dir);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  };
}

const valid = {
  id: 'screening', version: 1, stage: 'customer_screening',
  title: { zh: '筛选', en: 'Screening' }, description: { zh: '说明', en: 'About' },
  sections: [{ heading: { zh: '社会保险', en: 'Social insurance' }, questions: ['medical_arrears_now'] }],
};

function expectRefused(load: () => unknown, ...fragments: string[]): void {
  let caught: unknown;
  try {
    load();
  } catch (error) {
    caught = error;
  }
  expect(caught).to.be.instanceOf(GatewayError);
  expect((caught as GatewayError).code).to.equal('invalid_configuration');
  for (const fragment of fragments) expect((caught as GatewayError).message).to.include(fragment);
}

describe('report templates', () => {
  describe('the templates in policies/reports', () => {
    const templates = loadReportTemplates(catalog);

    it('has one template for each lending stage', () => {
      expect(templates.templates.map((template) => template.stage).sort()).to.deep.equal([...PURPOSES].sort());
    });

    it('names only questions that allow the template\'s stage, each once, under headings in Chinese and English', () => {
      for (const template of templates.templates) {
        const ids = template.questions.map((question) => question.id);
        expect(new Set(ids).size, template.id).to.equal(ids.length);
        for (const id of ids) expect(catalog.allowsPurpose(id, template.stage), `${template.id}: ${id}`).to.equal(true);
        for (const section of template.sections) expect(section.heading.zh).to.match(/\p{Script=Han}/u);
      }
    });

    it('hashes each template as the SHA-256 of its canonical JSON', () => {
      for (const template of templates.templates) {
        const file = JSON.parse(fs.readFileSync(path.join(policiesDir, 'reports', `${template.id}.v${template.version}.json`), 'utf8')) as object;
        expect(template.definitionHash).to.equal(sha256Hex(canonicalize(file) as string));
      }
    });

    it('answers not_found for a template it does not have', () => {
      expect(() => templates.get('no_such_template')).to.throw(GatewayError).with.property('code', 'not_found');
    });
  });

  describe('refuses', () => {
    it('a question that is not in the catalog', () => {
      expectRefused(templatesIn({ 'screening.v1.json': { ...valid, sections: [{ ...valid.sections[0], questions: ['no_such_question'] }] } }),
        'screening.v1.json', '"no_such_question"');
    });

    it('a question that does not allow the stage', () => {
      expectRefused(templatesIn({ 'screening.v1.json': { ...valid, sections: [{ ...valid.sections[0], questions: ['medical_headcount_band'] }] } }),
        'medical_headcount_band', 'customer_screening');
    });

    it('a question named in two sections', () => {
      const section = valid.sections[0];
      expectRefused(templatesIn({ 'screening.v1.json': { ...valid, sections: [section, section] } }), 'appears twice');
    });

    it('a file named for another id or version', () => {
      expectRefused(templatesIn({ 'screening.v2.json': valid }), 'screening.v2.json', 'must be named screening.v1.json');
    });

    it('an unknown member', () => {
      expectRefused(templatesIn({ 'screening.v1.json': { ...valid, threshold: 1000 } }), 'unknown member "threshold"');
    });

    it('an unknown stage', () => {
      expectRefused(templatesIn({ 'screening.v1.json': { ...valid, stage: 'collections' } }), 'screening.v1.json', '/stage');
    });

    it('a file that is not JSON', () => {
      expectRefused(templatesIn({ 'screening.v1.json': '{"id":' }), 'not valid JSON');
    });

    it('an empty directory', () => {
      expectRefused(templatesIn({}), 'no report templates');
    });
  });
});
