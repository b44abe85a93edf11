// Every table as PostgreSQL sees it, as named exports, which is how drizzle-kit finds tables in a schema file.
// test/server/postgres.test.ts fails when a table of server/schema.ts is missing from this list.
import { postgresTables as t } from './schema-postgres.js';

export const {
  users, authSessions, signInLinks, apiTokens,
  courses, courseVersions, courseDrafts, courseAuthors,
  cohorts, cohortInstructors, enrolments, weekOverrides, weekOpenNotices,
  liveSessions, attendance, calendarFeeds,
  members, bookings, bookingAttempts, bookingEvents, orders, orderSeats,
  threads, posts, threadReads, discussionDigests,
  submissions, submissionVersions, submissionFiles, fileContents, reviews, extensions, dueReminders,
  certificates, signingKeys, certificateNudges,
  billingDocuments, documentCounters, paymentEvents,
  ltiPlatforms, ltiToolKeys, ltiLoginStates, ltiAccounts, ltiResourceLinks, ltiContexts, ltiLineItems, ltiScoreOutbox,
  outbox, jobLeases,
} = t;
