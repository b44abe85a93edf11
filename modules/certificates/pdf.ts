// The certificate PDF: pdf-lib, its text set by server/pdf-text.ts (embedded fonts chosen per character, so any name
// renders).
import { PDFDocument, rgb } from 'pdf-lib';
import { TextSetter } from '../../server/pdf-text.js';

export { fontsDir } from '../../server/pdf-text.js';

export interface CertificatePdfInput {
  code: string;
  learnerName: string;
  courseTitle: string;
  /** "2 March 2026 – 30 March 2026". */
  dates: string;
  hours: number;
  issuedOn: string;
  earned: 'on_time' | 'grace';
  verifyUrl: string;
  issuedAt: Date;
  revoked: { on: string; reason: string } | null;
}

/** Render a certificate as an A4 landscape PDF. */
export async function renderCertificatePdf(input: CertificatePdfInput): Promise<Uint8Array> {
  const doc = await PDFDocument.create();
  const title = `Certificate of completion: ${input.courseTitle}`;
  doc.setTitle(`${title} (${input.learnerName})`);
  doc.setSubject(`Certificate ${input.code}`);
  doc.setAuthor('Cohort Course');
  doc.setCreator('cohort-course');
  doc.setProducer('cohort-course (pdf-lib)');
  doc.setKeywords(['certificate', input.code]);
  doc.setCreationDate(input.issuedAt);
  doc.setModificationDate(input.issuedAt);

  const page = doc.addPage([841.89, 595.28]);
  const { width, height } = page.getSize();
  const ink = rgb(0.07, 0.15, 0.25);
  page.drawRectangle({ x: 24, y: 24, width: width - 48, height: height - 48, borderColor: ink, borderWidth: 2 });
  page.drawRectangle({ x: 32, y: 32, width: width - 64, height: height - 64, borderColor: ink, borderWidth: 0.5 });
  const text = new TextSetter(doc);
  const max = width - 140;

  if (input.revoked) {
    const red = rgb(0.69, 0, 0.13);
    await text.centred(page, `REVOKED on ${input.revoked.on}: this certificate is no longer valid.`, height - 55, 16, 'bold', max, red);
    await text.centred(page, `Reason: ${input.revoked.reason}`, height - 73, 11, 'regular', max, red);
  }
  await text.centred(page, 'Certificate of completion', 470, 32, 'bold', max, ink);
  await text.centred(page, 'This certifies that', 425, 14, 'regular', max);
  await text.centred(page, input.learnerName, 378, 34, 'bold', max, ink);
  await text.centred(page, 'has completed the live cohort course', 338, 14, 'regular', max);
  await text.centred(page, input.courseTitle, 300, 22, 'bold', max, ink);
  const hours = `${Number.isInteger(input.hours) ? input.hours : input.hours.toFixed(1)} hour${input.hours === 1 ? '' : 's'}`;
  await text.centred(page, `${input.dates} · ${hours} of study`, 266, 13, 'regular', max);
  await text.centred(page, input.earned === 'on_time' ? 'Completed on time' : 'Completed during the two-week grace period', 244, 12, 'regular', max);
  await text.centred(page, `Issued ${input.issuedOn}`, 150, 11, 'regular', max);
  await text.centred(page, `Certificate code: ${input.code}`, 130, 11, 'regular', max);
  await text.centred(page, `Verify at ${input.verifyUrl}`, 110, 11, 'regular', max, ink);
  return doc.save();
}
