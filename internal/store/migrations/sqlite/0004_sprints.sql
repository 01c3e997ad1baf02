-- Scrum: teams with members, capacity and a board; sprints with their
-- commitment, review and retrospective; and the history of every story's
-- status, points and sprint, from which the charts are drawn.

CREATE TABLE teams (
    id         INTEGER PRIMARY KEY,
    name       TEXT NOT NULL UNIQUE,
    version    INTEGER NOT NULL DEFAULT 1,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);

CREATE TABLE team_members (
    team_id  INTEGER NOT NULL REFERENCES teams (id) ON DELETE CASCADE,
    user_id  INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    capacity INTEGER NOT NULL DEFAULT 100 CHECK (capacity BETWEEN 0 AND 100),
    days_off INTEGER NOT NULL DEFAULT 0 CHECK (days_off >= 0),
    PRIMARY KEY (team_id, user_id)
);
CREATE INDEX team_members_user ON team_members (user_id);

CREATE TABLE team_products (
    team_id    INTEGER NOT NULL REFERENCES teams (id) ON DELETE CASCADE,
    product_id INTEGER NOT NULL REFERENCES products (id) ON DELETE CASCADE,
    PRIMARY KEY (team_id, product_id)
);
CREATE INDEX team_products_product ON team_products (product_id);

CREATE TABLE board_columns (
    id        INTEGER PRIMARY KEY,
    team_id   INTEGER NOT NULL REFERENCES teams (id) ON DELETE CASCADE,
    position  INTEGER NOT NULL,
    name      TEXT NOT NULL,
    status    TEXT NOT NULL CHECK (status IN ('new', 'ready', 'in_progress', 'in_review', 'done')),
    wip_limit INTEGER CHECK (wip_limit IS NULL OR wip_limit > 0)
);
CREATE INDEX board_columns_team ON board_columns (team_id, position);

CREATE TABLE sprints (
    id               INTEGER PRIMARY KEY,
    team_id          INTEGER NOT NULL REFERENCES teams (id) ON DELETE CASCADE,
    name             TEXT NOT NULL,
    goal             TEXT NOT NULL DEFAULT '',
    start_date       DATE NOT NULL,
    end_date         DATE NOT NULL,
    status           TEXT NOT NULL CHECK (status IN ('planned', 'active', 'closed')),
    committed_points INTEGER NOT NULL DEFAULT 0,
    committed_count  INTEGER NOT NULL DEFAULT 0,
    completed_points INTEGER NOT NULL DEFAULT 0,
    completed_count  INTEGER NOT NULL DEFAULT 0,
    added_points     INTEGER NOT NULL DEFAULT 0,
    removed_points   INTEGER NOT NULL DEFAULT 0,
    went_well        TEXT NOT NULL DEFAULT '',
    to_improve       TEXT NOT NULL DEFAULT '',
    actions          TEXT NOT NULL DEFAULT '',
    started_at       TIMESTAMP,
    closed_at        TIMESTAMP,
    version          INTEGER NOT NULL DEFAULT 1,
    created_at       TIMESTAMP NOT NULL,
    updated_at       TIMESTAMP NOT NULL,
    CHECK (end_date > start_date)
);
CREATE INDEX sprints_team ON sprints (team_id, start_date);
-- One active sprint per team, whatever happens between servers.
CREATE UNIQUE INDEX sprints_one_active ON sprints (team_id) WHERE status = 'active';

-- The stories and points a sprint committed to when it started.
CREATE TABLE sprint_commitment (
    sprint_id INTEGER NOT NULL REFERENCES sprints (id) ON DELETE CASCADE,
    story_id  INTEGER NOT NULL,
    points    INTEGER,
    PRIMARY KEY (sprint_id, story_id)
);

ALTER TABLE stories ADD COLUMN sprint_id INTEGER REFERENCES sprints (id) ON DELETE SET NULL;
ALTER TABLE stories ADD COLUMN board_column_id INTEGER REFERENCES board_columns (id) ON DELETE SET NULL;
ALTER TABLE stories ADD COLUMN board_rank TEXT NOT NULL DEFAULT '';
CREATE INDEX stories_sprint ON stories (sprint_id) WHERE sprint_id IS NOT NULL;

-- Each row is a story's status, points and sprint after a change. The
-- story id is kept without a foreign key, so that the history of a
-- deleted story still counts in the charts.
CREATE TABLE story_events (
    id         INTEGER PRIMARY KEY,
    story_id   INTEGER NOT NULL,
    product_id INTEGER NOT NULL,
    sprint_id  INTEGER,
    kind       TEXT NOT NULL CHECK (kind IN ('created', 'status', 'points', 'sprint', 'deleted')),
    status     TEXT NOT NULL,
    points     INTEGER,
    actor_id   INTEGER,
    at         TIMESTAMP NOT NULL
);
CREATE INDEX story_events_story ON story_events (story_id, id);
CREATE INDEX story_events_sprint ON story_events (sprint_id) WHERE sprint_id IS NOT NULL;
CREATE INDEX story_events_product ON story_events (product_id, at);
