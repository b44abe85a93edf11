// Test helpers for assignments: a cohort with an instructor and learners, API callers, multipart bodies.
import type { TestApp } from '../helpers/app.js';
import { apiAs } from '../helpers/http.js';
import { enrolLearner, insertCohort, insertUser } from '../helpers/factories.js';

/** A cohort of `course` with its instructor and two learners, each with an API caller. */
export async function setupCohort(t: TestApp, opts: { course?: string; startDate?: string; timezone?: string } = {}) {
  const instructorUser = await insertUser(t, 'instructor', 'Ines Instructor');
  const { cohort } = await insertCohort(t, { course: opts.course, startDate: opts.startDate, timezone: opts.timezone, instructor: instructorUser.email });
  const learner = await enrolLearner(t, cohort.id, 'Lena Learner');
  const other = await enrolLearner(t, cohort.id, 'Otto Other');
  return {
    cohort,
    instructor: instructorUser,
    learner,
    other,
    asInstructor: apiAs(t.app, instructorUser.token),
    asLearner: apiAs(t.app, learner.token),
    asOther: apiAs(t.app, other.token),
    asAnon: apiAs(t.app, null),
  };
}

/** A multipart/form-data body with fields and at most one file. */
export function multipartBody(parts: { fields?: Record<string, string | string[]>; file?: { field?: string; name: string; content: Buffer | string; type?: string } }) {
  const boundary = `----cc${Math.random().toString(16).slice(2)}`;
  const chunks: Buffer[] = [];
  for (const [k, v] of Object.entries(parts.fields ?? {})) {
    for (const item of Array.isArray(v) ? v : [v]) {
      chunks.push(Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${k}"\r\n\r\n${item}\r\n`));
    }
  }
  if (parts.file) {
    const f = parts.file;
    chunks.push(
      Buffer.from(
        `--${boundary}\r\nContent-Disposition: form-data; name="${f.field ?? 'file'}"; filename="${f.name}"\r\nContent-Type: ${f.type ?? 'application/octet-stream'}\r\n\r\n`,
      ),
    );
    chunks.push(Buffer.isBuffer(f.content) ? f.content : Buffer.from(f.content));
    chunks.push(Buffer.from('\r\n'));
  }
  chunks.push(Buffer.from(`--${boundary}--\r\n`));
  return { payload: Buffer.concat(chunks), contentType: `multipart/form-data; boundary=${boundary}` };
}

/** Upload a file through the API as a token holder. */
export function uploadAs(t: TestApp, token: string | null, cohortId: number, week: number, file: { name: string; content: Buffer | string }) {
  const body = multipartBody({ file });
  return t.app.inject({
    method: 'POST',
    url: `/api/v1/cohorts/${cohortId}/weeks/${week}/submission/files`,
    payload: body.payload,
    headers: { 'content-type': body.contentType, ...(token ? { authorization: `Bearer ${token}` } : {}) },
  });
}

/** A small valid-looking PDF (the magic bytes are what the upload checks). */
export const PDF_BYTES = Buffer.from('%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n');
/** A PNG signature and a little more. */
export const PNG_BYTES = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), Buffer.alloc(32, 1)]);
/** A ZIP local-file header, as .docx files start. */
export const DOCX_BYTES = Buffer.concat([Buffer.from([0x50, 0x4b, 0x03, 0x04]), Buffer.alloc(64, 2)]);
