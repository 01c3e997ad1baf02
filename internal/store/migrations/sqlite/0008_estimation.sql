-- Planning poker: a product owner opens a round for some stories, members
-- vote (hidden until the round's story is revealed), and the agreed value
-- is kept next to who voted what.

CREATE TABLE poker_rounds (
    id         INTEGER PRIMARY KEY,
    product_id INTEGER NOT NULL REFERENCES products (id) ON DELETE CASCADE,
    title      TEXT NOT NULL,
    status     TEXT NOT NULL CHECK (status IN ('open', 'closed')),
    created_by INTEGER REFERENCES users (id) ON DELETE SET NULL,
    version    INTEGER NOT NULL DEFAULT 1,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    closed_at  TIMESTAMP
);
CREATE INDEX poker_rounds_product ON poker_rounds (product_id, id);

CREATE TABLE poker_items (
    id        INTEGER PRIMARY KEY,
    round_id  INTEGER NOT NULL REFERENCES poker_rounds (id) ON DELETE CASCADE,
    story_id  INTEGER NOT NULL REFERENCES stories (id) ON DELETE CASCADE,
    position  INTEGER NOT NULL,
    revealed  BOOLEAN NOT NULL DEFAULT 0,
    agreed    INTEGER,
    agreed_by INTEGER REFERENCES users (id) ON DELETE SET NULL,
    agreed_at TIMESTAMP,
    UNIQUE (round_id, story_id)
);
CREATE INDEX poker_items_story ON poker_items (story_id);

CREATE TABLE poker_votes (
    item_id  INTEGER NOT NULL REFERENCES poker_items (id) ON DELETE CASCADE,
    user_id  INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    points   INTEGER NOT NULL,
    voted_at TIMESTAMP NOT NULL,
    PRIMARY KEY (item_id, user_id)
);
CREATE INDEX poker_votes_user ON poker_votes (user_id);
