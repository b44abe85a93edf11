-- Bump the cache version of the scope a row belongs to, inside the writing transaction (see server/cache-schema.ts).
CREATE TRIGGER `cohorts_cache_insert` AFTER INSERT ON `cohorts` BEGIN
  INSERT INTO cache_versions (scope, version) VALUES ('c:' || NEW.id, 1) ON CONFLICT (scope) DO UPDATE SET version = version + 1;
END;
--> statement-breakpoint
CREATE TRIGGER `cohorts_cache_update` AFTER UPDATE ON `cohorts` BEGIN
  INSERT INTO cache_versions (scope, version) VALUES ('c:' || NEW.id, 1) ON CONFLICT (scope) DO UPDATE SET version = version + 1;
END;
--> statement-breakpoint
CREATE TRIGGER `cohorts_cache_delete` AFTER DELETE ON `cohorts` BEGIN
  INSERT INTO cache_versions (scope, version) VALUES ('c:' || OLD.id, 1) ON CONFLICT (scope) DO UPDATE SET version = version + 1;
END;
--> statement-breakpoint
CREATE TRIGGER `cohort_instructors_cache_insert` AFTER INSERT ON `cohort_instructors` BEGIN
  INSERT INTO cache_versions (scope, version) VALUES ('c:' || NEW.cohort_id, 1) ON CONFLICT (scope) DO UPDATE SET version = version + 1;
END;
--> statement-breakpoint
CREATE TRIGGER `cohort_instructors_cache_update` AFTER UPDATE ON `cohort_instructors` BEGIN
  INSERT INTO cache_versions (scope, version) VALUES ('c:' || NEW.cohort_id, 1) ON CONFLICT (scope) DO UPDATE SET version = version + 1;
END;
--> statement-breakpoint
CREATE TRIGGER `cohort_instructors_cache_delete` AFTER DELETE ON `cohort_instructors` BEGIN
  INSERT INTO cache_versions (scope, version) VALUES ('c:' || OLD.cohort_id, 1) ON CONFLICT (scope) DO UPDATE SET version = version + 1;
END;
--> statement-breakpoint
CREATE TRIGGER `enrolments_cache_insert` AFTER INSERT ON `enrolments` BEGIN
  INSERT INTO cache_versions (scope, version) VALUES ('c:' || NEW.cohort_id, 1) ON CONFLICT (scope) DO UPDATE SET version = version + 1;
END;
--> statement-breakpoint
CREATE TRIGGER `enrolments_cache_update` AFTER UPDATE ON `enrolments` BEGIN
  INSERT INTO cache_versions (scope, version) VALUES ('c:' || NEW.cohort_id, 1) ON CONFLICT (scope) DO UPDATE SET version = version + 1;
END;
--> statement-breakpoint
CREATE TRIGGER `enrolments_cache_delete` AFTER DELETE ON `enrolments` BEGIN
  INSERT INTO cache_versions (scope, version) VALUES ('c:' || OLD.cohort_id, 1) ON CONFLICT (scope) DO UPDATE SET version = version + 1;
END;
--> statement-breakpoint
CREATE TRIGGER `week_overrides_cache_insert` AFTER INSERT ON `week_overrides` BEGIN
  INSERT INTO cache_versions (scope, version) VALUES ('c:' || NEW.cohort_id, 1) ON CONFLICT (scope) DO UPDATE SET version = version + 1;
END;
--> statement-breakpoint
CREATE TRIGGER `week_overrides_cache_update` AFTER UPDATE ON `week_overrides` BEGIN
  INSERT INTO cache_versions (scope, version) VALUES ('c:' || NEW.cohort_id, 1) ON CONFLICT (scope) DO UPDATE SET version = version + 1;
END;
--> statement-breakpoint
CREATE TRIGGER `week_overrides_cache_delete` AFTER DELETE ON `week_overrides` BEGIN
  INSERT INTO cache_versions (scope, version) VALUES ('c:' || OLD.cohort_id, 1) ON CONFLICT (scope) DO UPDATE SET version = version + 1;
END;
--> statement-breakpoint
CREATE TRIGGER `week_open_notices_cache_insert` AFTER INSERT ON `week_open_notices` BEGIN
  INSERT INTO cache_versions (scope, version) VALUES ('c:' || NEW.cohort_id, 1) ON CONFLICT (scope) DO UPDATE SET version = version + 1;
END;
--> statement-breakpoint
CREATE TRIGGER `week_open_notices_cache_update` AFTER UPDATE ON `week_open_notices` BEGIN
  INSERT INTO cache_versions (scope, version) VALUES ('c:' || NEW.cohort_id, 1) ON CONFLICT (scope) DO UPDATE SET version = version + 1;
END;
--> statement-breakpoint
CREATE TRIGGER `week_open_notices_cache_delete` AFTER DELETE ON `week_open_notices` BEGIN
  INSERT INTO cache_versions (scope, version) VALUES ('c:' || OLD.cohort_id, 1) ON CONFLICT (scope) DO UPDATE SET version = version + 1;
END;
--> statement-breakpoint
CREATE TRIGGER `live_sessions_cache_insert` AFTER INSERT ON `live_sessions` BEGIN
  INSERT INTO cache_versions (scope, version) VALUES ('c:' || NEW.cohort_id, 1) ON CONFLICT (scope) DO UPDATE SET version = version + 1;
END;
--> statement-breakpoint
CREATE TRIGGER `live_sessions_cache_update` AFTER UPDATE ON `live_sessions` BEGIN
  INSERT INTO cache_versions (scope, version) VALUES ('c:' || NEW.cohort_id, 1) ON CONFLICT (scope) DO UPDATE SET version = version + 1;
END;
--> statement-breakpoint
CREATE TRIGGER `live_sessions_cache_delete` AFTER DELETE ON `live_sessions` BEGIN
  INSERT INTO cache_versions (scope, version) VALUES ('c:' || OLD.cohort_id, 1) ON CONFLICT (scope) DO UPDATE SET version = version + 1;
END;
--> statement-breakpoint
CREATE TRIGGER `bookings_cache_insert` AFTER INSERT ON `bookings` BEGIN
  INSERT INTO cache_versions (scope, version) VALUES ('c:' || NEW.cohort_id, 1) ON CONFLICT (scope) DO UPDATE SET version = version + 1;
END;
--> statement-breakpoint
CREATE TRIGGER `bookings_cache_update` AFTER UPDATE ON `bookings` BEGIN
  INSERT INTO cache_versions (scope, version) VALUES ('c:' || NEW.cohort_id, 1) ON CONFLICT (scope) DO UPDATE SET version = version + 1;
END;
--> statement-breakpoint
CREATE TRIGGER `bookings_cache_delete` AFTER DELETE ON `bookings` BEGIN
  INSERT INTO cache_versions (scope, version) VALUES ('c:' || OLD.cohort_id, 1) ON CONFLICT (scope) DO UPDATE SET version = version + 1;
END;
--> statement-breakpoint
CREATE TRIGGER `posts_cache_insert` AFTER INSERT ON `posts` BEGIN
  INSERT INTO cache_versions (scope, version) VALUES ('c:' || NEW.cohort_id, 1) ON CONFLICT (scope) DO UPDATE SET version = version + 1;
END;
--> statement-breakpoint
CREATE TRIGGER `posts_cache_update` AFTER UPDATE ON `posts` BEGIN
  INSERT INTO cache_versions (scope, version) VALUES ('c:' || NEW.cohort_id, 1) ON CONFLICT (scope) DO UPDATE SET version = version + 1;
END;
--> statement-breakpoint
CREATE TRIGGER `posts_cache_delete` AFTER DELETE ON `posts` BEGIN
  INSERT INTO cache_versions (scope, version) VALUES ('c:' || OLD.cohort_id, 1) ON CONFLICT (scope) DO UPDATE SET version = version + 1;
END;
--> statement-breakpoint
CREATE TRIGGER `threads_cache_insert` AFTER INSERT ON `threads` BEGIN
  INSERT INTO cache_versions (scope, version) VALUES ('c:' || NEW.cohort_id, 1) ON CONFLICT (scope) DO UPDATE SET version = version + 1;
END;
--> statement-breakpoint
CREATE TRIGGER `threads_cache_update` AFTER UPDATE ON `threads` BEGIN
  INSERT INTO cache_versions (scope, version) VALUES ('c:' || NEW.cohort_id, 1) ON CONFLICT (scope) DO UPDATE SET version = version + 1;
END;
--> statement-breakpoint
CREATE TRIGGER `threads_cache_delete` AFTER DELETE ON `threads` BEGIN
  INSERT INTO cache_versions (scope, version) VALUES ('c:' || OLD.cohort_id, 1) ON CONFLICT (scope) DO UPDATE SET version = version + 1;
END;
--> statement-breakpoint
CREATE TRIGGER `due_reminders_cache_insert` AFTER INSERT ON `due_reminders` BEGIN
  INSERT INTO cache_versions (scope, version) VALUES ('c:' || NEW.cohort_id, 1) ON CONFLICT (scope) DO UPDATE SET version = version + 1;
END;
--> statement-breakpoint
CREATE TRIGGER `due_reminders_cache_update` AFTER UPDATE ON `due_reminders` BEGIN
  INSERT INTO cache_versions (scope, version) VALUES ('c:' || NEW.cohort_id, 1) ON CONFLICT (scope) DO UPDATE SET version = version + 1;
END;
--> statement-breakpoint
CREATE TRIGGER `due_reminders_cache_delete` AFTER DELETE ON `due_reminders` BEGIN
  INSERT INTO cache_versions (scope, version) VALUES ('c:' || OLD.cohort_id, 1) ON CONFLICT (scope) DO UPDATE SET version = version + 1;
END;
--> statement-breakpoint
CREATE TRIGGER `extensions_cache_insert` AFTER INSERT ON `extensions` BEGIN
  INSERT INTO cache_versions (scope, version) VALUES ('c:' || NEW.cohort_id, 1) ON CONFLICT (scope) DO UPDATE SET version = version + 1;
END;
--> statement-breakpoint
CREATE TRIGGER `extensions_cache_update` AFTER UPDATE ON `extensions` BEGIN
  INSERT INTO cache_versions (scope, version) VALUES ('c:' || NEW.cohort_id, 1) ON CONFLICT (scope) DO UPDATE SET version = version + 1;
END;
--> statement-breakpoint
CREATE TRIGGER `extensions_cache_delete` AFTER DELETE ON `extensions` BEGIN
  INSERT INTO cache_versions (scope, version) VALUES ('c:' || OLD.cohort_id, 1) ON CONFLICT (scope) DO UPDATE SET version = version + 1;
END;
--> statement-breakpoint
CREATE TRIGGER `submissions_cache_insert` AFTER INSERT ON `submissions` BEGIN
  INSERT INTO cache_versions (scope, version) VALUES ('c:' || NEW.cohort_id, 1) ON CONFLICT (scope) DO UPDATE SET version = version + 1;
END;
--> statement-breakpoint
CREATE TRIGGER `submissions_cache_update` AFTER UPDATE ON `submissions` BEGIN
  INSERT INTO cache_versions (scope, version) VALUES ('c:' || NEW.cohort_id, 1) ON CONFLICT (scope) DO UPDATE SET version = version + 1;
END;
--> statement-breakpoint
CREATE TRIGGER `submissions_cache_delete` AFTER DELETE ON `submissions` BEGIN
  INSERT INTO cache_versions (scope, version) VALUES ('c:' || OLD.cohort_id, 1) ON CONFLICT (scope) DO UPDATE SET version = version + 1;
END;
--> statement-breakpoint
CREATE TRIGGER `certificate_nudges_cache_insert` AFTER INSERT ON `certificate_nudges` BEGIN
  INSERT INTO cache_versions (scope, version) VALUES ('c:' || NEW.cohort_id, 1) ON CONFLICT (scope) DO UPDATE SET version = version + 1;
END;
--> statement-breakpoint
CREATE TRIGGER `certificate_nudges_cache_update` AFTER UPDATE ON `certificate_nudges` BEGIN
  INSERT INTO cache_versions (scope, version) VALUES ('c:' || NEW.cohort_id, 1) ON CONFLICT (scope) DO UPDATE SET version = version + 1;
END;
--> statement-breakpoint
CREATE TRIGGER `certificate_nudges_cache_delete` AFTER DELETE ON `certificate_nudges` BEGIN
  INSERT INTO cache_versions (scope, version) VALUES ('c:' || OLD.cohort_id, 1) ON CONFLICT (scope) DO UPDATE SET version = version + 1;
END;
--> statement-breakpoint
CREATE TRIGGER `certificates_cache_insert` AFTER INSERT ON `certificates` BEGIN
  INSERT INTO cache_versions (scope, version) VALUES ('c:' || NEW.cohort_id, 1) ON CONFLICT (scope) DO UPDATE SET version = version + 1;
END;
--> statement-breakpoint
CREATE TRIGGER `certificates_cache_update` AFTER UPDATE ON `certificates` BEGIN
  INSERT INTO cache_versions (scope, version) VALUES ('c:' || NEW.cohort_id, 1) ON CONFLICT (scope) DO UPDATE SET version = version + 1;
END;
--> statement-breakpoint
CREATE TRIGGER `certificates_cache_delete` AFTER DELETE ON `certificates` BEGIN
  INSERT INTO cache_versions (scope, version) VALUES ('c:' || OLD.cohort_id, 1) ON CONFLICT (scope) DO UPDATE SET version = version + 1;
END;
--> statement-breakpoint
CREATE TRIGGER `attendance_cache_insert` AFTER INSERT ON `attendance` BEGIN
  INSERT INTO cache_versions (scope, version) VALUES ('c:' || (SELECT cohort_id FROM live_sessions WHERE id = NEW.session_id), 1) ON CONFLICT (scope) DO UPDATE SET version = version + 1;
END;
--> statement-breakpoint
CREATE TRIGGER `attendance_cache_update` AFTER UPDATE ON `attendance` BEGIN
  INSERT INTO cache_versions (scope, version) VALUES ('c:' || (SELECT cohort_id FROM live_sessions WHERE id = NEW.session_id), 1) ON CONFLICT (scope) DO UPDATE SET version = version + 1;
END;
--> statement-breakpoint
CREATE TRIGGER `attendance_cache_delete` AFTER DELETE ON `attendance` BEGIN
  INSERT INTO cache_versions (scope, version) VALUES ('c:' || (SELECT cohort_id FROM live_sessions WHERE id = OLD.session_id), 1) ON CONFLICT (scope) DO UPDATE SET version = version + 1;
END;
--> statement-breakpoint
CREATE TRIGGER `submission_versions_cache_insert` AFTER INSERT ON `submission_versions` BEGIN
  INSERT INTO cache_versions (scope, version) VALUES ('c:' || (SELECT cohort_id FROM submissions WHERE id = NEW.submission_id), 1) ON CONFLICT (scope) DO UPDATE SET version = version + 1;
END;
--> statement-breakpoint
CREATE TRIGGER `submission_versions_cache_update` AFTER UPDATE ON `submission_versions` BEGIN
  INSERT INTO cache_versions (scope, version) VALUES ('c:' || (SELECT cohort_id FROM submissions WHERE id = NEW.submission_id), 1) ON CONFLICT (scope) DO UPDATE SET version = version + 1;
END;
--> statement-breakpoint
CREATE TRIGGER `submission_versions_cache_delete` AFTER DELETE ON `submission_versions` BEGIN
  INSERT INTO cache_versions (scope, version) VALUES ('c:' || (SELECT cohort_id FROM submissions WHERE id = OLD.submission_id), 1) ON CONFLICT (scope) DO UPDATE SET version = version + 1;
END;
--> statement-breakpoint
CREATE TRIGGER `submission_files_cache_insert` AFTER INSERT ON `submission_files` BEGIN
  INSERT INTO cache_versions (scope, version) VALUES ('c:' || (SELECT cohort_id FROM submissions WHERE id = NEW.submission_id), 1) ON CONFLICT (scope) DO UPDATE SET version = version + 1;
END;
--> statement-breakpoint
CREATE TRIGGER `submission_files_cache_update` AFTER UPDATE ON `submission_files` BEGIN
  INSERT INTO cache_versions (scope, version) VALUES ('c:' || (SELECT cohort_id FROM submissions WHERE id = NEW.submission_id), 1) ON CONFLICT (scope) DO UPDATE SET version = version + 1;
END;
--> statement-breakpoint
CREATE TRIGGER `submission_files_cache_delete` AFTER DELETE ON `submission_files` BEGIN
  INSERT INTO cache_versions (scope, version) VALUES ('c:' || (SELECT cohort_id FROM submissions WHERE id = OLD.submission_id), 1) ON CONFLICT (scope) DO UPDATE SET version = version + 1;
END;
--> statement-breakpoint
CREATE TRIGGER `reviews_cache_insert` AFTER INSERT ON `reviews` BEGIN
  INSERT INTO cache_versions (scope, version) VALUES ('c:' || (SELECT cohort_id FROM submissions WHERE id = NEW.submission_id), 1) ON CONFLICT (scope) DO UPDATE SET version = version + 1;
END;
--> statement-breakpoint
CREATE TRIGGER `reviews_cache_update` AFTER UPDATE ON `reviews` BEGIN
  INSERT INTO cache_versions (scope, version) VALUES ('c:' || (SELECT cohort_id FROM submissions WHERE id = NEW.submission_id), 1) ON CONFLICT (scope) DO UPDATE SET version = version + 1;
END;
--> statement-breakpoint
CREATE TRIGGER `reviews_cache_delete` AFTER DELETE ON `reviews` BEGIN
  INSERT INTO cache_versions (scope, version) VALUES ('c:' || (SELECT cohort_id FROM submissions WHERE id = OLD.submission_id), 1) ON CONFLICT (scope) DO UPDATE SET version = version + 1;
END;
--> statement-breakpoint
CREATE TRIGGER `booking_events_cache_insert` AFTER INSERT ON `booking_events` BEGIN
  INSERT INTO cache_versions (scope, version) VALUES ('c:' || (SELECT cohort_id FROM bookings WHERE id = NEW.booking_id), 1) ON CONFLICT (scope) DO UPDATE SET version = version + 1;
END;
--> statement-breakpoint
CREATE TRIGGER `booking_events_cache_update` AFTER UPDATE ON `booking_events` BEGIN
  INSERT INTO cache_versions (scope, version) VALUES ('c:' || (SELECT cohort_id FROM bookings WHERE id = NEW.booking_id), 1) ON CONFLICT (scope) DO UPDATE SET version = version + 1;
END;
--> statement-breakpoint
CREATE TRIGGER `booking_events_cache_delete` AFTER DELETE ON `booking_events` BEGIN
  INSERT INTO cache_versions (scope, version) VALUES ('c:' || (SELECT cohort_id FROM bookings WHERE id = OLD.booking_id), 1) ON CONFLICT (scope) DO UPDATE SET version = version + 1;
END;
--> statement-breakpoint
CREATE TRIGGER `thread_reads_cache_insert` AFTER INSERT ON `thread_reads` BEGIN
  INSERT INTO cache_versions (scope, version) VALUES ('u:' || NEW.user_id, 1) ON CONFLICT (scope) DO UPDATE SET version = version + 1;
END;
--> statement-breakpoint
CREATE TRIGGER `thread_reads_cache_update` AFTER UPDATE ON `thread_reads` BEGIN
  INSERT INTO cache_versions (scope, version) VALUES ('u:' || NEW.user_id, 1) ON CONFLICT (scope) DO UPDATE SET version = version + 1;
END;
--> statement-breakpoint
CREATE TRIGGER `thread_reads_cache_delete` AFTER DELETE ON `thread_reads` BEGIN
  INSERT INTO cache_versions (scope, version) VALUES ('u:' || OLD.user_id, 1) ON CONFLICT (scope) DO UPDATE SET version = version + 1;
END;
--> statement-breakpoint
CREATE TRIGGER `calendar_feeds_cache_insert` AFTER INSERT ON `calendar_feeds` BEGIN
  INSERT INTO cache_versions (scope, version) VALUES ('u:' || NEW.user_id, 1) ON CONFLICT (scope) DO UPDATE SET version = version + 1;
END;
--> statement-breakpoint
CREATE TRIGGER `calendar_feeds_cache_update` AFTER UPDATE ON `calendar_feeds` BEGIN
  INSERT INTO cache_versions (scope, version) VALUES ('u:' || NEW.user_id, 1) ON CONFLICT (scope) DO UPDATE SET version = version + 1;
END;
--> statement-breakpoint
CREATE TRIGGER `calendar_feeds_cache_delete` AFTER DELETE ON `calendar_feeds` BEGIN
  INSERT INTO cache_versions (scope, version) VALUES ('u:' || OLD.user_id, 1) ON CONFLICT (scope) DO UPDATE SET version = version + 1;
END;
--> statement-breakpoint
CREATE TRIGGER `users_cache_update` AFTER UPDATE ON `users` BEGIN
  INSERT INTO cache_versions (scope, version) VALUES ('g', 1) ON CONFLICT (scope) DO UPDATE SET version = version + 1;
END;
--> statement-breakpoint
CREATE TRIGGER `users_cache_delete` AFTER DELETE ON `users` BEGIN
  INSERT INTO cache_versions (scope, version) VALUES ('g', 1) ON CONFLICT (scope) DO UPDATE SET version = version + 1;
END;
--> statement-breakpoint
CREATE TRIGGER `members_cache_insert` AFTER INSERT ON `members` BEGIN
  INSERT INTO cache_versions (scope, version) VALUES ('g', 1) ON CONFLICT (scope) DO UPDATE SET version = version + 1;
END;
--> statement-breakpoint
CREATE TRIGGER `members_cache_update` AFTER UPDATE ON `members` BEGIN
  INSERT INTO cache_versions (scope, version) VALUES ('g', 1) ON CONFLICT (scope) DO UPDATE SET version = version + 1;
END;
--> statement-breakpoint
CREATE TRIGGER `members_cache_delete` AFTER DELETE ON `members` BEGIN
  INSERT INTO cache_versions (scope, version) VALUES ('g', 1) ON CONFLICT (scope) DO UPDATE SET version = version + 1;
END;
--> statement-breakpoint
CREATE TRIGGER `certificate_signing_keys_cache_insert` AFTER INSERT ON `certificate_signing_keys` BEGIN
  INSERT INTO cache_versions (scope, version) VALUES ('g', 1) ON CONFLICT (scope) DO UPDATE SET version = version + 1;
END;
--> statement-breakpoint
CREATE TRIGGER `certificate_signing_keys_cache_update` AFTER UPDATE ON `certificate_signing_keys` BEGIN
  INSERT INTO cache_versions (scope, version) VALUES ('g', 1) ON CONFLICT (scope) DO UPDATE SET version = version + 1;
END;
--> statement-breakpoint
CREATE TRIGGER `certificate_signing_keys_cache_delete` AFTER DELETE ON `certificate_signing_keys` BEGIN
  INSERT INTO cache_versions (scope, version) VALUES ('g', 1) ON CONFLICT (scope) DO UPDATE SET version = version + 1;
END;
