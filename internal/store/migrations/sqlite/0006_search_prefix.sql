-- Rebuild the full-text index for how search works: Go ranks a bounded
-- set of candidates itself (see store.SearchStories), so the index keeps
-- no positions or columns (detail=none, a third of the size), and keeps
-- prefix indexes of 3, 4 and 5 characters, so that "fail*" does not merge
-- the lists of every word that starts with it. Two-letter prefixes, which
-- doubled the cost of indexing, are gone: short words match whole words.
DROP TABLE stories_fts;
CREATE VIRTUAL TABLE stories_fts USING fts5 (
    title, template, description, criteria,
    content = '', contentless_delete = 1, detail = none,
    tokenize = 'unicode61 remove_diacritics 2', prefix = '3 4 5'
);
INSERT INTO stories_fts (rowid, title, template, description, criteria)
SELECT s.id, s.title, trim(s.persona || ' ' || s.want || ' ' || s.benefit), s.description,
       COALESCE((SELECT group_concat(c.text, char(10)) FROM story_criteria c WHERE c.story_id = s.id), '')
FROM stories s;
