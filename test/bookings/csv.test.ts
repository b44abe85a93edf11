// The member CSV import (report of rows accepted and refused) and the bookings CSV export.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../helpers/app.js';
import { insertUser } from '../helpers/factories.js';
import { apiAs } from '../helpers/http.js';
import { parseCsv } from '../../modules/bookings/csv.js';
import { addr, NOW, setup } from './setup.js';

let t: TestApp;
beforeEach(async () => {
  t = await createTestApp({ now: NOW });
});
afterEach(async () => t.close());

function importCsv(token: string | null, csv: string, contentType = 'text/csv') {
  return t.app.inject({
    method: 'POST',
    url: '/api/v1/members/import',
    payload: contentType === 'application/json' ? JSON.stringify({ csv }) : csv,
    headers: { 'content-type': contentType, ...(token ? { authorization: `Bearer ${token}` } : {}) },
  });
}

describe('member CSV import', () => {
  it('reports every row as accepted or refused with a reason, and adds only the accepted ones', async () => {
    const s = await setup(t);
    await s.asAdmin('POST', '/api/v1/members', { email: 'already@town.example' });
    const csv = [
      'Email,Domain,Note',
      'ada@town.example,,first',
      ',county-library.example,whole county',
      ',@Branch.Example,with an at sign',
      'not-an-address@,,',
      ',gmail.com,public provider',
      'ADA@town.example,,again',
      'already@town.example,,on the list',
      '',
      ',,just a note',
      '"quoted@town.example",,"a, note with a comma"',
      ',not_a_domain,',
    ].join('\r\n');
    const res = await importCsv(s.admin.token, csv);
    expect(res.statusCode).toBe(200);
    const report = res.json();
    expect(report.accepted).toEqual([
      { row: 2, value: 'ada@town.example', type: 'email' },
      { row: 3, value: 'county-library.example', type: 'domain' },
      { row: 4, value: 'branch.example', type: 'domain' },
      { row: 11, value: 'quoted@town.example', type: 'email' },
    ]);
    expect(report.refused).toEqual([
      { row: 5, value: 'not-an-address@', reason: 'not a valid email address' },
      { row: 6, value: 'gmail.com', reason: expect.stringContaining('public mail provider') },
      { row: 7, value: 'ADA@town.example', reason: 'duplicate of row 2' },
      { row: 8, value: 'already@town.example', reason: 'already on the member list' },
      { row: 10, value: ',,just a note', reason: 'no address or domain in the expected column' },
      { row: 12, value: 'not_a_domain', reason: expect.stringContaining('is not a domain') },
    ]);
    const list = (await s.asAdmin('GET', '/api/v1/members')).json().map((m: { email: string | null; domain: string | null }) => m.email ?? m.domain);
    expect(list.sort()).toEqual(['ada@town.example', 'already@town.example', 'branch.example', 'county-library.example', 'quoted@town.example']);
    // Imported members can book free at once.
    expect((await s.book(addr('x', 'county-library.example'), 'member')).json().status).toBe('confirmed');
  });

  it('takes JSON { csv } too, and a file without a header (one value per row)', async () => {
    const s = await setup(t);
    const res = await importCsv(s.admin.token, 'one@a.example\ntwo.example\n', 'application/json');
    expect(res.statusCode).toBe(200);
    expect(res.json().accepted.map((r: { value: string }) => r.value)).toEqual(['one@a.example', 'two.example']);
    expect(res.json().refused).toEqual([]);
    const semi = await importCsv(s.admin.token, '\uFEFFemail;name\nthree@a.example;Three\n');
    expect(semi.json().accepted).toEqual([{ row: 2, value: 'three@a.example', type: 'email' }]);
  });

  it('only admins import; other bodies and oversized files are refused', async () => {
    const s = await setup(t);
    const learner = await insertUser(t, 'learner');
    expect((await importCsv(learner.token, 'a@b.example')).statusCode).toBe(403);
    expect((await importCsv(null, 'a@b.example')).statusCode).toBe(401);
    expect((await importCsv(s.admin.token, 'a@b.example', 'text/plain')).statusCode).toBe(415);
    const wrong = await s.asAdmin('POST', '/api/v1/members/import', { rows: ['a@b.example'] });
    expect(wrong.statusCode).toBe(400);
    const huge = Array.from({ length: 10_002 }, (_, i) => `p${i}@big.example`).join('\n');
    const tooMany = await importCsv(s.admin.token, huge);
    expect(tooMany.statusCode).toBe(413);
    expect(tooMany.json().detail).toContain('at most 10000');
    expect((await s.asAdmin('GET', '/api/v1/members')).json()).toEqual([]);
  });
});

describe('bookings CSV export', () => {
  it('lists every booking with kind, status, price and payment reference', async () => {
    const s = await setup(t, { capacity: 2 });
    await s.asAdmin('POST', '/api/v1/members', { domain: 'members.example' });
    const m = (await s.book(addr('m', 'members.example'), 'member', { certificate: false })).json();
    const p = (await s.anon('POST', `/api/v1/cohorts/${s.cohort.id}/bookings`, { email: addr(), name: 'Smith, Jo', kind: 'standalone' })).json();
    await s.asAdmin('POST', `/api/v1/bookings/${p.id}/payments`, { reference: 'PO-2026-17' });
    const w = (await s.anon('POST', `/api/v1/cohorts/${s.cohort.id}/bookings`, { email: addr(), name: '=HYPERLINK("http://evil")', kind: 'standalone' })).json();
    const res = await s.asAdmin('GET', `/api/v1/cohorts/${s.cohort.id}/bookings.csv`);
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('text/csv; charset=utf-8');
    expect(res.headers['content-disposition']).toContain(`attachment; filename="bookings-cohort-${s.cohort.id}-strategic-planning.csv"`);
    const rows = parseCsv(res.body.trimEnd());
    expect(rows[0]).toEqual(['booking_id', 'booked_at', 'name', 'email', 'kind', 'status', 'price', 'currency', 'payment_reference', 'paid_at', 'certificate', 'waitlist_position', 'refund']);
    expect(rows.slice(1)).toEqual([
      [String(m.id), NOW, m.name, m.email, 'member', 'confirmed', '0.00', 'GBP', '', '', 'no', '', 'none'],
      [String(p.id), NOW, 'Smith, Jo', p.email, 'standalone', 'confirmed', '195.00', 'GBP', 'PO-2026-17', NOW, 'yes', '', 'none'],
      // A name that looks like a spreadsheet formula is defused.
      [String(w.id), NOW, `'=HYPERLINK("http://evil")`, w.email, 'standalone', 'waitlisted', '195.00', 'GBP', '', '', 'yes', '1', 'none'],
    ]);
  });

  it('is for admins only, of a cohort that exists', async () => {
    const s = await setup(t);
    expect((await apiAs(t.app, (await insertUser(t, 'learner')).token)('GET', `/api/v1/cohorts/${s.cohort.id}/bookings.csv`)).statusCode).toBe(403);
    expect((await apiAs(t.app, s.instructor.token)('GET', `/api/v1/cohorts/${s.cohort.id}/bookings.csv`)).statusCode).toBe(403);
    expect((await s.anon('GET', `/api/v1/cohorts/${s.cohort.id}/bookings.csv`)).statusCode).toBe(401);
    expect((await s.asAdmin('GET', '/api/v1/cohorts/999/bookings.csv')).statusCode).toBe(404);
  });
});
