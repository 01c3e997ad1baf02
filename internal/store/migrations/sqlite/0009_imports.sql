-- Imports from other tools. external_ref is an item's key in the tool it
-- came from (a Jira issue key), unique per product, so that importing the
-- same file again updates items instead of adding them twice. The
-- estimate as the file gave it, and people the file names who are no
-- users here, are kept as they were.

ALTER TABLE stories ADD COLUMN external_ref TEXT;
ALTER TABLE stories ADD COLUMN external_points REAL;
ALTER TABLE stories ADD COLUMN external_assignee TEXT NOT NULL DEFAULT '';
ALTER TABLE stories ADD COLUMN external_reporter TEXT NOT NULL DEFAULT '';
CREATE UNIQUE INDEX stories_external_ref ON stories (product_id, external_ref) WHERE external_ref IS NOT NULL;

ALTER TABLE features ADD COLUMN external_ref TEXT;
CREATE UNIQUE INDEX features_external_ref ON features (product_id, external_ref) WHERE external_ref IS NOT NULL;
