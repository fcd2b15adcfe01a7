/** Test helper: the text of a PDF as pdftotext (poppler-utils, installed by .ci/run) reads it back. */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

/** Writes the PDF into `dir` and returns its text, laid out as on the page. */
export function pdfText(pdf: Buffer, dir: string): string {
  const file = path.join(dir, `read-${createHash('sha256').update(pdf).digest('hex').slice(0, 12)}.pdf`);
  fs.writeFileSync(file, pdf);
  return execFileSync('pdftotext', ['-enc', 'UTF-8', '-layout', file, '-'], { encoding: 'utf8' });
}
