// The words of the rendered report: every band value of the catalog has its Chinese label, and every status a reader
// must know about (unknown, stale, disputed) is said.
import { expect } from 'chai';
import { loadQuestionCatalog } from '../../gateway/policies/index.js';
import { answerStatus, answerText, BAND_LABELS } from '../../gateway/reports/index.js';

describe('report rendering words', function () {
  it('has a Chinese label for every band value of the catalog', function () {
    for (const question of loadQuestionCatalog().questions) {
      if (question.answer.type !== 'band') continue;
      for (const value of question.answer.values) {
        expect(BAND_LABELS[value], `${question.id}: ${value}`).to.match(/\p{Script=Han}|\d/u);
        expect(answerText(value)).to.equal(BAND_LABELS[value]);
      }
    }
  });

  it('says yes, no and unknown in Chinese', function () {
    expect([answerText(true), answerText(false), answerText('unknown')]).to.deep.equal(['是', '否', '未知']);
  });

  it('names every status of an answer, and 正常 only when there is none', function () {
    const base = { id: 'q', version: 1, definition_hash: 'h' };
    expect(answerStatus({ ...base, answer: true, stale: false })).to.equal('正常');
    expect(answerStatus({ ...base, answer: 'unknown', stale: false })).to.equal('无可用数据');
    expect(answerStatus({ ...base, answer: false, stale: true, disputed: true })).to.equal('数据已过期；存在异议');
  });
});
