CREATE TABLE `signups` (
	`id` text PRIMARY KEY NOT NULL,
	`tenant_id` text NOT NULL,
	`workspace_id` text NOT NULL,
	`pool_id` text NOT NULL,
	`address` text NOT NULL,
	`address_key` text NOT NULL,
	`user_id` text NOT NULL,
	`user_handle` text NOT NULL,
	`code_hash` text NOT NULL,
	`attempts` integer DEFAULT 0 NOT NULL,
	`expires_at` integer NOT NULL,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `signups_expiry` ON `signups` (`expires_at`);