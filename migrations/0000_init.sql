CREATE TABLE `audit_events` (
	`id` text PRIMARY KEY NOT NULL,
	`tenant_id` text NOT NULL,
	`pool_id` text,
	`user_id` text,
	`actor` text NOT NULL,
	`type` text NOT NULL,
	`details` text NOT NULL,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `audit_events_tenant` ON `audit_events` (`tenant_id`,`created_at`);--> statement-breakpoint
CREATE TABLE `consumed_challenges` (
	`challenge` text PRIMARY KEY NOT NULL,
	`tenant_id` text NOT NULL,
	`purpose` text NOT NULL,
	`consumed_at` integer NOT NULL,
	`expires_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `consumed_challenges_expiry` ON `consumed_challenges` (`expires_at`);--> statement-breakpoint
CREATE TABLE `credentials` (
	`id` text PRIMARY KEY NOT NULL,
	`tenant_id` text NOT NULL,
	`pool_id` text NOT NULL,
	`user_id` text NOT NULL,
	`type` text NOT NULL,
	`state` text DEFAULT 'valid' NOT NULL,
	`name` text,
	`password_hash` text,
	`credential_id` text,
	`public_key` text,
	`algorithm` integer,
	`sign_count` integer DEFAULT 0 NOT NULL,
	`transports` text,
	`aaguid` text,
	`authenticator_name` text,
	`attachment` text,
	`user_present` integer,
	`user_verified` integer,
	`backup_eligible` integer,
	`backup_state` integer,
	`attestation_type` text,
	`discoverable_id` text DEFAULT '' NOT NULL,
	`clone_warning` integer DEFAULT false NOT NULL,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	`last_used_at` integer,
	FOREIGN KEY (`user_id`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE UNIQUE INDEX `credentials_tenant_credential_id` ON `credentials` (`tenant_id`,`credential_id`);--> statement-breakpoint
CREATE UNIQUE INDEX `credentials_one_password` ON `credentials` (`user_id`) WHERE type = 'password';--> statement-breakpoint
CREATE INDEX `credentials_user` ON `credentials` (`user_id`,`type`);--> statement-breakpoint
CREATE TABLE `identifiers` (
	`user_id` text NOT NULL,
	`tenant_id` text NOT NULL,
	`pool_id` text NOT NULL,
	`identifier` text NOT NULL,
	`identifier_key` text NOT NULL,
	`type` text NOT NULL,
	`position` integer NOT NULL,
	FOREIGN KEY (`user_id`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE UNIQUE INDEX `identifiers_pool_key` ON `identifiers` (`tenant_id`,`pool_id`,`identifier_key`);--> statement-breakpoint
CREATE INDEX `identifiers_user` ON `identifiers` (`user_id`);--> statement-breakpoint
CREATE TABLE `one_time_codes` (
	`tenant_id` text NOT NULL,
	`pool_id` text NOT NULL,
	`user_id` text NOT NULL,
	`purpose` text NOT NULL,
	`code_hash` text NOT NULL,
	`attempts` integer DEFAULT 0 NOT NULL,
	`expires_at` integer NOT NULL,
	`created_at` integer NOT NULL,
	PRIMARY KEY(`user_id`, `purpose`),
	FOREIGN KEY (`user_id`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `one_time_codes_expiry` ON `one_time_codes` (`expires_at`);--> statement-breakpoint
CREATE TABLE `outbox` (
	`id` text PRIMARY KEY NOT NULL,
	`tenant_id` text NOT NULL,
	`to` text NOT NULL,
	`purpose` text NOT NULL,
	`code` text NOT NULL,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `outbox_tenant` ON `outbox` (`tenant_id`,`created_at`);--> statement-breakpoint
CREATE TABLE `pools` (
	`tenant_id` text NOT NULL,
	`id` text NOT NULL,
	`name` text NOT NULL,
	`description` text DEFAULT '' NOT NULL,
	`authentication_mechanisms` text NOT NULL,
	`preferred_authentication_mechanism` text NOT NULL,
	`second_factor_authentication_mechanisms` text NOT NULL,
	`second_factor_preferred_authentication_mechanism` text DEFAULT '' NOT NULL,
	`relying_party_id` text DEFAULT '' NOT NULL,
	`relying_party_origins` text NOT NULL,
	`user_verification` text DEFAULT 'required' NOT NULL,
	`attestation` text DEFAULT 'none' NOT NULL,
	`max_credentials` integer DEFAULT 100 NOT NULL,
	`webauthn_credentials_capacity` integer DEFAULT 10 NOT NULL,
	`otp_settings` text NOT NULL,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	PRIMARY KEY(`tenant_id`, `id`),
	FOREIGN KEY (`tenant_id`) REFERENCES `tenants`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE TABLE `signing_keys` (
	`kid` text PRIMARY KEY NOT NULL,
	`tenant_id` text NOT NULL,
	`alg` text NOT NULL,
	`public_jwk` text NOT NULL,
	`private_jwk_enc` text NOT NULL,
	`status` text DEFAULT 'active' NOT NULL,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `signing_keys_tenant` ON `signing_keys` (`tenant_id`,`status`,`created_at`);--> statement-breakpoint
CREATE TABLE `system_clients` (
	`tenant_id` text NOT NULL,
	`client_id` text NOT NULL,
	`secret_hash` text NOT NULL,
	`scopes` text NOT NULL,
	`name` text DEFAULT '' NOT NULL,
	`created_at` integer NOT NULL,
	PRIMARY KEY(`tenant_id`, `client_id`),
	FOREIGN KEY (`tenant_id`) REFERENCES `tenants`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE TABLE `tenants` (
	`id` text PRIMARY KEY NOT NULL,
	`name` text NOT NULL,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `users` (
	`id` text PRIMARY KEY NOT NULL,
	`tenant_id` text NOT NULL,
	`pool_id` text NOT NULL,
	`status` text DEFAULT 'active' NOT NULL,
	`user_handle` text NOT NULL,
	`payload` text NOT NULL,
	`metadata` text NOT NULL,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `users_pool` ON `users` (`tenant_id`,`pool_id`,`created_at`);--> statement-breakpoint
CREATE UNIQUE INDEX `users_handle` ON `users` (`user_handle`);--> statement-breakpoint
CREATE TABLE `verifiable_addresses` (
	`user_id` text NOT NULL,
	`tenant_id` text NOT NULL,
	`pool_id` text NOT NULL,
	`address` text NOT NULL,
	`address_key` text NOT NULL,
	`type` text NOT NULL,
	`verified` integer DEFAULT false NOT NULL,
	`position` integer NOT NULL,
	FOREIGN KEY (`user_id`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE UNIQUE INDEX `addresses_user_key` ON `verifiable_addresses` (`user_id`,`type`,`address_key`);--> statement-breakpoint
CREATE INDEX `addresses_pool_key` ON `verifiable_addresses` (`tenant_id`,`pool_id`,`address_key`);--> statement-breakpoint
CREATE TABLE `workspace_pools` (
	`tenant_id` text NOT NULL,
	`workspace_id` text NOT NULL,
	`pool_id` text NOT NULL,
	`position` integer NOT NULL,
	PRIMARY KEY(`tenant_id`, `workspace_id`, `pool_id`)
);
--> statement-breakpoint
CREATE INDEX `workspace_pools_pool` ON `workspace_pools` (`tenant_id`,`pool_id`);--> statement-breakpoint
CREATE TABLE `workspaces` (
	`tenant_id` text NOT NULL,
	`id` text NOT NULL,
	`name` text NOT NULL,
	`authentication_mechanisms` text NOT NULL,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	PRIMARY KEY(`tenant_id`, `id`),
	FOREIGN KEY (`tenant_id`) REFERENCES `tenants`(`id`) ON UPDATE no action ON DELETE cascade
);
