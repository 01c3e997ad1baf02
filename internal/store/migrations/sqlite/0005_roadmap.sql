-- Features in full: solution, scores, MVP, releases, themes, objectives
-- they serve, roadmap placement; custom score criteria; stories under
-- features; published roadmap links.

CREATE TABLE themes (
    id          INTEGER PRIMARY KEY,
    product_id  INTEGER NOT NULL REFERENCES products (id) ON DELETE CASCADE,
    name        TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    parent_id   INTEGER REFERENCES themes (id) ON DELETE SET NULL,
    UNIQUE (product_id, name)
);

CREATE TABLE releases (
    id          INTEGER PRIMARY KEY,
    product_id  INTEGER NOT NULL REFERENCES products (id) ON DELETE CASCADE,
    name        TEXT NOT NULL,
    goal        TEXT NOT NULL DEFAULT '',
    target_date DATE,
    status      TEXT NOT NULL CHECK (status IN ('planned', 'in_progress', 'released')),
    mvp         BOOLEAN NOT NULL DEFAULT 0,
    released_at TIMESTAMP,
    version     INTEGER NOT NULL DEFAULT 1,
    created_at  TIMESTAMP NOT NULL,
    updated_at  TIMESTAMP NOT NULL,
    UNIQUE (product_id, name)
);
-- One MVP release per product.
CREATE UNIQUE INDEX releases_one_mvp ON releases (product_id) WHERE mvp;

ALTER TABLE features ADD COLUMN solution TEXT NOT NULL DEFAULT '';
ALTER TABLE features ADD COLUMN rejected_reason TEXT NOT NULL DEFAULT '';
ALTER TABLE features ADD COLUMN mvp BOOLEAN NOT NULL DEFAULT 0;
ALTER TABLE features ADD COLUMN release_id INTEGER REFERENCES releases (id) ON DELETE SET NULL;
ALTER TABLE features ADD COLUMN theme_id INTEGER REFERENCES themes (id) ON DELETE SET NULL;
ALTER TABLE features ADD COLUMN owner_id INTEGER REFERENCES users (id) ON DELETE SET NULL;
ALTER TABLE features ADD COLUMN horizon TEXT NOT NULL DEFAULT '' CHECK (horizon IN ('', 'now', 'next', 'later'));
ALTER TABLE features ADD COLUMN start_date DATE;
ALTER TABLE features ADD COLUMN end_date DATE;
ALTER TABLE features ADD COLUMN moscow TEXT NOT NULL DEFAULT '' CHECK (moscow IN ('', 'must', 'should', 'could', 'wont'));
ALTER TABLE features ADD COLUMN reach REAL;
ALTER TABLE features ADD COLUMN impact REAL;
ALTER TABLE features ADD COLUMN confidence REAL CHECK (confidence IS NULL OR (confidence >= 0 AND confidence <= 100));
ALTER TABLE features ADD COLUMN effort REAL CHECK (effort IS NULL OR effort > 0);
ALTER TABLE features ADD COLUMN value REAL;
CREATE INDEX features_release ON features (release_id) WHERE release_id IS NOT NULL;

CREATE TABLE feature_objectives (
    feature_id   INTEGER NOT NULL REFERENCES features (id) ON DELETE CASCADE,
    objective_id INTEGER NOT NULL REFERENCES objectives (id) ON DELETE CASCADE,
    PRIMARY KEY (feature_id, objective_id)
);
CREATE INDEX feature_objectives_objective ON feature_objectives (objective_id);

CREATE TABLE score_criteria (
    id           INTEGER PRIMARY KEY,
    product_id   INTEGER NOT NULL REFERENCES products (id) ON DELETE CASCADE,
    name         TEXT NOT NULL,
    weight       REAL NOT NULL CHECK (weight > 0),
    kind         TEXT NOT NULL CHECK (kind IN ('manual', 'demand', 'objective')),
    objective_id INTEGER REFERENCES objectives (id) ON DELETE CASCADE,
    UNIQUE (product_id, name)
);

CREATE TABLE feature_scores (
    feature_id   INTEGER NOT NULL REFERENCES features (id) ON DELETE CASCADE,
    criterion_id INTEGER NOT NULL REFERENCES score_criteria (id) ON DELETE CASCADE,
    value        REAL NOT NULL CHECK (value >= 0 AND value <= 10),
    PRIMARY KEY (feature_id, criterion_id)
);

CREATE TABLE roadmap_links (
    id            INTEGER PRIMARY KEY,
    product_id    INTEGER NOT NULL REFERENCES products (id) ON DELETE CASCADE,
    name          TEXT NOT NULL DEFAULT '',
    secret_hash   TEXT NOT NULL UNIQUE,
    prefix        TEXT NOT NULL,
    hide_internal BOOLEAN NOT NULL DEFAULT 1,
    created_by    INTEGER REFERENCES users (id) ON DELETE SET NULL,
    created_at    TIMESTAMP NOT NULL,
    revoked_at    TIMESTAMP
);
CREATE INDEX roadmap_links_product ON roadmap_links (product_id);
