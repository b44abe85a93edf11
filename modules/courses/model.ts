// What a loaded course is (the Course the rest of the app reads) and the limits its content is checked against.

/** The currencies a price may be in (ISO 4217 codes, upper case); payments and bookings take the list from here. */
export const CURRENCIES = ['GBP', 'USD', 'EUR', 'CAD', 'AUD'] as const;
export type Currency = (typeof CURRENCIES)[number];
/** An amount in the currency's minor units (pence, cents), as ISO 4217 defines them. */
export interface Money { amountMinor: number; currency: Currency }
export interface Reading { title: string; url: string | null; note: string | null }
export interface Prompt { id: string; label: string; help: string | null; maxLength: number }
export interface AssignmentOption { id: string; label: string; description: string | null }
export interface UploadRule { maxBytes: number; types: string[] }
export interface Assignment {
  title: string;
  instructionsHtml: string;
  prompts: Prompt[];
  /** How many of `options` the learner picks; null exactly when the assignment has no options. */
  choose: number | null;
  options: AssignmentOption[];
  upload: UploadRule | null;
}
export interface Week {
  number: number;
  title: string;
  summary: string;
  markdown: string;
  html: string;
  readings: Reading[];
  assignment: Assignment | null;
  discussionPromptMarkdown: string | null;
  discussionPromptHtml: string | null;
}
/** ISO weekday: 1 = Monday … 7 = Sunday (luxon's `weekday`). */
export type Weekday = 1 | 2 | 3 | 4 | 5 | 6 | 7;
export interface SessionSlot { week: number; weekday: Weekday; time: string; durationMinutes: number; title: string }
export interface CertificateRules { assignments: 'all' | number; sessions: number; posts: number; hours: number }
export interface Course {
  slug: string;
  title: string;
  summary: string;
  descriptionHtml: string;
  audience: string | null;
  outcomes: string[];
  weekCount: number;
  weeks: Week[];
  hoursPerWeek: number;
  price: Money;
  releaseTime: string;
  review: 'instructor' | 'none';
  instructorSupportWeeks: number | null;
  sessions: SessionSlot[];
  certificate: CertificateRules | null;
}

export const SLUG_PATTERN = /^[a-z0-9][a-z0-9-]*$/;
export const ID_PATTERN = /^[a-z][a-z0-9-]*$/;
/** File types an assignment may accept, as lower-case extensions without the dot. */
export const UPLOAD_TYPES = ['pdf', 'docx', 'pptx', 'xlsx', 'png', 'jpg', 'txt'] as const;
export const DEFAULT_PROMPT_MAX_LENGTH = 5000;
export const MAX_WEEKS = 12;
