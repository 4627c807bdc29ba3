-- Issue 16: usage per tag (x-keyforge-tags) and per end-user id, hourly, per key. value '' = none.
CREATE TABLE `usage_attribution` (
	`key_id` text NOT NULL,
	`hour` integer NOT NULL,
	`kind` text NOT NULL,
	`value` text NOT NULL,
	`requests` integer DEFAULT 0 NOT NULL,
	`prompt_tokens` integer DEFAULT 0 NOT NULL,
	`completion_tokens` integer DEFAULT 0 NOT NULL,
	`cost_micros` integer DEFAULT 0 NOT NULL,
	PRIMARY KEY(`key_id`, `hour`, `kind`, `value`)
);
--> statement-breakpoint
CREATE INDEX `usage_attribution_kind_hour` ON `usage_attribution` (`kind`,`hour`);
--> statement-breakpoint
-- Issue 16: window limits per end user within a key.
ALTER TABLE `virtual_keys` ADD `per_user_limits` text DEFAULT '[]' NOT NULL;
