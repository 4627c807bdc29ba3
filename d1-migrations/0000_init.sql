CREATE TABLE `audit_reports` (
	`id` text PRIMARY KEY NOT NULL,
	`key_id` text NOT NULL,
	`body` text NOT NULL,
	`created_at` integer DEFAULT (unixepoch('subsec') * 1000) NOT NULL
);
--> statement-breakpoint
CREATE TABLE `audit_signing_keys` (
	`verifier_key` text PRIMARY KEY NOT NULL,
	`name` text NOT NULL,
	`key_id` text NOT NULL,
	`created_at` integer DEFAULT (unixepoch('subsec') * 1000) NOT NULL
);
--> statement-breakpoint
CREATE TABLE `model_prices` (
	`model` text PRIMARY KEY NOT NULL,
	`input` integer NOT NULL,
	`cached_input` integer NOT NULL,
	`cache_write` integer NOT NULL,
	`output` integer NOT NULL,
	`updated_at` integer DEFAULT (unixepoch('subsec') * 1000) NOT NULL
);
--> statement-breakpoint
CREATE TABLE `provider_keys` (
	`id` text PRIMARY KEY NOT NULL,
	`provider` text NOT NULL,
	`name` text,
	`scope` text,
	`ciphertext` text NOT NULL,
	`last4` text NOT NULL,
	`created_at` integer DEFAULT (unixepoch('subsec') * 1000) NOT NULL
);
--> statement-breakpoint
CREATE INDEX `provider_keys_provider` ON `provider_keys` (`provider`);--> statement-breakpoint
CREATE TABLE `providers` (
	`name` text PRIMARY KEY NOT NULL,
	`type` text NOT NULL,
	`base_url` text NOT NULL,
	`created_at` integer DEFAULT (unixepoch('subsec') * 1000) NOT NULL
);
--> statement-breakpoint
CREATE TABLE `usage_rollups` (
	`key_id` text NOT NULL,
	`hour` integer NOT NULL,
	`model` text NOT NULL,
	`requests` integer DEFAULT 0 NOT NULL,
	`prompt_tokens` integer DEFAULT 0 NOT NULL,
	`completion_tokens` integer DEFAULT 0 NOT NULL,
	`cost_micros` integer DEFAULT 0 NOT NULL,
	PRIMARY KEY(`key_id`, `hour`, `model`)
);
--> statement-breakpoint
CREATE INDEX `usage_rollups_hour` ON `usage_rollups` (`hour`);--> statement-breakpoint
CREATE TABLE `virtual_keys` (
	`id` text PRIMARY KEY NOT NULL,
	`name` text NOT NULL,
	`secret_hash` text NOT NULL,
	`last4` text NOT NULL,
	`models` text DEFAULT '[]' NOT NULL,
	`monthly_token_quota` integer,
	`spend_cap_micros` integer,
	`rpm` integer,
	`tpm` integer,
	`expires_at` integer,
	`metadata` text DEFAULT '{}' NOT NULL,
	`revoked_at` integer,
	`created_at` integer DEFAULT (unixepoch('subsec') * 1000) NOT NULL,
	`updated_at` integer DEFAULT (unixepoch('subsec') * 1000) NOT NULL
);
