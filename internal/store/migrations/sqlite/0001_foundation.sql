-- Accounts, products, their lifecycle history and membership.
-- Times are stored as fixed-width UTC text ("2006-01-02 15:04:05.000000+00:00")
-- so that they sort as text; the TIMESTAMP declared type lets the driver
-- scan them back into time.Time.

CREATE TABLE settings (
    name  TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

CREATE TABLE users (
    id            INTEGER PRIMARY KEY,
    email         TEXT NOT NULL UNIQUE,
    name          TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    admin         BOOLEAN NOT NULL DEFAULT 0,
    disabled      BOOLEAN NOT NULL DEFAULT 0,
    created_at    TIMESTAMP NOT NULL,
    updated_at    TIMESTAMP NOT NULL
);

CREATE TABLE sessions (
    id           INTEGER PRIMARY KEY,
    secret_hash  TEXT NOT NULL UNIQUE,
    user_id      INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at   TIMESTAMP NOT NULL,
    expires_at   TIMESTAMP NOT NULL,
    last_seen_at TIMESTAMP NOT NULL
);
CREATE INDEX sessions_user ON sessions (user_id);

CREATE TABLE tokens (
    id           INTEGER PRIMARY KEY,
    user_id      INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name         TEXT NOT NULL,
    prefix       TEXT NOT NULL,
    secret_hash  TEXT NOT NULL UNIQUE,
    created_at   TIMESTAMP NOT NULL,
    last_used_at TIMESTAMP
);
CREATE INDEX tokens_user ON tokens (user_id);

CREATE TABLE products (
    id          INTEGER PRIMARY KEY,
    key         TEXT NOT NULL UNIQUE,
    name        TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    vision      TEXT NOT NULL DEFAULT '',
    stage       TEXT NOT NULL CHECK (stage IN ('conceived', 'development', 'introduction', 'growth', 'maturity', 'decline', 'retired')),
    archived    BOOLEAN NOT NULL DEFAULT 0,
    version     INTEGER NOT NULL DEFAULT 1,
    last_number INTEGER NOT NULL DEFAULT 0,
    created_by  INTEGER REFERENCES users (id) ON DELETE SET NULL,
    created_at  TIMESTAMP NOT NULL,
    updated_at  TIMESTAMP NOT NULL
);

CREATE TABLE product_stages (
    id         INTEGER PRIMARY KEY,
    product_id INTEGER NOT NULL REFERENCES products (id) ON DELETE CASCADE,
    from_stage TEXT,
    to_stage   TEXT NOT NULL,
    note       TEXT NOT NULL DEFAULT '',
    actor_id   INTEGER REFERENCES users (id) ON DELETE SET NULL,
    at         TIMESTAMP NOT NULL
);
CREATE INDEX product_stages_product ON product_stages (product_id, id);

-- The lifecycle history is append-only: no route edits it, and the database
-- refuses to as well.
CREATE TRIGGER product_stages_append_only BEFORE UPDATE ON product_stages
BEGIN
    SELECT RAISE(ABORT, 'product_stages is append-only');
END;

CREATE TABLE members (
    product_id INTEGER NOT NULL REFERENCES products (id) ON DELETE CASCADE,
    user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role       TEXT NOT NULL CHECK (role IN ('product_manager', 'product_owner', 'developer', 'stakeholder', 'viewer')),
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (product_id, user_id)
);
CREATE INDEX members_user ON members (user_id);

CREATE TABLE invitations (
    id          INTEGER PRIMARY KEY,
    email       TEXT NOT NULL,
    product_id  INTEGER REFERENCES products (id) ON DELETE CASCADE,
    role        TEXT,
    secret_hash TEXT NOT NULL UNIQUE,
    invited_by  INTEGER REFERENCES users (id) ON DELETE SET NULL,
    created_at  TIMESTAMP NOT NULL,
    expires_at  TIMESTAMP NOT NULL,
    accepted_at TIMESTAMP
);
CREATE INDEX invitations_email ON invitations (email);
