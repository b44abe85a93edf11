-- The page and access caches are gone (issue 20): their 86 version triggers, then (next migration) cache_versions.
DROP TRIGGER IF EXISTS `cohorts_cache_insert`;
--> statement-breakpoint
DROP TRIGGER IF EXISTS `cohorts_cache_update`;
--> statement-breakpoint
DROP TRIGGER IF EXISTS `cohorts_cache_delete`;
--> statement-breakpoint
DROP TRIGGER IF EXISTS `cohort_instructors_cache_insert`;
--> statement-breakpoint
DROP TRIGGER IF EXISTS `cohort_instructors_cache_update`;
--> statement-breakpoint
DROP TRIGGER IF EXISTS `cohort_instructors_cache_delete`;
--> statement-breakpoint
DROP TRIGGER IF EXISTS `enrolments_cache_insert`;
--> statement-breakpoint
DROP TRIGGER IF EXISTS `enrolments_cache_update`;
--> statement-breakpoint
DROP TRIGGER IF EXISTS `enrolments_cache_delete`;
--> statement-breakpoint
DROP TRIGGER IF EXISTS `week_overrides_cache_insert`;
--> statement-breakpoint
DROP TRIGGER IF EXISTS `week_overrides_cache_update`;
--> statement-breakpoint
DROP TRIGGER IF EXISTS `week_overrides_cache_delete`;
--> statement-breakpoint
DROP TRIGGER IF EXISTS `week_open_notices_cache_insert`;
--> statement-breakpoint
DROP TRIGGER IF EXISTS `week_open_notices_cache_update`;
--> statement-breakpoint
DROP TRIGGER IF EXISTS `week_open_notices_cache_delete`;
--> statement-breakpoint
DROP TRIGGER IF EXISTS `live_sessions_cache_insert`;
--> statement-breakpoint
DROP TRIGGER IF EXISTS `live_sessions_cache_update`;
--> statement-breakpoint
DROP TRIGGER IF EXISTS `live_sessions_cache_delete`;
--> statement-breakpoint
DROP TRIGGER IF EXISTS `bookings_cache_insert`;
--> statement-breakpoint
DROP TRIGGER IF EXISTS `bookings_cache_update`;
--> statement-breakpoint
DROP TRIGGER IF EXISTS `bookings_cache_delete`;
--> statement-breakpoint
DROP TRIGGER IF EXISTS `posts_cache_insert`;
--> statement-breakpoint
DROP TRIGGER IF EXISTS `posts_cache_update`;
--> statement-breakpoint
DROP TRIGGER IF EXISTS `posts_cache_delete`;
--> statement-breakpoint
DROP TRIGGER IF EXISTS `threads_cache_insert`;
--> statement-breakpoint
DROP TRIGGER IF EXISTS `threads_cache_update`;
--> statement-breakpoint
DROP TRIGGER IF EXISTS `threads_cache_delete`;
--> statement-breakpoint
DROP TRIGGER IF EXISTS `due_reminders_cache_insert`;
--> statement-breakpoint
DROP TRIGGER IF EXISTS `due_reminders_cache_update`;
--> statement-breakpoint
DROP TRIGGER IF EXISTS `due_reminders_cache_delete`;
--> statement-breakpoint
DROP TRIGGER IF EXISTS `extensions_cache_insert`;
--> statement-breakpoint
DROP TRIGGER IF EXISTS `extensions_cache_update`;
--> statement-breakpoint
DROP TRIGGER IF EXISTS `extensions_cache_delete`;
--> statement-breakpoint
DROP TRIGGER IF EXISTS `submissions_cache_insert`;
--> statement-breakpoint
DROP TRIGGER IF EXISTS `submissions_cache_update`;
--> statement-breakpoint
DROP TRIGGER IF EXISTS `submissions_cache_delete`;
--> statement-breakpoint
DROP TRIGGER IF EXISTS `certificate_nudges_cache_insert`;
--> statement-breakpoint
DROP TRIGGER IF EXISTS `certificate_nudges_cache_update`;
--> statement-breakpoint
DROP TRIGGER IF EXISTS `certificate_nudges_cache_delete`;
--> statement-breakpoint
DROP TRIGGER IF EXISTS `certificates_cache_insert`;
--> statement-breakpoint
DROP TRIGGER IF EXISTS `certificates_cache_update`;
--> statement-breakpoint
DROP TRIGGER IF EXISTS `certificates_cache_delete`;
--> statement-breakpoint
DROP TRIGGER IF EXISTS `attendance_cache_insert`;
--> statement-breakpoint
DROP TRIGGER IF EXISTS `attendance_cache_update`;
--> statement-breakpoint
DROP TRIGGER IF EXISTS `attendance_cache_delete`;
--> statement-breakpoint
DROP TRIGGER IF EXISTS `submission_versions_cache_insert`;
--> statement-breakpoint
DROP TRIGGER IF EXISTS `submission_versions_cache_update`;
--> statement-breakpoint
DROP TRIGGER IF EXISTS `submission_versions_cache_delete`;
--> statement-breakpoint
DROP TRIGGER IF EXISTS `submission_files_cache_insert`;
--> statement-breakpoint
DROP TRIGGER IF EXISTS `submission_files_cache_update`;
--> statement-breakpoint
DROP TRIGGER IF EXISTS `submission_files_cache_delete`;
--> statement-breakpoint
DROP TRIGGER IF EXISTS `reviews_cache_insert`;
--> statement-breakpoint
DROP TRIGGER IF EXISTS `reviews_cache_update`;
--> statement-breakpoint
DROP TRIGGER IF EXISTS `reviews_cache_delete`;
--> statement-breakpoint
DROP TRIGGER IF EXISTS `booking_events_cache_insert`;
--> statement-breakpoint
DROP TRIGGER IF EXISTS `booking_events_cache_update`;
--> statement-breakpoint
DROP TRIGGER IF EXISTS `booking_events_cache_delete`;
--> statement-breakpoint
DROP TRIGGER IF EXISTS `thread_reads_cache_insert`;
--> statement-breakpoint
DROP TRIGGER IF EXISTS `thread_reads_cache_update`;
--> statement-breakpoint
DROP TRIGGER IF EXISTS `thread_reads_cache_delete`;
--> statement-breakpoint
DROP TRIGGER IF EXISTS `calendar_feeds_cache_insert`;
--> statement-breakpoint
DROP TRIGGER IF EXISTS `calendar_feeds_cache_update`;
--> statement-breakpoint
DROP TRIGGER IF EXISTS `calendar_feeds_cache_delete`;
--> statement-breakpoint
DROP TRIGGER IF EXISTS `users_cache_update`;
--> statement-breakpoint
DROP TRIGGER IF EXISTS `users_cache_delete`;
--> statement-breakpoint
DROP TRIGGER IF EXISTS `members_cache_insert`;
--> statement-breakpoint
DROP TRIGGER IF EXISTS `members_cache_update`;
--> statement-breakpoint
DROP TRIGGER IF EXISTS `members_cache_delete`;
--> statement-breakpoint
DROP TRIGGER IF EXISTS `certificate_signing_keys_cache_insert`;
--> statement-breakpoint
DROP TRIGGER IF EXISTS `certificate_signing_keys_cache_update`;
--> statement-breakpoint
DROP TRIGGER IF EXISTS `certificate_signing_keys_cache_delete`;
--> statement-breakpoint
DROP TRIGGER IF EXISTS `users_access_update`;
--> statement-breakpoint
DROP TRIGGER IF EXISTS `users_access_delete`;
--> statement-breakpoint
DROP TRIGGER IF EXISTS `auth_sessions_access_update`;
--> statement-breakpoint
DROP TRIGGER IF EXISTS `auth_sessions_access_delete`;
--> statement-breakpoint
DROP TRIGGER IF EXISTS `api_tokens_access_update`;
--> statement-breakpoint
DROP TRIGGER IF EXISTS `api_tokens_access_delete`;
--> statement-breakpoint
DROP TRIGGER IF EXISTS `cohorts_access_insert`;
--> statement-breakpoint
DROP TRIGGER IF EXISTS `cohorts_access_update`;
--> statement-breakpoint
DROP TRIGGER IF EXISTS `cohorts_access_delete`;
--> statement-breakpoint
DROP TRIGGER IF EXISTS `enrolments_access_insert`;
--> statement-breakpoint
DROP TRIGGER IF EXISTS `enrolments_access_update`;
--> statement-breakpoint
DROP TRIGGER IF EXISTS `enrolments_access_delete`;
--> statement-breakpoint
DROP TRIGGER IF EXISTS `cohort_instructors_access_insert`;
--> statement-breakpoint
DROP TRIGGER IF EXISTS `cohort_instructors_access_update`;
--> statement-breakpoint
DROP TRIGGER IF EXISTS `cohort_instructors_access_delete`;
