-- Rebuild the full-text index with a 3-character prefix index only: the
-- 2-character one doubled the cost of indexing and the size of the index
-- without making searches faster (ranking dominates them).
DROP TABLE stories_fts;
CREATE VIRTUAL TABLE stories_fts USING fts5 (
    title, template, description, criteria,
    content = '', contentless_delete = 1,
    tokenize = 'unicode61 remove_diacritics 2', prefix = '3'
);
INSERT INTO stories_fts (rowid, title, template, description, criteria)
SELECT s.id, s.title, trim(s.persona || ' ' || s.want || ' ' || s.benefit), s.description,
       COALESCE((SELECT group_concat(c.text, char(10)) FROM story_criteria c WHERE c.story_id = s.id), '')
FROM stories s;
