// Every table of every module, for drizzle (queries) and drizzle-kit (migrations).
export * from './outbox-schema.js';
export * from '../modules/people/schema.js';
export * from '../modules/courses/schema.js';
export * from '../modules/cohorts/schema.js';
export * from '../modules/sessions/schema.js';
export * from '../modules/bookings/schema.js';
export * from '../modules/discussions/schema.js';
export * from '../modules/assignments/schema.js';
export * from '../modules/certificates/schema.js';
export * from '../modules/payments/schema.js';
export * from '../modules/lti/schema.js';
