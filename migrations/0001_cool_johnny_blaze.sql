CREATE TABLE `rate_counters` (
	`tenant_id` text NOT NULL,
	`key` text NOT NULL,
	`window_start` integer NOT NULL,
	`count` integer DEFAULT 0 NOT NULL,
	`refused` integer DEFAULT 0 NOT NULL,
	`expires_at` integer NOT NULL,
	PRIMARY KEY(`tenant_id`, `key`)
);
--> statement-breakpoint
CREATE INDEX `rate_counters_expiry` ON `rate_counters` (`expires_at`);--> statement-breakpoint
ALTER TABLE `pools` ADD `password_failures` integer DEFAULT 5 NOT NULL;--> statement-breakpoint
ALTER TABLE `pools` ADD `otp_requests_per_hour` integer DEFAULT 5 NOT NULL;--> statement-breakpoint
ALTER TABLE `pools` ADD `otp_failures_per_day` integer DEFAULT 10 NOT NULL;--> statement-breakpoint
CREATE INDEX `audit_events_user` ON `audit_events` (`tenant_id`,`user_id`,`created_at`);