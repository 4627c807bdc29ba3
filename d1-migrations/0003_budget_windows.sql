-- Issue 16: window limits per key, and shared budgets that keys join.
ALTER TABLE `virtual_keys` ADD `limits` text DEFAULT '[]' NOT NULL;--> statement-breakpoint
ALTER TABLE `virtual_keys` ADD `budget_id` text;--> statement-breakpoint
CREATE INDEX `virtual_keys_budget` ON `virtual_keys` (`budget_id`);--> statement-breakpoint
CREATE TABLE `budgets` (
	`id` text PRIMARY KEY NOT NULL,
	`name` text NOT NULL,
	`limits` text DEFAULT '[]' NOT NULL,
	`version` integer DEFAULT 1 NOT NULL,
	`created_at` integer DEFAULT (unixepoch('subsec') * 1000) NOT NULL,
	`updated_at` integer DEFAULT (unixepoch('subsec') * 1000) NOT NULL
);
