// Pins the USCC (GB 32100, mod-31) and resident ID (GB 11643, ISO 7064 MOD 11-2) checks against public examples and the usual mistakes.
import { expect } from 'chai';
import {
  isValidResidentId,
  isValidUscc,
  residentIdCheckCharacter,
  usccCheckCharacter,
} from '../../gateway/identifiers/index.js';

describe('identifiers', () => {
  describe('Unified Social Credit Code', () => {
    it('accepts the public examples and computes their check characters', () => {
      for (const code of ['91350100M000100Y43', '91110108722619411A', '91370102MA3M9XQ1L1']) {
        expect(isValidUscc(code), code).to.equal(true);
        expect(usccCheckCharacter(code.slice(0, 17)), code).to.equal(code.charAt(17));
      }
    });

    it('rejects a wrong check character', () => {
      expect(isValidUscc('91310115MA1H8R7C6D')).to.equal(false);
      // The same code with its correct check character passes: only the check character is wrong.
      expect(isValidUscc(`91310115MA1H8R7C6${usccCheckCharacter('91310115MA1H8R7C6')}`)).to.equal(true);
      expect(isValidUscc('91350100M000100Y44')).to.equal(false);
    });

    it('rejects lowercase letters and wrong lengths', () => {
      expect(isValidUscc('91110108722619411a')).to.equal(false);
      expect(isValidUscc('91350100m000100Y43')).to.equal(false);
      expect(isValidUscc('91350100M000100Y4')).to.equal(false);
      expect(isValidUscc('91350100M000100Y433')).to.equal(false);
      expect(isValidUscc('')).to.equal(false);
      expect(isValidUscc(' 91350100M000100Y43')).to.equal(false);
    });

    it('rejects the letters I, O, S, V and Z, which are not in the alphabet', () => {
      for (const letter of ['I', 'O', 'S', 'V', 'Z']) {
        const code = `91350100${letter}000100Y43`;
        expect(isValidUscc(code), code).to.equal(false);
      }
      expect(() => usccCheckCharacter('91350100O000100Y4')).to.throw(RangeError);
    });
  });

  describe('resident ID number', () => {
    it('accepts the public example and computes its check character', () => {
      expect(isValidResidentId('11010519491231002X')).to.equal(true);
      expect(residentIdCheckCharacter('11010519491231002')).to.equal('X');
      expect(isValidResidentId('370112197804123011')).to.equal(true);
    });

    it('rejects a wrong check digit', () => {
      expect(isValidResidentId('110105194912310021')).to.equal(false);
      expect(isValidResidentId('370112197804123012')).to.equal(false);
    });

    it('rejects an impossible birth date even with a correct check digit', () => {
      for (const first17 of ['11010519490230002', '11010519491331002', '11010519490100002', '37011220230229001']) {
        const id = first17 + residentIdCheckCharacter(first17);
        expect(isValidResidentId(id), id).to.equal(false);
      }
      // 2024-02-29 exists.
      const leap = '37011220240229001';
      expect(isValidResidentId(leap + residentIdCheckCharacter(leap))).to.equal(true);
    });

    it('rejects old 15-digit numbers, letters and a leading zero', () => {
      expect(isValidResidentId('110105491231002')).to.equal(false);
      expect(isValidResidentId('11010519491231A02X')).to.equal(false);
      const leadingZero = '01010519491231002';
      expect(isValidResidentId(leadingZero + residentIdCheckCharacter(leadingZero))).to.equal(false);
    });
  });
});
