-- The backlog: stories with their criteria, tasks and labels, ordered by a
-- fractional rank, and a full-text index over their text.

CREATE TABLE stories (
    id             INTEGER PRIMARY KEY,
    product_id     INTEGER NOT NULL REFERENCES products (id) ON DELETE CASCADE,
    number         INTEGER NOT NULL,
    type           TEXT NOT NULL CHECK (type IN ('story', 'bug', 'task', 'spike')),
    title          TEXT NOT NULL,
    persona        TEXT NOT NULL DEFAULT '',
    want           TEXT NOT NULL DEFAULT '',
    benefit        TEXT NOT NULL DEFAULT '',
    description    TEXT NOT NULL DEFAULT '',
    points         INTEGER CHECK (points IS NULL OR points IN (0, 1, 2, 3, 5, 8, 13, 20, 40, 100)),
    status         TEXT NOT NULL CHECK (status IN ('new', 'ready', 'in_progress', 'in_review', 'done')),
    accepted       BOOLEAN NOT NULL DEFAULT 0,
    accepted_at    TIMESTAMP,
    accepted_by    INTEGER REFERENCES users (id) ON DELETE SET NULL,
    assignee_id    INTEGER REFERENCES users (id) ON DELETE SET NULL,
    feature_id     INTEGER, -- features arrive with the roadmap
    rank           TEXT NOT NULL,
    -- Kept by the store with the rows they count, so that lists and the
    -- "ready" filter need no joins.
    criteria_count INTEGER NOT NULL DEFAULT 0,
    criteria_met   INTEGER NOT NULL DEFAULT 0,
    tasks_count    INTEGER NOT NULL DEFAULT 0,
    tasks_done     INTEGER NOT NULL DEFAULT 0,
    version        INTEGER NOT NULL DEFAULT 1,
    created_by     INTEGER REFERENCES users (id) ON DELETE SET NULL,
    updated_by     INTEGER REFERENCES users (id) ON DELETE SET NULL,
    created_at     TIMESTAMP NOT NULL,
    updated_at     TIMESTAMP NOT NULL,
    UNIQUE (product_id, number),
    UNIQUE (product_id, rank)
);
CREATE INDEX stories_assignee ON stories (assignee_id) WHERE assignee_id IS NOT NULL;
CREATE INDEX stories_feature ON stories (feature_id) WHERE feature_id IS NOT NULL;

CREATE TABLE story_labels (
    story_id   INTEGER NOT NULL REFERENCES stories (id) ON DELETE CASCADE,
    product_id INTEGER NOT NULL,
    label      TEXT NOT NULL,
    PRIMARY KEY (story_id, label)
);
CREATE INDEX story_labels_product ON story_labels (product_id, label);

CREATE TABLE story_criteria (
    id       INTEGER PRIMARY KEY,
    story_id INTEGER NOT NULL REFERENCES stories (id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    text     TEXT NOT NULL,
    met      BOOLEAN NOT NULL DEFAULT 0
);
CREATE INDEX story_criteria_story ON story_criteria (story_id, position);

CREATE TABLE story_tasks (
    id          INTEGER PRIMARY KEY,
    story_id    INTEGER NOT NULL REFERENCES stories (id) ON DELETE CASCADE,
    position    INTEGER NOT NULL,
    text        TEXT NOT NULL,
    done        BOOLEAN NOT NULL DEFAULT 0,
    assignee_id INTEGER REFERENCES users (id) ON DELETE SET NULL
);
CREATE INDEX story_tasks_story ON story_tasks (story_id, position);

-- Contentless: the text lives in stories and story_criteria; the index
-- keeps only what it needs to rank matches (rowid = stories.id).
CREATE VIRTUAL TABLE stories_fts USING fts5 (
    title, template, description, criteria,
    content = '', contentless_delete = 1,
    tokenize = 'unicode61 remove_diacritics 2', prefix = '2 3'
);
