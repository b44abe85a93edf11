// The certificates module's shapes, and what its use cases receive: the typed dependencies (infrastructure and the
// services of the modules progress is read from).
import type { Infrastructure } from '../../server/infrastructure.js';
import type { Db } from '../../server/db.js';
import type { AssignmentService } from '../assignments/service.js';
import type { CohortService, Cohort } from '../cohorts/service.js';
import type { CourseService } from '../courses/service.js';
import type { DiscussionService } from '../discussions/service.js';
import type { PeopleService } from '../people/service.js';
import type { SessionService } from '../sessions/service.js';
import type { AttendanceProgress, Evaluation, WeekProgress } from './rules.js';
import type { DataIntegrityProof } from './signing.js';
import type { StatusEntry } from './status-list.js';
import type { certificates } from './schema.js';

declare module '../../server/events.js' {
  interface DomainEvents {
    /**
     * An admin issued a certificate by hand or revoked one (inside that transaction). A certificate earned by the rules
     * is issued inside 'progress.changed' itself, so reactions to that event already see it.
     */
    'certificate.changed': { cohortId: number; userId: number; change: 'issued' | 'revoked' };
  }
}

/** What the certificate service is built from. */
export interface CertificateDeps extends Infrastructure {
  people: PeopleService;
  courses: CourseService;
  cohorts: CohortService;
  assignments: AssignmentService;
  sessions: SessionService;
  discussions: DiscussionService;
}

export type CertificateRow = typeof certificates.$inferSelect;

/**
 * Where progress comes from: the assignments, sessions and discussions services (tests may substitute). Every source
 * reads through `tx`: the transaction it runs in, or the read connection outside one.
 */
export interface ProgressSources {
  weekStatuses(tx: Db, cohortId: number, userId: number): Promise<WeekProgress[]>;
  /** The learner's own grace end (an extension may move it). */
  graceEndsAt(tx: Db, cohortId: number, userId: number): Promise<Date>;
  attendance(tx: Db, cohortId: number, userId: number): Promise<AttendanceProgress>;
  posts(tx: Db, cohortId: number, userId: number): Promise<number>;
  /**
   * The same four sources for every learner of one cohort, read in a few queries up front (whole-cohort checks: the
   * staff grid, "who is behind", the sweep). Optional: without it each learner is read on their own.
   */
  forCohort?(tx: Db, cohort: Cohort): Promise<CohortSources>;
}

/** Per-learner sources for one cohort (answered from data read once when there is a batch reader). */
export interface CohortSources {
  weekStatuses(userId: number): Promise<WeekProgress[]>;
  graceEndsAt(userId: number): Promise<Date>;
  attendance(userId: number): Promise<AttendanceProgress>;
  posts(userId: number): Promise<number>;
}

export interface LearnerProgress {
  userId: number;
  name: string;
  email: string;
  timezone: string | null;
  certificateWanted: boolean;
  graceEndsAt: Date;
  weeks: WeekProgress[];
  evaluation: Evaluation;
  /** The valid certificate, if any. */
  certificate: CertificateRow | null;
  /** The latest revoked one when there is no valid one. */
  revoked: CertificateRow | null;
}

export interface CertificateDoc {
  code: string;
  learner: string;
  course: string;
  courseSlug: string;
  cohort: { id: number; startDate: string; endsAt: string; timezone: string };
  hours: number;
  issuedAt: string;
  status: 'valid' | 'revoked';
  earned: 'on_time' | 'grace';
  issued: 'auto' | 'manual';
  revokedAt: string | null;
  revocationReason: string | null;
  verifyUrl: string;
  pdfUrl: string;
  credentialUrl: string;
  /** The credential's entry in the revocation status list (null only before the start-up upgrade gave it one). */
  credentialStatus: StatusEntry | null;
  proof: DataIntegrityProof;
}

/** The public addresses of a certificate. */
export function certificateUrls(baseUrl: string, code: string) {
  return {
    verifyUrl: `${baseUrl}/certificates/${code}`,
    pdfUrl: `${baseUrl}/certificates/${code}.pdf`,
    credentialUrl: `${baseUrl}/api/v1/certificates/${code}/credential.json`,
  };
}
