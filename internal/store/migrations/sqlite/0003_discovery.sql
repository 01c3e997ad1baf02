-- Discovery: the strategy page, objectives and key results, customers,
-- feedback with insights linked to features, and the public portal.

ALTER TABLE products ADD COLUMN target_market TEXT NOT NULL DEFAULT '';
ALTER TABLE products ADD COLUMN north_star_metric TEXT NOT NULL DEFAULT '';
ALTER TABLE products ADD COLUMN portal_enabled BOOLEAN NOT NULL DEFAULT 0;
ALTER TABLE products ADD COLUMN portal_intro TEXT NOT NULL DEFAULT '';

CREATE TABLE segments (
    id          INTEGER PRIMARY KEY,
    product_id  INTEGER NOT NULL REFERENCES products (id) ON DELETE CASCADE,
    name        TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    created_at  TIMESTAMP NOT NULL,
    UNIQUE (product_id, name)
);

CREATE TABLE personas (
    id          INTEGER PRIMARY KEY,
    product_id  INTEGER NOT NULL REFERENCES products (id) ON DELETE CASCADE,
    name        TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    goals       TEXT NOT NULL DEFAULT '',
    pains       TEXT NOT NULL DEFAULT '',
    created_at  TIMESTAMP NOT NULL,
    updated_at  TIMESTAMP NOT NULL,
    UNIQUE (product_id, name)
);

-- Company objectives have no product; product objectives may roll up to
-- a company objective (parent_id).
CREATE TABLE objectives (
    id           INTEGER PRIMARY KEY,
    product_id   INTEGER REFERENCES products (id) ON DELETE CASCADE,
    parent_id    INTEGER REFERENCES objectives (id) ON DELETE SET NULL,
    title        TEXT NOT NULL,
    description  TEXT NOT NULL DEFAULT '',
    period_start DATE NOT NULL,
    period_end   DATE NOT NULL,
    owner_id     INTEGER REFERENCES users (id) ON DELETE SET NULL,
    status       TEXT NOT NULL CHECK (status IN ('on_track', 'at_risk', 'off_track', 'done')),
    version      INTEGER NOT NULL DEFAULT 1,
    created_by   INTEGER REFERENCES users (id) ON DELETE SET NULL,
    created_at   TIMESTAMP NOT NULL,
    updated_at   TIMESTAMP NOT NULL,
    CHECK (period_end > period_start)
);
CREATE INDEX objectives_product ON objectives (product_id);
CREATE INDEX objectives_parent ON objectives (parent_id);

CREATE TABLE key_results (
    id            INTEGER PRIMARY KEY,
    objective_id  INTEGER NOT NULL REFERENCES objectives (id) ON DELETE CASCADE,
    position      INTEGER NOT NULL,
    name          TEXT NOT NULL,
    unit          TEXT NOT NULL DEFAULT '',
    start_value   REAL NOT NULL,
    target_value  REAL NOT NULL,
    current_value REAL NOT NULL,
    CHECK (target_value <> start_value)
);
CREATE INDEX key_results_objective ON key_results (objective_id, position);

CREATE TABLE check_ins (
    id            INTEGER PRIMARY KEY,
    key_result_id INTEGER NOT NULL REFERENCES key_results (id) ON DELETE CASCADE,
    value         REAL NOT NULL,
    note          TEXT NOT NULL DEFAULT '',
    actor_id      INTEGER REFERENCES users (id) ON DELETE SET NULL,
    at            TIMESTAMP NOT NULL
);
CREATE INDEX check_ins_key_result ON check_ins (key_result_id, at);

CREATE TABLE customers (
    id         INTEGER PRIMARY KEY,
    name       TEXT NOT NULL,
    email      TEXT,
    company    TEXT NOT NULL DEFAULT '',
    segment    TEXT NOT NULL DEFAULT '',
    value      REAL,
    version    INTEGER NOT NULL DEFAULT 1,
    created_by INTEGER REFERENCES users (id) ON DELETE SET NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX customers_email ON customers (email) WHERE email IS NOT NULL;

-- Features start here as ideas created from feedback; the roadmap adds
-- the rest of their fields. They share the product's numbering with
-- stories (products.last_number).
CREATE TABLE features (
    id         INTEGER PRIMARY KEY,
    product_id INTEGER NOT NULL REFERENCES products (id) ON DELETE CASCADE,
    number     INTEGER NOT NULL,
    title      TEXT NOT NULL,
    problem    TEXT NOT NULL DEFAULT '',
    status     TEXT NOT NULL DEFAULT 'idea' CHECK (status IN ('idea', 'under_consideration', 'planned', 'in_progress', 'released', 'rejected')),
    version    INTEGER NOT NULL DEFAULT 1,
    created_by INTEGER REFERENCES users (id) ON DELETE SET NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    UNIQUE (product_id, number)
);

CREATE TABLE portal_ideas (
    id             INTEGER PRIMARY KEY,
    product_id     INTEGER NOT NULL REFERENCES products (id) ON DELETE CASCADE,
    title          TEXT NOT NULL,
    body           TEXT NOT NULL DEFAULT '',
    author_name    TEXT NOT NULL,
    author_email   TEXT NOT NULL,
    verified       BOOLEAN NOT NULL DEFAULT 0,
    verify_hash    TEXT,
    status         TEXT NOT NULL DEFAULT 'under_review' CHECK (status IN ('under_review', 'planned', 'in_progress', 'released', 'declined')),
    hidden         BOOLEAN NOT NULL DEFAULT 0,
    votes          INTEGER NOT NULL DEFAULT 0,
    comments       INTEGER NOT NULL DEFAULT 0,
    created_at     TIMESTAMP NOT NULL
);
CREATE INDEX portal_ideas_product ON portal_ideas (product_id, votes);

CREATE TABLE portal_votes (
    idea_id    INTEGER NOT NULL REFERENCES portal_ideas (id) ON DELETE CASCADE,
    email      TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (idea_id, email)
);

CREATE TABLE portal_comments (
    id           INTEGER PRIMARY KEY,
    idea_id      INTEGER NOT NULL REFERENCES portal_ideas (id) ON DELETE CASCADE,
    author_name  TEXT NOT NULL,
    author_email TEXT NOT NULL DEFAULT '',
    user_id      INTEGER REFERENCES users (id) ON DELETE SET NULL,
    body         TEXT NOT NULL,
    created_at   TIMESTAMP NOT NULL
);
CREATE INDEX portal_comments_idea ON portal_comments (idea_id, id);

CREATE TABLE feedback (
    id             INTEGER PRIMARY KEY,
    product_id     INTEGER NOT NULL REFERENCES products (id) ON DELETE CASCADE,
    source         TEXT NOT NULL CHECK (source IN ('interview', 'support', 'sales', 'survey', 'portal', 'other')),
    title          TEXT NOT NULL,
    text           TEXT NOT NULL,
    status         TEXT NOT NULL DEFAULT 'new' CHECK (status IN ('new', 'triaged', 'archived')),
    customer_id    INTEGER REFERENCES customers (id) ON DELETE SET NULL,
    captured_by    INTEGER REFERENCES users (id) ON DELETE SET NULL,
    portal_idea_id INTEGER REFERENCES portal_ideas (id) ON DELETE CASCADE,
    version        INTEGER NOT NULL DEFAULT 1,
    created_at     TIMESTAMP NOT NULL,
    updated_at     TIMESTAMP NOT NULL
);
CREATE INDEX feedback_product ON feedback (product_id, id);
CREATE INDEX feedback_customer ON feedback (customer_id);

-- An insight: a passage of feedback linked to a feature.
CREATE TABLE feedback_links (
    id          INTEGER PRIMARY KEY,
    feedback_id INTEGER NOT NULL REFERENCES feedback (id) ON DELETE CASCADE,
    feature_id  INTEGER NOT NULL REFERENCES features (id) ON DELETE CASCADE,
    passage     TEXT NOT NULL DEFAULT '',
    importance  TEXT NOT NULL CHECK (importance IN ('nice_to_have', 'important', 'critical')),
    created_by  INTEGER REFERENCES users (id) ON DELETE SET NULL,
    created_at  TIMESTAMP NOT NULL
);
CREATE INDEX feedback_links_feedback ON feedback_links (feedback_id);
CREATE INDEX feedback_links_feature ON feedback_links (feature_id);
