-- Closing the loop: the note a product manager writes for the people who
-- asked for a feature, who was told when it was released (in the app or by
-- mail, with how the mail went), and the addresses that unsubscribed.

CREATE TABLE feature_release_notes (
    feature_id INTEGER PRIMARY KEY REFERENCES features (id) ON DELETE CASCADE,
    note       TEXT NOT NULL,
    updated_by INTEGER REFERENCES users (id) ON DELETE SET NULL,
    updated_at TIMESTAMP NOT NULL
);

CREATE TABLE release_notices (
    id         INTEGER PRIMARY KEY,
    feature_id INTEGER NOT NULL REFERENCES features (id) ON DELETE CASCADE,
    channel    TEXT NOT NULL CHECK (channel IN ('app', 'mail')),
    user_id    INTEGER REFERENCES users (id) ON DELETE CASCADE,
    email      TEXT,
    name       TEXT NOT NULL DEFAULT '',
    status     TEXT NOT NULL CHECK (status IN ('sent', 'pending', 'failed', 'unsubscribed')),
    attempts   INTEGER NOT NULL DEFAULT 0,
    last_error TEXT NOT NULL DEFAULT '',
    -- The hash of the secret in the mail's unsubscribe link.
    token_hash TEXT,
    created_at TIMESTAMP NOT NULL,
    sent_at    TIMESTAMP
);
CREATE UNIQUE INDEX release_notices_user ON release_notices (feature_id, user_id) WHERE user_id IS NOT NULL;
CREATE UNIQUE INDEX release_notices_email ON release_notices (feature_id, email) WHERE email IS NOT NULL;
CREATE UNIQUE INDEX release_notices_token ON release_notices (token_hash) WHERE token_hash IS NOT NULL;
CREATE INDEX release_notices_pending ON release_notices (status) WHERE status = 'pending';

-- The addresses that asked for no more release mail.
CREATE TABLE mail_unsubscribes (
    email      TEXT PRIMARY KEY,
    created_at TIMESTAMP NOT NULL
);
