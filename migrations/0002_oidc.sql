CREATE TABLE `oidc_clients` (
	`tenant_id` text NOT NULL,
	`workspace_id` text NOT NULL,
	`client_id` text NOT NULL,
	`client_name` text DEFAULT '' NOT NULL,
	`secret_hash` text,
	`redirect_uris` text NOT NULL,
	`post_logout_redirect_uris` text NOT NULL,
	`grant_types` text NOT NULL,
	`token_endpoint_auth_method` text NOT NULL,
	`scopes` text NOT NULL,
	`id_token_signed_response_alg` text DEFAULT 'RS256' NOT NULL,
	`trusted` integer DEFAULT false NOT NULL,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	PRIMARY KEY(`tenant_id`, `client_id`),
	FOREIGN KEY (`tenant_id`,`workspace_id`) REFERENCES `workspaces`(`tenant_id`,`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `oidc_clients_workspace` ON `oidc_clients` (`tenant_id`,`workspace_id`,`created_at`);--> statement-breakpoint
CREATE TABLE `oidc_codes` (
	`code_hash` text PRIMARY KEY NOT NULL,
	`tenant_id` text NOT NULL,
	`workspace_id` text NOT NULL,
	`client_id` text NOT NULL,
	`redirect_uri` text NOT NULL,
	`code_challenge` text NOT NULL,
	`nonce` text,
	`scope` text NOT NULL,
	`session_id` text NOT NULL,
	`pool_id` text NOT NULL,
	`user_id` text NOT NULL,
	`auth_time` integer NOT NULL,
	`amr` text NOT NULL,
	`acr` text,
	`created_at` integer NOT NULL,
	`expires_at` integer NOT NULL,
	`consumed_at` integer,
	`family_id` text,
	FOREIGN KEY (`user_id`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`tenant_id`,`client_id`) REFERENCES `oidc_clients`(`tenant_id`,`client_id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `oidc_codes_user` ON `oidc_codes` (`user_id`);--> statement-breakpoint
CREATE INDEX `oidc_codes_client` ON `oidc_codes` (`tenant_id`,`client_id`);--> statement-breakpoint
CREATE INDEX `oidc_codes_session` ON `oidc_codes` (`tenant_id`,`session_id`);--> statement-breakpoint
CREATE INDEX `oidc_codes_expiry` ON `oidc_codes` (`expires_at`);--> statement-breakpoint
CREATE TABLE `oidc_consents` (
	`tenant_id` text NOT NULL,
	`client_id` text NOT NULL,
	`user_id` text NOT NULL,
	`scopes` text NOT NULL,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	PRIMARY KEY(`tenant_id`, `client_id`, `user_id`),
	FOREIGN KEY (`user_id`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`tenant_id`,`client_id`) REFERENCES `oidc_clients`(`tenant_id`,`client_id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `oidc_consents_user` ON `oidc_consents` (`user_id`);--> statement-breakpoint
CREATE TABLE `oidc_refresh_tokens` (
	`token_hash` text PRIMARY KEY NOT NULL,
	`tenant_id` text NOT NULL,
	`workspace_id` text NOT NULL,
	`client_id` text NOT NULL,
	`family_id` text NOT NULL,
	`session_id` text NOT NULL,
	`pool_id` text NOT NULL,
	`user_id` text NOT NULL,
	`scope` text NOT NULL,
	`auth_time` integer NOT NULL,
	`amr` text NOT NULL,
	`acr` text,
	`created_at` integer NOT NULL,
	`expires_at` integer NOT NULL,
	`rotated_at` integer,
	`successor_hash` text,
	`revoked_at` integer,
	FOREIGN KEY (`user_id`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`tenant_id`,`client_id`) REFERENCES `oidc_clients`(`tenant_id`,`client_id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `oidc_refresh_tokens_family` ON `oidc_refresh_tokens` (`tenant_id`,`family_id`);--> statement-breakpoint
CREATE INDEX `oidc_refresh_tokens_user` ON `oidc_refresh_tokens` (`user_id`);--> statement-breakpoint
CREATE INDEX `oidc_refresh_tokens_client` ON `oidc_refresh_tokens` (`tenant_id`,`client_id`);--> statement-breakpoint
CREATE INDEX `oidc_refresh_tokens_session` ON `oidc_refresh_tokens` (`tenant_id`,`session_id`);--> statement-breakpoint
CREATE INDEX `oidc_refresh_tokens_expiry` ON `oidc_refresh_tokens` (`expires_at`);--> statement-breakpoint
CREATE TABLE `oidc_sessions` (
	`id` text PRIMARY KEY NOT NULL,
	`cookie_hash` text NOT NULL,
	`tenant_id` text NOT NULL,
	`workspace_id` text NOT NULL,
	`pool_id` text NOT NULL,
	`user_id` text NOT NULL,
	`auth_time` integer NOT NULL,
	`amr` text NOT NULL,
	`acr` text,
	`created_at` integer NOT NULL,
	`expires_at` integer NOT NULL,
	FOREIGN KEY (`user_id`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`tenant_id`,`workspace_id`) REFERENCES `workspaces`(`tenant_id`,`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE UNIQUE INDEX `oidc_sessions_cookie` ON `oidc_sessions` (`cookie_hash`);--> statement-breakpoint
CREATE INDEX `oidc_sessions_user` ON `oidc_sessions` (`user_id`);--> statement-breakpoint
CREATE INDEX `oidc_sessions_workspace` ON `oidc_sessions` (`tenant_id`,`workspace_id`);--> statement-breakpoint
CREATE INDEX `oidc_sessions_expiry` ON `oidc_sessions` (`expires_at`);