/**
 * The credit report rendered for people: an A4 PDF in Chinese (pdfkit, with a CJK TrueType font from a Debian package,
 * embedded as a subset with its Unicode map so the text can be searched and read back). It shows what the signed
 * report says and nothing more: the enterprise's name and USCC, the stage, every answer with its data-as-of date and,
 * honestly, when it is unknown, stale or disputed; the consent it was made under; the audit index; and a QR code and
 * link to check the signature and the inclusion proof. The signed JWS stays the authoritative document: the PDF says
 * so, and prints the JWS's hash.
 *
 * The font is checked when the renderer is made (fail closed: a gateway that could not render its reports does not
 * start) and read once, on the first rendering.
 */
import fs from 'node:fs';
import PDFDocument from 'pdfkit';
import qrcode from 'qrcode-generator';
import { sha256Hex } from '../crypto/index.js';
import { GatewayError } from '../errors/index.js';
import { UNKNOWN } from '../policies/index.js';
import type { Answer, Purpose, ReportTemplates } from '../policies/index.js';
import type { GivenAnswer } from '../verification/answers.js';
import type { ReportBundle, ReportClaims } from './reports.js';

export interface ReportFont {
  /** A TrueType/OpenType font or collection with CJK glyphs. */
  readonly file: string;
  /** The PostScript name of the face to use in a collection (.ttc); ignored for a single font. */
  readonly name: string;
}

export interface ReportRenderer {
  /** The PDF of a report; `checkUrl` is the absolute link printed and encoded in the QR code. */
  render(report: { claims: ReportClaims; bundle: ReportBundle; signingKey: string }, checkUrl: string): Promise<Buffer>;
}

export const STAGE_NAMES: Readonly<Record<Purpose, string>> = {
  customer_screening: '客户筛选',
  pre_loan_investigation: '贷前调查',
  loan_approval: '贷中审批',
  post_loan_management: '贷后管理',
};

/** Chinese for every band value of the catalog (a test checks that none is missing). */
export const BAND_LABELS: Readonly<Record<string, string>> = {
  under_10: '10人以下', '10_to_49': '10–49人', '50_to_199': '50–199人', '200_or_more': '200人及以上',
  decline_over_20pct: '下降超过20%', stable: '基本稳定', growth_over_20pct: '增长超过20%',
  none: '无', once: '1次', two_to_three: '2–3次', four_or_more: '4次及以上',
  under_100_kva: '100千伏安以下', '100_to_500_kva': '100–500千伏安', '500_to_1000_kva': '500–1000千伏安', '1000_kva_or_more': '1000千伏安及以上',
  under_50_mu: '50亩以下', '50_to_200_mu': '50–200亩', '200_to_500_mu': '200–500亩', '500_mu_or_more': '500亩及以上',
  under_1_year: '不满1年', '1_to_3_years': '1–3年', '3_to_5_years': '3–5年', '5_years_or_more': '5年及以上',
  family_farm: '家庭农场', cooperative: '农民专业合作社', agri_enterprise: '农业企业', large_grower: '种植大户', service_organization: '农业社会化服务组织',
};

export function answerText(answer: Answer): string {
  if (answer === true) return '是';
  if (answer === false) return '否';
  if (answer === UNKNOWN) return '未知';
  return BAND_LABELS[answer] ?? answer;
}

/** What a reader must know about an answer besides its value. */
export function answerStatus(answer: GivenAnswer): string {
  const notes: string[] = [];
  if (answer.answer === UNKNOWN) notes.push('无可用数据');
  if (answer.stale) notes.push('数据已过期');
  if (answer.disputed) notes.push('存在异议');
  return notes.length === 0 ? '正常' : notes.join('；');
}

const shanghaiTime = new Intl.DateTimeFormat('zh-CN', {
  timeZone: 'Asia/Shanghai', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit', hour12: false,
});

function inShanghai(iso: string): string {
  return `${shanghaiTime.format(new Date(iso))}（北京时间）`;
}

/** The first bytes of a TrueType ('\0\1\0\0', 'true'), OpenType ('OTTO') or collection ('ttcf') font. */
function isFontFile(header: Buffer): boolean {
  const tag = header.toString('latin1');
  return tag === 'ttcf' || tag === 'OTTO' || tag === 'true' || header.equals(Buffer.from([0, 1, 0, 0]));
}

/** Refuses (report_pdf_unavailable, naming the file and the remedy) a font that is missing or not a font. */
function checkFont(font: ReportFont): void {
  const remedy = 'install the Debian package fonts-wqy-zenhei (apt-get install fonts-wqy-zenhei) or set GATEWAY_REPORT_FONT to a CJK TrueType font';
  let header: Buffer;
  try {
    const fd = fs.openSync(font.file, 'r');
    try {
      header = Buffer.alloc(4);
      fs.readSync(fd, header, 0, 4, 0);
    } finally {
      fs.closeSync(fd);
    }
  } catch (cause) {
    throw new GatewayError('report_pdf_unavailable', `the report font ${font.file} cannot be read: ${remedy}`, { cause });
  }
  if (!isFontFile(header)) throw new GatewayError('report_pdf_unavailable', `${font.file} is not a TrueType or OpenType font: ${remedy}`);
}

const PAGE = { width: 595.28, height: 841.89, margin: 50 } as const;
const COLUMNS = [
  { title: '查询项目', width: 215 },
  { title: '结果', width: 95 },
  { title: '数据截至', width: 80 },
  { title: '说明', width: 105 },
] as const;

export function createReportRenderer(options: { font: ReportFont; templates: ReportTemplates }): ReportRenderer {
  let fontBytes: Buffer | undefined;

  return {
    // The font is checked per rendering, not at start: a machine without it still serves signed reports (the
    // evidence), only their PDF is refused until the font is installed.
    async render({ claims, bundle, signingKey }, checkUrl) {
      if (fontBytes === undefined) {
        checkFont(options.font);
        fontBytes = fs.readFileSync(options.font.file);
      }
      const template = options.templates.get(claims.template.id);
      const doc = new PDFDocument({
        size: 'A4', margin: PAGE.margin, bufferPages: true,
        info: {
          Title: `${template.title.zh} ${claims.report_id}`, Author: String(claims.subject.name), Subject: claims.subject.uscc,
          Creator: 'credit-data-gateway', CreationDate: new Date(claims.generated_at),
        },
      });
      const chunks: Buffer[] = [];
      doc.on('data', (chunk: Buffer) => chunks.push(chunk));
      const finished = new Promise<Buffer>((resolve, reject) => {
        doc.on('end', () => resolve(Buffer.concat(chunks)));
        doc.on('error', reject);
      });
      doc.registerFont('cjk', fontBytes, options.font.file.endsWith('.ttc') ? options.font.name : undefined);
      doc.font('cjk');
      const left = PAGE.margin;
      const width = PAGE.width - 2 * PAGE.margin;
      const ensureRoom = (height: number) => {
        if (doc.y + height > PAGE.height - PAGE.margin - 20) doc.addPage();
      };
      const field = (label: string, value: string, fieldWidth: number = width) => {
        doc.fontSize(10).fillColor('#555555').text(`${label}：`, left, doc.y, { continued: true, width: fieldWidth }).fillColor('#000000').text(value);
      };

      doc.fontSize(18).text(template.title.zh, { align: 'center' });
      doc.moveDown(0.3).fontSize(9).fillColor('#555555').text(`报告编号 ${claims.report_id}`, { align: 'center' }).fillColor('#000000');
      doc.moveDown(0.8);
      field('企业名称', claims.subject.name);
      field('统一社会信用代码', claims.subject.uscc);
      field('业务阶段', `${STAGE_NAMES[claims.stage as Purpose] ?? claims.stage}（${claims.stage}）`);
      field('查询机构', String((claims as unknown as { aud: string }).aud));
      field('经办人', claims.officer);
      field('业务编号', claims.loan_reference);
      field('评估日期', claims.as_of);
      field('生成时间', inShanghai(claims.generated_at));
      field('报告模板', `${template.id} 第${claims.template.version}版，摘要 ${claims.template.definition_hash.slice(0, 16)}…`);

      if (claims.disputed) {
        doc.moveDown(0.6);
        const y = doc.y;
        doc.rect(left, y, width, 34).fillAndStroke('#fff4e5', '#d9822b');
        doc.fillColor('#8a4b00').fontSize(10).text(
          '注意：本报告中标为“存在异议”的回答所依据的数据，企业已提出异议且尚在处理中。异议处理完毕后，数据如有更正，网关将通知已获得该回答的机构。',
          left + 8, y + 6, { width: width - 16 },
        ).fillColor('#000000');
        doc.y = y + 40;
      }

      for (const section of template.sections) {
        doc.moveDown(0.8);
        ensureRoom(60);
        doc.fontSize(13).text(section.heading.zh, left, doc.y);
        doc.moveDown(0.3);
        let x = left;
        const headerY = doc.y;
        doc.fontSize(9).fillColor('#555555');
        for (const column of COLUMNS) {
          doc.text(column.title, x, headerY, { width: column.width - 6 });
          x += column.width;
        }
        doc.fillColor('#000000');
        doc.moveTo(left, doc.y + 2).lineTo(left + width, doc.y + 2).strokeColor('#999999').stroke();
        doc.y += 5;
        for (const question of section.questions) {
          const given = claims.answers.find((answer) => answer.id === question.id);
          if (!given) throw new GatewayError('internal_error', `the report holds no answer to ${question.id}`);
          const cells = [question.title.zh, answerText(given.answer), given.data_as_of ?? '—', answerStatus(given)];
          doc.fontSize(10);
          const height = Math.max(...cells.map((cell, column) => doc.heightOfString(cell, { width: COLUMNS[column]!.width - 6 }))) + 6;
          ensureRoom(height);
          const rowY = doc.y;
          x = left;
          cells.forEach((cell, column) => {
            const emphasised = column === 3 && cell !== '正常';
            doc.fillColor(emphasised ? '#b00020' : '#000000').text(cell, x, rowY, { width: COLUMNS[column]!.width - 6 });
            x += COLUMNS[column]!.width;
          });
          doc.fillColor('#000000');
          doc.y = rowY + height;
          doc.moveTo(left, doc.y - 3).lineTo(left + width, doc.y - 3).strokeColor('#e0e0e0').stroke();
        }
      }

      doc.moveDown(0.8);
      ensureRoom(90);
      doc.fontSize(13).text('说明', left, doc.y);
      doc.moveDown(0.2).fontSize(9).text([
        '本报告只包含对固定问题的回答，不包含任何原始数据；阈值与时间窗口由问题定义确定，查询方不能选择。',
        '“未知”表示网关没有可回答该问题的记录：无数据不等于“否”。',
        '“数据已过期”表示数据截至日期早于该问题允许的时限，回答可能已不反映现状。',
        '“存在异议”表示企业对所依据的数据提出了异议，尚在处理中（异议处理时限见 docs/objections.md）。',
      ].join('\n'), { width });

      doc.moveDown(0.8);
      ensureRoom(80);
      doc.fontSize(13).text('授权', left, doc.y);
      doc.moveDown(0.2);
      field('授权编号', claims.consent.consent_id);
      field('授权用途', `${STAGE_NAMES[claims.consent.purpose as Purpose] ?? claims.consent.purpose}（${claims.consent.purpose}）`);
      field('授权到期', inShanghai(claims.consent.expires_at));
      field('授权文件 SHA-256', claims.consent.artefact_sha256);

      doc.moveDown(0.8);
      const proof = bundle.audit.inclusion_proof;
      ensureRoom(200);
      doc.fontSize(13).text('签名与审计', left, doc.y);
      doc.moveDown(0.2);
      const qrTop = doc.y;
      field('审计日志序号', String(claims.audit.index), width - 130);
      field('审计记录哈希', claims.audit.leaf_hash, width - 130);
      field('检查点', `树大小 ${proof.tree_size}，根哈希 ${proof.root_hash}`, width - 130);
      field('签名密钥', signingKey, width - 130);
      field('报告 JWS 的 SHA-256', sha256Hex(bundle.report), width - 130);
      doc.moveDown(0.3).fontSize(9).text(
        '具有法律效力的是网关签名的 JWS（类型 gateway-report+jwt）；本 PDF 为其可读版本。扫描二维码或访问下方链接，可核验签名与审计日志包含证明；'
        + '保存的报告文件可离线核验：gateway report verify <文件>。',
        left, doc.y, { width: width - 130 },
      );
      doc.moveDown(0.3).fontSize(8).fillColor('#1a4f9c').text(checkUrl, left, doc.y, { width: width - 130, link: checkUrl }).fillColor('#000000');

      const qr = qrcode(0, 'M');
      qr.addData(checkUrl);
      qr.make();
      const modules = qr.getModuleCount();
      const size = 110;
      const cell = size / modules;
      const qrLeft = left + width - size;
      for (let row = 0; row < modules; row++) {
        for (let column = 0; column < modules; column++) {
          if (qr.isDark(row, column)) doc.rect(qrLeft + column * cell, qrTop + row * cell, cell, cell).fill('#000000');
        }
      }

      const pages = doc.bufferedPageRange();
      for (let page = 0; page < pages.count; page++) {
        doc.switchToPage(pages.start + page);
        // Inside the bottom margin, where pdfkit would otherwise start a new page.
        doc.page.margins.bottom = 0;
        doc.fontSize(8).fillColor('#777777').text(
          `${template.title.zh} · ${claims.report_id} · 第 ${page + 1} 页，共 ${pages.count} 页`,
          left, PAGE.height - PAGE.margin + 10, { width, align: 'center', lineBreak: false },
        );
      }
      doc.end();
      return finished;
    },
  };
}
