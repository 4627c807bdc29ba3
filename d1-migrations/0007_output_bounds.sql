-- Issue 18: a key's default output bound and its cap mode ("exact" | "soft").
ALTER TABLE `virtual_keys` ADD `default_max_tokens` integer;--> statement-breakpoint
ALTER TABLE `virtual_keys` ADD `cap_mode` text DEFAULT 'exact' NOT NULL;
