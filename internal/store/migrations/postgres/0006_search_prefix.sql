-- SQLite rebuilds its full-text index here; PostgreSQL's GIN index needs
-- no change. The migration keeps both engines' histories in step.
SELECT 1;
