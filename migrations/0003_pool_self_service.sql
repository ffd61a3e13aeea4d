ALTER TABLE `pools` ADD `sign_up` integer DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE `pools` ADD `recovery` integer DEFAULT true NOT NULL;--> statement-breakpoint
ALTER TABLE `pools` ADD `passkey_upgrade` integer DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE `pools` ADD `device_bound_only` integer DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE `pools` ADD `aaguid_allow` text DEFAULT '[]' NOT NULL;--> statement-breakpoint
ALTER TABLE `pools` ADD `aaguid_deny` text DEFAULT '[]' NOT NULL;--> statement-breakpoint
CREATE INDEX `pools_relying_party_id` ON `pools` (`relying_party_id`);--> statement-breakpoint
-- Administrators are recovered by another administrator, not by a code to their address.
UPDATE `pools` SET `recovery` = false WHERE `id` = 'admins';
