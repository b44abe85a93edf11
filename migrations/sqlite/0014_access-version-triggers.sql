-- Bump the access version ('a') whenever a row that decides who a request is or what it may open changes: people,
-- their browser sessions and API tokens, cohorts, enrolments and instructors (see server/access-cache.ts). Request
-- threads keep those answers in memory and drop them all when this counter moves, whoever wrote the change.
CREATE TRIGGER `users_access_update` AFTER UPDATE ON `users` BEGIN
  INSERT INTO cache_versions (scope, version) VALUES ('a', 1) ON CONFLICT (scope) DO UPDATE SET version = version + 1;
END;
--> statement-breakpoint
CREATE TRIGGER `users_access_delete` AFTER DELETE ON `users` BEGIN
  INSERT INTO cache_versions (scope, version) VALUES ('a', 1) ON CONFLICT (scope) DO UPDATE SET version = version + 1;
END;
--> statement-breakpoint
CREATE TRIGGER `auth_sessions_access_update` AFTER UPDATE ON `auth_sessions` BEGIN
  INSERT INTO cache_versions (scope, version) VALUES ('a', 1) ON CONFLICT (scope) DO UPDATE SET version = version + 1;
END;
--> statement-breakpoint
CREATE TRIGGER `auth_sessions_access_delete` AFTER DELETE ON `auth_sessions` BEGIN
  INSERT INTO cache_versions (scope, version) VALUES ('a', 1) ON CONFLICT (scope) DO UPDATE SET version = version + 1;
END;
--> statement-breakpoint
CREATE TRIGGER `api_tokens_access_update` AFTER UPDATE ON `api_tokens` BEGIN
  INSERT INTO cache_versions (scope, version) VALUES ('a', 1) ON CONFLICT (scope) DO UPDATE SET version = version + 1;
END;
--> statement-breakpoint
CREATE TRIGGER `api_tokens_access_delete` AFTER DELETE ON `api_tokens` BEGIN
  INSERT INTO cache_versions (scope, version) VALUES ('a', 1) ON CONFLICT (scope) DO UPDATE SET version = version + 1;
END;
--> statement-breakpoint
CREATE TRIGGER `cohorts_access_insert` AFTER INSERT ON `cohorts` BEGIN
  INSERT INTO cache_versions (scope, version) VALUES ('a', 1) ON CONFLICT (scope) DO UPDATE SET version = version + 1;
END;
--> statement-breakpoint
CREATE TRIGGER `cohorts_access_update` AFTER UPDATE ON `cohorts` BEGIN
  INSERT INTO cache_versions (scope, version) VALUES ('a', 1) ON CONFLICT (scope) DO UPDATE SET version = version + 1;
END;
--> statement-breakpoint
CREATE TRIGGER `cohorts_access_delete` AFTER DELETE ON `cohorts` BEGIN
  INSERT INTO cache_versions (scope, version) VALUES ('a', 1) ON CONFLICT (scope) DO UPDATE SET version = version + 1;
END;
--> statement-breakpoint
CREATE TRIGGER `enrolments_access_insert` AFTER INSERT ON `enrolments` BEGIN
  INSERT INTO cache_versions (scope, version) VALUES ('a', 1) ON CONFLICT (scope) DO UPDATE SET version = version + 1;
END;
--> statement-breakpoint
CREATE TRIGGER `enrolments_access_update` AFTER UPDATE ON `enrolments` BEGIN
  INSERT INTO cache_versions (scope, version) VALUES ('a', 1) ON CONFLICT (scope) DO UPDATE SET version = version + 1;
END;
--> statement-breakpoint
CREATE TRIGGER `enrolments_access_delete` AFTER DELETE ON `enrolments` BEGIN
  INSERT INTO cache_versions (scope, version) VALUES ('a', 1) ON CONFLICT (scope) DO UPDATE SET version = version + 1;
END;
--> statement-breakpoint
CREATE TRIGGER `cohort_instructors_access_insert` AFTER INSERT ON `cohort_instructors` BEGIN
  INSERT INTO cache_versions (scope, version) VALUES ('a', 1) ON CONFLICT (scope) DO UPDATE SET version = version + 1;
END;
--> statement-breakpoint
CREATE TRIGGER `cohort_instructors_access_update` AFTER UPDATE ON `cohort_instructors` BEGIN
  INSERT INTO cache_versions (scope, version) VALUES ('a', 1) ON CONFLICT (scope) DO UPDATE SET version = version + 1;
END;
--> statement-breakpoint
CREATE TRIGGER `cohort_instructors_access_delete` AFTER DELETE ON `cohort_instructors` BEGIN
  INSERT INTO cache_versions (scope, version) VALUES ('a', 1) ON CONFLICT (scope) DO UPDATE SET version = version + 1;
END;
