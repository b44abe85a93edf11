// Real values for path parameters, chosen by the resource the parameter names (the path segment before it).
import type { Objects } from './objects.js';
import { plainTemplate } from './routes.js';
import type { World } from './world.js';

/** Candidate real values for each parameter of a template: this cohort's objects first, then the other cohort's. */
export function realValues(template: string, w: World, o: Objects): Record<string, Array<string | number>> {
  const parts = plainTemplate(template).replace(/\{([^}]+)\}/g, ':$1').split('/');
  const out: Record<string, Array<string | number>> = {};
  parts.forEach((part, i) => {
    const m = /^:([A-Za-z0-9_]+)/.exec(part);
    if (!m) return;
    const name = m[1];
    const resource = (parts[i - 1] ?? '').replace(/\.[a-z]+$/, '');
    out[name] = pick(name, resource, w, o);
  });
  return out;
}

function pick(name: string, resource: string, w: World, o: Objects): Array<string | number> {
  switch (name) {
    case 'n':
      return [1, 2, 4];
    case 'threadId':
      return [o.threadId, o.threadOtherId];
    case 'postId':
      return [o.postId, o.postOtherId];
    case 'fileId':
      return o.fileId ? [o.fileId] : ['0123456789abcdef0123456789abcdef'];
    case 'token':
      return o.feedToken ? [o.feedToken] : ['x'.repeat(43)];
    case 'code':
      return [o.certificateCode];
    case 'slug':
      return ['strategic-planning', 'library-partnerships'];
  }
  switch (resource) {
    case 'cohorts':
      return [w.cohortA, w.cohortB];
    case 'bookings':
      return [o.bookingId, o.bookingOtherId];
    case 'sessions':
      return [o.sessionId, o.sessionOtherId];
    case 'threads':
      return [o.threadId, o.threadOtherId];
    case 'posts':
      return [o.postId, o.postOtherId];
    case 'submissions':
      return [o.submissionId, o.submissionOtherId];
    case 'members':
      return [o.memberId];
    case 'files':
      return o.fileId ? [o.fileId] : ['0123456789abcdef0123456789abcdef'];
    case 'certificates':
      return [o.certificateCode];
    case 'sign-in':
      return ['x'.repeat(43)];
  }
  return [1];
}
