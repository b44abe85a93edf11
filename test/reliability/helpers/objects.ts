// Real objects in this cohort (A), made through the JSON API as integrations would: their ids fill path templates.
import { expect } from 'vitest';
import { apiAs } from '../../helpers/http.js';
import type { World } from './world.js';

export interface Objects {
  /** A learner's standalone booking in A (pending payment), by the admin. */
  bookingId: number;
  /** A booking in the other cohort (B). */
  bookingOtherId: number;
  sessionId: number;
  sessionOtherId: number;
  /** A learner-started thread in A, with one post by `learner`. */
  threadId: number;
  postId: number;
  threadOtherId: number;
  postOtherId: number;
  /** `learner`'s submitted week-1 work in A. */
  submissionId: number;
  submissionOtherId: number;
  memberId: number;
  certificateCode: string;
  fileId: string | null;
  feedToken: string | null;
}

/** Fail with the answer when a setup call does not succeed (a changed contract should be loud). */
function ok(res: { statusCode: number; body: string }, what: string) {
  expect(res.statusCode, `${what}: ${res.body.slice(0, 300)}`).toBeLessThan(300);
  return res.statusCode === 204 ? null : JSON.parse(res.body);
}

/** Make one object of every kind in cohort A (and a few in B) through the API. */
export async function seedObjects(w: World): Promise<Objects> {
  const app = w.t.app;
  const admin = apiAs(app, w.people.admin.token);
  const learner = apiAs(app, w.people.learner.token);
  const learnerOther = apiAs(app, w.people.learnerOther.token);

  const booking = ok(await admin('POST', `/api/v1/cohorts/${w.cohortA}/bookings`, { email: 'booked-a@example.org', name: 'Bea Booked', kind: 'standalone' }), 'booking A');
  const bookingOther = ok(await admin('POST', `/api/v1/cohorts/${w.cohortB}/bookings`, { email: 'booked-b@example.org', name: 'Bo Booked', kind: 'standalone' }), 'booking B');
  const sessions = ok(await admin('GET', `/api/v1/cohorts/${w.cohortA}/sessions`), 'sessions A');
  const sessionsOther = ok(await admin('GET', `/api/v1/cohorts/${w.cohortB}/sessions`), 'sessions B');
  const thread = ok(await learner('POST', `/api/v1/cohorts/${w.cohortA}/threads`, { title: 'Where do we start?', body: 'With the **users**.' }), 'thread A');
  const post = ok(await learner('POST', `/api/v1/threads/${thread.id}/posts`, { body: 'A reply from Lena.' }), 'post A');
  const threadOther = ok(await learnerOther('POST', `/api/v1/cohorts/${w.cohortB}/threads`, { title: 'Partners?', body: 'Who are yours?' }), 'thread B');
  const postOther = ok(await learnerOther('POST', `/api/v1/threads/${threadOther.id}/posts`, { body: 'A reply from Olu.' }), 'post B');
  const week1 = ok(await learner('GET', `/api/v1/cohorts/${w.cohortA}/weeks/1`), 'week 1 A');
  const answers = Object.fromEntries((week1.assignment?.prompts ?? []).map((p: { id: string }) => [p.id, `My answer to ${p.id}.`]));
  const submission = ok(await learner('PUT', `/api/v1/cohorts/${w.cohortA}/weeks/1/submission`, { answers, submit: true }), 'submission A');
  const week1Other = ok(await learnerOther('GET', `/api/v1/cohorts/${w.cohortB}/weeks/1`), 'week 1 B');
  const answersOther = Object.fromEntries((week1Other.assignment?.prompts ?? []).map((p: { id: string }) => [p.id, `Olu on ${p.id}.`]));
  const options = (week1Other.assignment?.options ?? []).slice(0, week1Other.assignment?.choose ?? 0).map((o: { id: string }) => o.id);
  const submissionOther = ok(
    await learnerOther('PUT', `/api/v1/cohorts/${w.cohortB}/weeks/1/submission`, { answers: answersOther, ...(options.length ? { options } : {}), submit: true }),
    'submission B',
  );
  const member = ok(await admin('POST', '/api/v1/members', { email: 'member-a@example.org' }), 'member');
  const certificate = ok(await admin('POST', `/api/v1/cohorts/${w.cohortA}/certificates`, { email: w.people.learner2.email }), 'certificate');

  // A file needs a week with uploads that is open to the learner; the world may stand before it.
  let fileId: string | null = null;
  const boundary = 'reliabilityboundary';
  const upload = await app.inject({
    method: 'POST',
    url: `/api/v1/cohorts/${w.cohortA}/weeks/4/submission/files`,
    headers: { authorization: `Bearer ${w.people.learner.token}`, 'content-type': `multipart/form-data; boundary=${boundary}` },
    payload: `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="plan.pdf"\r\nContent-Type: application/pdf\r\n\r\n%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\r\n--${boundary}--\r\n`,
  });
  if (upload.statusCode === 201) fileId = upload.json().id;

  const feed = await apiAs(app, w.people.learner.token)('POST', '/api/v1/calendar-feed');
  const feedToken = feed.statusCode === 201 ? (/\/calendar\/([A-Za-z0-9_-]+)\.ics/.exec(feed.json().url)?.[1] ?? null) : null;

  return {
    bookingId: booking.id,
    bookingOtherId: bookingOther.id,
    sessionId: sessions[0].id,
    sessionOtherId: sessionsOther[0].id,
    threadId: thread.id,
    postId: post.id,
    threadOtherId: threadOther.id,
    postOtherId: postOther.id,
    submissionId: submission.id,
    submissionOtherId: submissionOther.id,
    memberId: member.id,
    certificateCode: certificate.code,
    fileId,
    feedToken,
  };
}
