-- Issue 15: named admin tokens with roles, and virtual-key rotation with a grace period.
CREATE TABLE `admin_tokens` (
	`id` text PRIMARY KEY NOT NULL,
	`name` text NOT NULL,
	`role` text NOT NULL,
	`secret_hash` text NOT NULL,
	`last4` text NOT NULL,
	`created_by` text NOT NULL,
	`created_at` integer DEFAULT (unixepoch('subsec') * 1000) NOT NULL,
	`revoked_at` integer
);
--> statement-breakpoint
CREATE UNIQUE INDEX `admin_tokens_name` ON `admin_tokens` (`name`);
--> statement-breakpoint
ALTER TABLE `virtual_keys` ADD `previous_secret_hash` text;
--> statement-breakpoint
ALTER TABLE `virtual_keys` ADD `previous_secret_until` integer;
